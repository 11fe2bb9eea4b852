"""mnp.nn: modules, layers, losses, initialisation and functional ops on mnp.core.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
>>> loss = nn.MSELoss()(model(mnp.zeros((4, 2))), mnp.ones((4, 1)))
>>> loss.backward()
>>> model[0].weight.grad.shape
(4, 2)
"""
from __future__ import annotations

from ._util import ArgumentError, IndexOutOfRangeError
from .parameter import Parameter
from .module import IncompatibleKeys, Module, ModuleError, RemovableHandle, StateDictError
from .containers import ModuleDict, ModuleList, Sequential
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh,
                         LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid,
                         SiLU, Softmax, Softmin, Softplus, Softsign, Tanh, Threshold)
from .conv import Conv1d, Conv2d
from .conv3d import Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .fold import Fold, Unfold
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                      ZeroPad3d)
from .dropout import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d,
                      FeatureAlphaDropout)
from .embedding import Embedding
from .flatten import Flatten
from .linear import Dense, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .local_response_norm import LocalResponseNorm
from .pool import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .pool3d import AvgPool3d, MaxPool3d
from .adaptive_pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                            AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d)
from .lp_pool import LPPool1d, LPPool2d, LPPool3d
from .unpool import MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .shuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                     SoftmaxCrossEntropy)
from .losses_regression import (GaussianNLLLoss, HuberLoss, KLDivLoss, MultiLabelSoftMarginLoss,
                                PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss)
from .losses_margin import (CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss,
                            MultiMarginLoss, TripletMarginLoss)
from .ctc import CTCLoss
from .distance import CosineSimilarity, PairwiseDistance
from . import functional, init, utils
from .attention import MultiheadAttention
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .serialization import (ModelFormatError, load, load_checkpoint, load_model,
                            load_state_dict, save, save_checkpoint, save_model, save_state_dict)
from .trainer import History, Trainer
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from . import metrics

try:
    from importlib.metadata import version as _version
    __version__ = _version("mnp-nn")
except Exception:  # running from a source tree
    __version__ = "0.0.0"
