"""Layers, losses and functional ops take whatever `mnp.tensor` takes (a Tensor, a numpy
array, nested lists) with the same result; a float64 input into float32 parameters is a
DTypeError naming the layer and both dtypes, as PyTorch refuses it too."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F

rng = np.random.default_rng(0)
X2 = rng.standard_normal((4, 3)).astype(np.float32)
X3 = rng.standard_normal((2, 3, 6)).astype(np.float32)
X4 = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
IDX = np.array([[0, 2], [1, 3]])
TARGET = np.array([0, 2, 1, 1])
PROB = rng.random((4, 3)).astype(np.float32)

# name, factory, inputs
LAYERS = [
    ("Linear", lambda: nn.Linear(3, 2), [X2]),
    ("Conv2d", lambda: nn.Conv2d(3, 2, 3), [X4]),
    ("Conv1d", lambda: nn.Conv1d(3, 2, 3), [X3]),
    ("ReLU", nn.ReLU, [X2]), ("Sigmoid", nn.Sigmoid, [X2]), ("Tanh", nn.Tanh, [X2]),
    ("LeakyReLU", nn.LeakyReLU, [X2]), ("GELU", nn.GELU, [X2]),
    ("Softmax", lambda: nn.Softmax(-1), [X2]), ("LogSoftmax", lambda: nn.LogSoftmax(-1), [X2]),
    ("Dropout", lambda: nn.Dropout(0.5).eval(), [X2]), ("Flatten", nn.Flatten, [X4]),
    ("Embedding", lambda: nn.Embedding(5, 2), [IDX]),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3), [X2]),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(3), [X4]),
    ("LayerNorm", lambda: nn.LayerNorm(3), [X2]),
    ("GroupNorm", lambda: nn.GroupNorm(3, 3), [X4]),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), [X4]), ("MaxPool1d", lambda: nn.MaxPool1d(2), [X3]),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), [X4]), ("AvgPool1d", lambda: nn.AvgPool1d(2), [X3]),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((4, 5)), [X4]),
    ("AdaptiveMaxPool1d", lambda: nn.AdaptiveMaxPool1d(4), [X3]),
    ("MaxPool3d", lambda: nn.MaxPool3d(2), [X4]), ("AvgPool3d", lambda: nn.AvgPool3d(2), [X4]),
    ("Upsample", lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), [X4]),
    ("PixelUnshuffle", lambda: nn.PixelUnshuffle(2), [X4]),
    ("Sequential", lambda: nn.Sequential(nn.Linear(3, 2), nn.ReLU()), [X2]),
    ("MSELoss", nn.MSELoss, [X2, PROB]), ("L1Loss", nn.L1Loss, [X2, PROB]),
    ("BCELoss", nn.BCELoss, [PROB, PROB]), ("BCEWithLogitsLoss", nn.BCEWithLogitsLoss, [X2, PROB]),
    ("CrossEntropyLoss", nn.CrossEntropyLoss, [X2, TARGET]), ("NLLLoss", nn.NLLLoss, [X2, TARGET]),
]


def _forms(args):
    return {"numpy": list(args), "list": [a.tolist() for a in args]}


@pytest.mark.parametrize("form", ["numpy", "list"])
@pytest.mark.parametrize("name, make, args", LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_take_what_tensor_takes(name, make, args, form):
    mnp.manual_seed(0)
    expect = make()(*[mnp.tensor(a) for a in args])
    mnp.manual_seed(0)
    got = make()(*_forms(args)[form])
    assert got.dtype == expect.dtype and got.shape == expect.shape
    np.testing.assert_array_equal(got.numpy(), expect.numpy())


FUNCTIONAL = [
    ("linear", lambda x: F.linear(x, np.ones((2, 3), np.float32)), X2),
    ("conv2d", lambda x: F.conv2d(x, np.ones((2, 3, 3, 3), np.float32)), X4),
    ("conv1d", lambda x: F.conv1d(x, np.ones((2, 3, 3), np.float32)), X3),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), X4), ("avg_pool1d", lambda x: F.avg_pool1d(x, 2), X3),
    ("layer_norm", lambda x: F.layer_norm(x, (3,)), X2),
    ("group_norm", lambda x: F.group_norm(x, 1, np.ones(3, np.float32)), X3),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), X2),
    ("softmax", lambda x: F.softmax(x, -1), X2), ("relu", F.relu, X2), ("gelu", F.gelu, X2),
    ("flatten", F.flatten, X4), ("dropout", lambda x: F.dropout(x, 0.5, training=False), X2),
    ("mse_loss", lambda x: F.mse_loss(x, PROB.tolist()), X2),
    ("cross_entropy", lambda x: F.cross_entropy(x, TARGET.tolist()), X2),
    ("getitem", lambda x: mnp.getitem(x, (0, [0, 2])), X2),
]


@pytest.mark.parametrize("name, call, x", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_ops_take_what_tensor_takes(name, call, x):
    expect = call(mnp.tensor(x))
    for form in (x, x.tolist()):
        got = call(form)
        assert got.dtype == expect.dtype
        np.testing.assert_array_equal(got.numpy(), expect.numpy())


WEIGHTED = [
    ("Linear", lambda T: T.nn.Linear(3, 2), (4, 3)),
    ("Conv2d", lambda T: T.nn.Conv2d(3, 2, 3), (2, 3, 6, 6)),
    ("Conv1d", lambda T: T.nn.Conv1d(3, 2, 3), (2, 3, 6)),
    ("BatchNorm1d", lambda T: T.nn.BatchNorm1d(3), (4, 3)),
    ("LayerNorm", lambda T: T.nn.LayerNorm(3), (4, 3)),
    ("GroupNorm", lambda T: T.nn.GroupNorm(1, 3), (4, 3, 2)),
    ("LSTM", lambda T: T.nn.LSTM(3, 2), (5, 2, 3)),
    ("GRU", lambda T: T.nn.GRU(3, 2), (5, 2, 3)),
    ("LSTMCell", lambda T: T.nn.LSTMCell(3, 2), (4, 3)),
    ("RNNCell", lambda T: T.nn.RNNCell(3, 2), (4, 3)),
]


@pytest.mark.parametrize("name, make, shape", WEIGHTED, ids=[c[0] for c in WEIGHTED])
@pytest.mark.parametrize("dtype", ["float64", "float16", "int64"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_input_dtype_must_match_the_parameters_as_in_torch(torch, name, make, shape, dtype, mode):
    """Refused where PyTorch refuses; the normalisations take float16 into float32
    parameters, as PyTorch does, and answer in float16."""
    data = np.ones(shape, dtype)
    mnp_nn = type("M", (), {"nn": nn})
    layer, tlayer = make(mnp_nn), make(torch)
    if mode == "eval":
        layer.eval(), tlayer.eval()
    try:
        expect = tlayer(torch.tensor(data))
    except (RuntimeError, ValueError):       # NotImplementedError is a RuntimeError
        with pytest.raises(mnp.DTypeError) as info:
            layer(data)
        msg = str(info.value)
        assert msg.startswith(f"{name}: ") and dtype in msg and "float32" in msg, msg
        if dtype.startswith("float"):
            out = layer.to(dtype)(data)                             # converted layer: fine
            assert (out[0] if isinstance(out, tuple) else out).dtype == np.dtype(dtype)
        return
    assert layer(data).dtype.name == str(expect.dtype).replace("torch.", "")


@pytest.mark.parametrize("call", [
    lambda: F.linear(np.ones((2, 3)), np.ones((4, 3), np.float32)),
    lambda: F.conv2d(np.ones((1, 3, 4, 4), np.float32), np.ones((2, 3, 3, 3), np.float32),
                     np.ones(2)),
    lambda: F.layer_norm(np.ones((2, 3)), (3,), np.ones(3, np.float32)),
])
def test_functional_forms_refuse_mixed_dtypes(call):
    with pytest.raises(mnp.DTypeError, match="float64"):
        call()
