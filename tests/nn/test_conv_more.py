"""Grouped and depthwise convolution, padding modes, Conv3d, the transposed convolutions and
Unfold/Fold against PyTorch (outputs, input, weight and bias gradients), float64 finite
differences, errors, reprs and PyTorch state dicts."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)

F64 = {"rtol": 1e-9, "atol": 1e-10}
DTYPES = [np.float32, np.float64]


def _pair(torch, name, args, kw, dtype):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    if dtype == np.float64:
        ours, theirs = ours.to(mnp.float64), theirs.double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    copy_parameters(ours, theirs)
    return ours, theirs


def _check(torch, rng, name, args, kw, shape, dtype):
    ours, theirs = _pair(torch, name, args, kw, dtype)
    tol = F32 if dtype == np.float32 else F64
    y, _ = assert_matches_torch(ours, theirs, rng.standard_normal(shape), rng=rng, dtype=dtype,
                                what=f"{name}{args}{kw}", **tol)
    assert y.dtype == dtype and ours.weight.grad.dtype == dtype
    assert_parameter_grads_match(ours, theirs, what=f"{name}{args}{kw} ", **tol)
    assert repr(ours) == repr(theirs)


CONV = [  # layer, (in, out, kernel), options, input shape
    ("Conv2d", (4, 6, 3), {"groups": 2, "padding": 1}, (2, 4, 6, 5)),
    ("Conv2d", (4, 8, (3, 2)), {"groups": 4, "stride": (2, 1), "dilation": (1, 2)}, (2, 4, 7, 6)),
    ("Conv2d", (3, 3, 3), {"groups": 3, "bias": False}, (1, 3, 5, 5)),           # depthwise
    ("Conv2d", (4, 6, 4), {"groups": 2, "padding": "same", "padding_mode": "reflect"}, (2, 4, 6, 5)),
    ("Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "circular"}, (2, 2, 5, 4)),
    ("Conv2d", (2, 3, 3), {"padding": 2, "stride": 2, "padding_mode": "replicate"}, (2, 2, 5, 6)),
    ("Conv2d", (2, 4, 2), {"padding": "same", "dilation": 3, "groups": 2}, (1, 2, 7, 7)),
    ("Conv1d", (4, 4, 3), {"groups": 4, "padding": 2, "padding_mode": "reflect"}, (2, 4, 9)),
    ("Conv1d", (6, 4, 4), {"groups": 2, "padding": "same", "padding_mode": "circular"}, (2, 6, 7)),
    ("Conv1d", (2, 4, 3), {"padding": 1, "stride": 2, "padding_mode": "replicate"}, (3, 2, 8)),
    ("Conv3d", (4, 6, 3), {"groups": 2, "padding": (1, 0, 1), "stride": (2, 1, 2),
                           "dilation": (1, 2, 1)}, (2, 4, 5, 6, 5)),
    ("Conv3d", (2, 3, (2, 3, 2)), {"padding": "same"}, (1, 2, 4, 5, 3)),
    ("Conv3d", (2, 2, 3), {"padding": 1, "padding_mode": "circular", "bias": False}, (2, 2, 3, 4, 3)),
    ("Conv3d", (2, 2, 2), {"padding": (0, 1, 1), "padding_mode": "reflect"}, (2, 3, 4, 3)),  # unbatched
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name,args,kw,shape", CONV, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV)])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv_options_match_torch(torch, rng, name, args, kw, shape, dtype):
    _check(torch, rng, name, args, kw, shape, dtype)


TRANSPOSED = [
    ("ConvTranspose2d", (4, 6, 3), {"groups": 2, "padding": 1, "stride": 2, "output_padding": 1},
     (2, 4, 4, 3)),
    ("ConvTranspose2d", (2, 3, (3, 2)), {"stride": (2, 3), "dilation": (2, 1),
                                          "output_padding": (1, 2)}, (2, 2, 3, 4)),
    ("ConvTranspose2d", (3, 6, 3), {"groups": 3, "bias": False}, (3, 4, 4)),      # unbatched
    ("ConvTranspose1d", (4, 2, 3), {"groups": 2, "stride": 3, "padding": 2, "output_padding": 2},
     (2, 4, 5)),
    ("ConvTranspose1d", (2, 3, 4), {"dilation": 2, "padding": 1}, (1, 2, 6)),
    ("ConvTranspose3d", (4, 2, (2, 3, 2)), {"groups": 2, "stride": (2, 1, 2), "padding": (0, 1, 1),
                                             "output_padding": (1, 0, 0), "dilation": (1, 1, 2)},
     (2, 4, 3, 3, 2)),
    ("ConvTranspose3d", (2, 3, 2), {"bias": False}, (2, 2, 3, 2)),                # unbatched
]


@pytest.mark.parametrize("name,args,kw,shape", TRANSPOSED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TRANSPOSED)])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv_transpose_matches_torch(torch, rng, name, args, kw, shape, dtype):
    _check(torch, rng, name, args, kw, shape, dtype)


def test_conv_transpose_output_size_matches_torch(torch, rng):
    ours, theirs = _pair(torch, "ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1},
                         np.float32)
    for size in [(9, 10), [1, 2, 10, 9]]:
        assert_matches_torch(lambda x: ours(x, output_size=size),
                             lambda x: theirs(x, output_size=size), rng.standard_normal((1, 4, 5, 5)),
                             rng=rng)
    with pytest.raises(mnp.ShapeError, match=r"output_size \(11, 9\) is not reachable"):
        ours(mnp.zeros((1, 4, 5, 5)), output_size=(11, 9))


@pytest.mark.parametrize("groups", [1, 2])
def test_functional_forms_match_torch(torch, rng, groups):
    tf = torch.nn.functional
    x, x3 = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((2, 4, 3, 4, 5))
    w, b = rng.standard_normal((6, 4 // groups, 3, 2)), rng.standard_normal(6)
    w3 = rng.standard_normal((4, 4 // groups, 2, 3, 2))
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, 2, (1, 0), 1, groups),
                         lambda x, w, b: tf.conv2d(x, w, b, 2, (1, 0), 1, groups), x, w, b, rng=rng)
    assert_matches_torch(lambda x, w: F.conv3d(x, w, None, (1, 2, 1), 1, (2, 1, 1), groups),
                         lambda x, w: tf.conv3d(x, w, None, (1, 2, 1), 1, (2, 1, 1), groups),
                         x3, w3, rng=rng)
    wt = rng.standard_normal((4, 6 // groups, 3, 2))
    assert_matches_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, (1, 0), groups, 1),
                         lambda x, w, b: tf.conv_transpose2d(x, w, b, 2, 1, (1, 0), groups, 1),
                         x, wt, b, rng=rng)
    wt3 = rng.standard_normal((4, 4 // groups, 2, 2, 3))
    assert_matches_torch(lambda x, w: F.conv_transpose3d(x, w, None, (2, 1, 1), 1, (1, 0, 0), groups),
                         lambda x, w: tf.conv_transpose3d(x, w, None, (2, 1, 1), 1, (1, 0, 0), groups),
                         x3, wt3, rng=rng)
    assert_matches_torch(lambda x, w: F.conv_transpose1d(x, w, None, 2, 0, 1, groups, 2),
                         lambda x, w: tf.conv_transpose1d(x, w, None, 2, 0, 1, groups, 2),
                         x[:, :, 0], wt[:, :, 0], rng=rng)


@pytest.mark.parametrize("kw", [{"kernel_size": 2},
                                {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1,
                                 "stride": (2, 1)}])
def test_unfold_and_fold_match_torch(torch, rng, kw):
    tf = torch.nn.functional
    x = rng.standard_normal((2, 3, 6, 7))
    assert_matches_torch(lambda t: F.unfold(t, **kw), lambda t: tf.unfold(t, **kw), x, rng=rng)
    assert_matches_torch(nn.Unfold(**kw), torch.nn.Unfold(**kw), x[0], rng=rng)
    cols = tf.unfold(torch.zeros(x.shape), **kw).shape
    assert_matches_torch(lambda t: F.fold(t, (6, 7), **kw), lambda t: tf.fold(t, (6, 7), **kw),
                         rng.standard_normal(tuple(cols)), rng=rng, dtype=np.float64, **F64)
    assert_matches_torch(nn.Fold((6, 7), **kw), torch.nn.Fold((6, 7), **kw),
                         rng.standard_normal(tuple(cols)[1:]), rng=rng)
    assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
    assert repr(nn.Fold((6, 7), **kw)) == repr(torch.nn.Fold((6, 7), **kw))


def test_grad_check_float64(rng):
    def t(*shape):
        return mnp.tensor(rng.standard_normal(shape), requires_grad=True)
    x, w, b = t(1, 4, 4, 3), t(4, 2, 3, 2), t(4)
    assert mnp.grad_check(lambda x, w, b: F.conv2d(x, w, b, 1, 1, 1, 2), [x, w, b])
    x3, w3 = t(1, 2, 4, 3, 3), t(2, 1, 2, 2, 2)
    assert mnp.grad_check(lambda x, w: F.conv3d(x, w, None, (2, 1, 1), 1, 1, 2), [x3, w3])
    wt, bt = t(4, 3, 2, 3), t(6)
    assert mnp.grad_check(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2), [x, wt, bt])
    assert mnp.grad_check(lambda x, w: F.conv_transpose3d(x, w, None, (1, 2, 1), (1, 0, 0),
                                                          (0, 1, 0), 2), [x3, t(2, 1, 2, 2, 2)])
    assert mnp.grad_check(lambda x: F.fold(F.unfold(x, 2, 1, 1, 2) * 1.5, (4, 3), 2, 1, 1, 2), [x])
    conv = nn.Conv1d(2, 2, 3, padding=2, padding_mode="reflect").to(mnp.float64)
    assert mnp.grad_check(lambda x: conv(x), [t(2, 2, 5)])


@pytest.mark.parametrize("name", ["Conv2d", "Conv3d", "ConvTranspose2d", "ConvTranspose1d",
                                  "ConvTranspose3d"])
def test_torch_state_dict_loads(torch, rng, name):
    kw = {"groups": 2, "stride": 2} if name != "Conv3d" else {"groups": 2, "padding": 1}
    theirs = getattr(torch.nn, name)(4, 6, 3, **kw)
    ours = getattr(nn, name)(4, 6, 3, **kw)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    shape = {"Conv2d": (1, 4, 7, 7), "Conv3d": (1, 4, 3, 4, 4), "ConvTranspose2d": (1, 4, 3, 4),
             "ConvTranspose1d": (2, 4, 5), "ConvTranspose3d": (1, 4, 2, 3, 2)}[name]
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(ours(mnp.tensor(x)), theirs(torch.from_numpy(x)).detach(), **F32)
    rebuilt = type(ours).from_config(json.loads(json.dumps(ours.get_config())))
    assert repr(rebuilt) == repr(ours) == repr(theirs)
    assert mnp.registry("layers")[name] is type(ours)


def test_bias_bound_of_transposed_conv_follows_its_weight():
    layer = nn.ConvTranspose2d(64, 2, 3)          # fan_in = out_channels / groups * 9 = 18
    assert layer.bias.shape == (2,)
    assert np.abs(layer.bias.data).max() <= 1 / np.sqrt(18)


@pytest.mark.parametrize("make,error,match", [
    (lambda: nn.Conv2d(4, 6, 3, groups=3), mnp.ArgumentError, r"Conv2d: in_channels \(4\).*groups \(3\)"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=4), mnp.ArgumentError, r"out_channels \(6\).*groups \(4\)"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), mnp.ArgumentError, "groups must be a positive int"),
    (lambda: nn.Conv1d(2, 2, 3, padding="full"), mnp.ArgumentError, "'valid' or 'same'"),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding="same"), mnp.ArgumentError, "needs stride 1"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), mnp.ArgumentError, "padding_mode must be"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), mnp.ArgumentError, "'zeros'"),
    (lambda: nn.ConvTranspose1d(2, 2, 3, padding="same"), mnp.ArgumentError, "int or a tuple"),
    (lambda: F.conv2d(mnp.zeros((1, 4, 5, 5)), mnp.zeros((6, 3, 3, 3)), groups=2), mnp.ShapeError,
     r"4 channels.*groups=2 expects 6"),
    (lambda: F.conv2d(mnp.zeros((1, 4, 5, 5)), mnp.zeros((5, 2, 3, 3)), groups=2),
     mnp.ArgumentError, r"out_channels \(5\).*groups \(2\)"),
    (lambda: F.conv_transpose2d(mnp.zeros((1, 2, 3, 3)), mnp.zeros((2, 1, 3, 3)), stride=2,
                                output_padding=2), mnp.ArgumentError, "output_padding"),
    (lambda: F.conv_transpose2d(mnp.zeros((1, 2, 1, 1)), mnp.zeros((2, 1, 3, 3)), padding=2),
     mnp.ShapeError, "empty output"),
    (lambda: F.conv3d(mnp.zeros((1, 2, 2, 5, 5)), mnp.zeros((1, 2, 3, 3, 3))), mnp.ShapeError,
     "too small"),
    (lambda: F.fold(mnp.zeros((1, 12, 5)), (4, 4), 2), mnp.ShapeError, "has 5 blocks.*holds 3\\*3"),
    (lambda: F.fold(mnp.zeros((1, 10, 9)), (4, 4), 2), mnp.ShapeError, "divisible by"),
    (lambda: F.unfold(mnp.zeros((4, 4)), 2), mnp.ShapeError, "4-d input"),
])
def test_errors(torch, make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_torch_refuses_the_same_arguments(torch):
    with pytest.raises(ValueError):
        torch.nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.zeros(1, 4, 5, 5), torch.zeros(6, 3, 3, 3), groups=2)


def test_empty_batch_keeps_shapes():
    assert nn.Conv2d(4, 4, 3, groups=4)(mnp.zeros((0, 4, 5, 5))).shape == (0, 4, 3, 3)
    assert nn.Conv3d(2, 2, 3)(mnp.zeros((0, 2, 3, 3, 3))).shape == (0, 2, 1, 1, 1)
    assert nn.ConvTranspose2d(2, 4, 3, groups=2)(mnp.zeros((0, 2, 2, 2))).shape == (0, 4, 4, 4)


@pytest.mark.parametrize("name", ["Conv1d", "Conv3d", "ConvTranspose2d"])
def test_dtype_and_device_arguments(name):
    layer = getattr(nn, name)(2, 4, 3, groups=2, device="cpu", dtype=mnp.float64)
    assert layer.weight.dtype == layer.bias.dtype == np.float64
    assert type(layer).from_config(json.loads(json.dumps(layer.get_config()))).weight.dtype == np.float64
    with pytest.raises(mnp.ArgumentError, match=f"{name}: device 'cuda' is not available"):
        getattr(nn, name)(2, 4, 3, device="cuda")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(0, 4), st.integers(0, 2 ** 16))
def test_conv_transpose_is_the_adjoint_of_conv(k, s, groups, p, d, extra, seed):
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the sizes conv maps x to, and the
    output_padding that brings the transposed output back to x's size."""
    rng = np.random.default_rng(seed)
    size = d * (k - 1) + 1 + extra
    x = rng.standard_normal((2, 2 * groups, size, size + 1))
    w = rng.standard_normal((groups, 2, k, k))
    y = F.conv2d(mnp.tensor(x), mnp.tensor(w), None, s, p, d, groups)
    g = rng.standard_normal(y.shape)
    op = [n - ((o - 1) * s - 2 * p + d * (k - 1) + 1) for n, o in zip(x.shape[2:], y.shape[2:])]
    assert all(0 <= o < s for o in op)
    back = F.conv_transpose2d(mnp.tensor(g), mnp.tensor(w), None, s, p, tuple(op), groups, d)
    assert back.shape == x.shape
    assert np.isclose(float((y.numpy() * g).sum()), float((x * back.numpy()).sum()), rtol=1e-9)
