"""The mnp plugin of mnp-nn (entry point ``nn`` in group ``mnp``): registers its layers,
losses, metrics and ``numpy`` reference kernels through core's hooks."""
from __future__ import annotations

from mnp.core import hookimpl

#: the op families whose ``KERNELS`` (name -> numpy reference kernel) are registered
FAMILIES = ("conv", "pool", "losses", "norm", "attention", "rnn", "linear", "activation")

#: the families whose ``LOSSES`` (name -> loss module) are registered
LOSS_FAMILIES = ("losses", "losses_regression", "losses_margin", "ctc")

#: the layer classes registered by name (saved models name them)
LAYERS = {
    "linear": ("Linear", "Dense", "Identity"),
    "conv": ("Conv1d", "Conv2d"),
    "conv3d": ("Conv3d",),
    "conv_transpose": ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "fold": ("Unfold", "Fold"),
    "padding": ("ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
                "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
                "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
                "CircularPad2d", "CircularPad3d"),
    "pool": ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"),
    "pool3d": ("MaxPool3d", "AvgPool3d"),
    "adaptive_pool": ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                      "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"),
    "lp_pool": ("LPPool1d", "LPPool2d", "LPPool3d"),
    "unpool": ("MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"),
    "upsample": ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
    "shuffle": ("PixelShuffle", "PixelUnshuffle", "ChannelShuffle"),
    "norm": ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "RMSNorm"),
    "instance_norm": ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
    "local_response_norm": ("LocalResponseNorm",),
    "dropout": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"),
    "flatten": ("Flatten",),
    "distance": ("CosineSimilarity", "PairwiseDistance"),
    "embedding": ("Embedding",),
    "activation": ("ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax",
                   "SiLU", "Mish", "ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardswish",
                   "Hardsigmoid", "Hardtanh", "ReLU6", "LogSigmoid", "PReLU", "GLU", "Softmin",
                   "Threshold"),
    "rnn": ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"),
    "attention": ("MultiheadAttention",),
    "transformer": ("TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
                    "TransformerDecoder", "Transformer"),
    "containers": ("Sequential", "ModuleList", "ModuleDict"),
}


def _family(name: str):
    import importlib
    return importlib.import_module(f"{__package__}.{name}")


def kernels() -> dict:
    """Every family's ``numpy`` reference kernels, by kernel name."""
    out: dict = {}
    for family in FAMILIES:
        out.update(_family(family).KERNELS)
    return out


@hookimpl
def mnp_register_kernels(register) -> None:
    for name, fn in kernels().items():
        register("numpy", name, fn)


@hookimpl
def mnp_register_layers(register) -> None:
    for family, names in LAYERS.items():
        module = _family(family)
        for name in names:
            register(name, getattr(module, name))


@hookimpl
def mnp_register_losses(register) -> None:
    for family in LOSS_FAMILIES:
        for name, cls in _family(family).LOSSES.items():
            register(name, cls)


@hookimpl
def mnp_register_metrics(register) -> None:
    from .metrics import METRICS
    for name, fn in METRICS.items():
        register(name, fn)
