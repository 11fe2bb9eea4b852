"""Linear, Conv1d and Conv2d against PyTorch (outputs and every gradient), float64 grad checks,
and the errors bad input gives."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core import ArgumentError
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)


def _parity(ours, theirs, x_np, rng):
    """Our module and the torch one, given our parameters, agree in output and every gradient."""
    copy_parameters(ours, theirs)
    assert_matches_torch(ours, theirs, x_np, rng=rng)
    assert_parameter_grads_match(ours, theirs, what="grad of ")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_torch(torch, rng, bias, shape):
    ours, theirs = nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias)
    _parity(ours, theirs, rng.standard_normal(shape), rng)


def test_dense_is_linear():
    assert nn.Dense is nn.Linear


CONV2D_CASES = [
    # (in, out, kernel, stride, padding, dilation, input shape)
    (1, 8, 3, 1, 1, 1, (2, 1, 9, 9)),
    (3, 4, (3, 2), (2, 1), (1, 0), 1, (2, 3, 8, 7)),
    (2, 3, 3, 2, 2, 2, (1, 2, 11, 10)),
    (4, 5, 1, 1, 0, 1, (3, 4, 5, 6)),
    (2, 2, 2, 3, 0, 1, (2, 2, 7, 7)),
    (3, 2, (1, 3), 1, (0, 2), (1, 2), (2, 3, 4, 9)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_torch(torch, rng, case, bias):
    cin, cout, k, s, p, d, shape = case
    ours = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias)
    theirs = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias)
    _parity(ours, theirs, rng.standard_normal(shape), rng)


CONV1D_CASES = [
    (1, 4, 3, 1, 1, 1, (2, 1, 10)),
    (3, 2, 4, 2, 0, 1, (3, 3, 13)),
    (2, 3, 3, 1, 2, 2, (2, 2, 9)),
    (2, 2, 1, 3, 0, 1, (1, 2, 8)),
]


@pytest.mark.parametrize("case", CONV1D_CASES)
def test_conv1d_matches_torch(torch, rng, case):
    cin, cout, k, s, p, d, shape = case
    ours = nn.Conv1d(cin, cout, k, stride=s, padding=p, dilation=d)
    theirs = torch.nn.Conv1d(cin, cout, k, stride=s, padding=p, dilation=d)
    _parity(ours, theirs, rng.standard_normal(shape), rng)


def test_conv_padding_same_and_unbatched(torch, rng):
    ours, theirs = nn.Conv2d(2, 3, 3, padding="same"), torch.nn.Conv2d(2, 3, 3, padding="same")
    _parity(ours, theirs, rng.standard_normal((2, 2, 6, 5)), rng)
    x = rng.standard_normal((2, 6, 5)).astype(np.float32)
    with torch.no_grad():
        assert_close(ours(mnp.tensor(x)), theirs(torch.from_numpy(x)), **F32)
    ours1, theirs1 = nn.Conv1d(2, 3, 5, padding="same"), torch.nn.Conv1d(2, 3, 5, padding="same")
    _parity(ours1, theirs1, rng.standard_normal((2, 2, 7)), rng)


@pytest.mark.filterwarnings("ignore:Using padding='same'")      # torch's own, on its copy
@pytest.mark.parametrize("k, d", [(4, 1), ((2, 3), 1), (2, (2, 3)), ((4, 1), (1, 2))])
def test_conv2d_padding_same_with_an_odd_total_pads_after_as_torch(torch, rng, k, d):
    ours = nn.Conv2d(2, 3, k, padding="same", dilation=d)
    theirs = torch.nn.Conv2d(2, 3, k, padding="same", dilation=d)
    _parity(ours, theirs, rng.standard_normal((2, 2, 7, 6)), rng)
    assert ours(mnp.randn(1, 2, 7, 6)).shape == (1, 3, 7, 6)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv1d_padding_same_with_an_even_kernel(torch, rng):
    ours, theirs = nn.Conv1d(2, 3, 4, padding="same"), torch.nn.Conv1d(2, 3, 4, padding="same")
    _parity(ours, theirs, rng.standard_normal((2, 2, 9)), rng)


def test_conv2d_padding_same_odd_total_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((1, 2, 5, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((2, 2, 2, 3)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w: F.conv2d(x, w, padding="same"), [x, w])


def test_conv_padding_same_needs_stride_1():
    with pytest.raises(ArgumentError, match=r"conv2d: padding='same' needs stride 1"):
        F.conv2d(mnp.randn(1, 1, 5, 5), mnp.randn(1, 1, 3, 3), stride=2, padding="same")


def test_conv2d_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 2, 5, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((3, 2, 3, 2)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(3), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1,
                                                   dilation=(1, 2)), [x, w, b])


def test_conv1d_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 2, 7)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((3, 2, 3)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w: F.conv1d(x, w, None, stride=2, padding=1), [x, w])


def test_linear_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 3, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((5, 4)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(5), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(F.linear, [x, w, b])


def test_default_init_bounds_match_pytorch():
    mnp.manual_seed(0)
    lin = nn.Linear(50, 400)
    bound = 1 / np.sqrt(50)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.95 * bound          # really U(-b, b), not narrower
    assert abs(lin.weight.data.std() - bound / np.sqrt(3)) < 0.02 * bound
    conv = nn.Conv2d(4, 64, 3)
    cb = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.data).max() <= cb and np.abs(conv.bias.data).max() <= cb
    assert conv.weight.dtype == np.float32


def test_init_is_reproducible_with_manual_seed():
    mnp.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).weight.data.copy()
    mnp.manual_seed(3)
    assert np.array_equal(a, nn.Conv2d(2, 3, 3).weight.data)


def test_linear_wrong_feature_size_names_layer_and_shapes():
    with pytest.raises(mnp.ShapeError, match=r"Linear.*\(4, 5\).*in_features=3"):
        nn.Linear(3, 2)(mnp.zeros((4, 5)))
    with pytest.raises(mnp.ShapeError, match=r"linear.*\(4, 5\).*\(2, 3\)"):
        F.linear(mnp.zeros((4, 5)), mnp.zeros((2, 3)))


def test_conv_wrong_channels_names_layer_and_shapes():
    with pytest.raises(mnp.ShapeError, match=r"Conv2d.*\(2, 4, 8, 8\).*in_channels=3"):
        nn.Conv2d(3, 2, 3)(mnp.zeros((2, 4, 8, 8)))
    with pytest.raises(mnp.ShapeError, match=r"Conv1d.*\(2, 8\)"):
        nn.Conv1d(3, 2, 3)(mnp.zeros((2, 8)))
    with pytest.raises(mnp.ShapeError, match=r"conv2d.*\(1, 3, 2, 2\).*too small"):
        F.conv2d(mnp.zeros((1, 3, 2, 2)), mnp.zeros((2, 3, 3, 3)))
    with pytest.raises(mnp.MnpError, match="stride"):
        nn.Conv2d(3, 2, 3, stride=0)


def test_conv_repr_like_pytorch(torch):
    for args, kw in [((1, 8, 3), {}), ((3, 4, (3, 2)), {"stride": 2, "padding": 1, "bias": False}),
                     ((2, 3, 3), {"dilation": 2})]:
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    assert repr(nn.Conv1d(2, 3, 5, padding=2)) == repr(torch.nn.Conv1d(2, 3, 5, padding=2))
    assert repr(nn.Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))
