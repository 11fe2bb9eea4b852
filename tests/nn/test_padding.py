"""F.pad and the padding layers against PyTorch: every mode, the pad order (last dimension
first), negative widths, gradients, float64 finite differences, errors and reprs."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import assert_matches_torch

F64 = {"rtol": 1e-10, "atol": 1e-12}
PADS = [(1, 2), (2, 1, 0, 3), (-1, 2, 1, -2), (3, 3, 3, 3), (1, 0, 2, 1, 0, 2)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS, ids=str)
def test_pad_matches_torch(torch, rng, mode, pad):
    k = len(pad) // 2
    x = rng.standard_normal((2, 3, 4, 5, 4)[:k + 2])
    if mode == "reflect" and max(pad) >= 4:
        pad = tuple(min(p, 2) for p in pad)
    for a in (x, x[0]):      # batched and unbatched
        assert_matches_torch(lambda t: F.pad(t, pad, mode), lambda t: torch.nn.functional.pad(
            t, pad, mode), a, rng=rng, what=f"{mode} {pad} {a.shape}")


def test_pad_float64_constant_value_and_many_dims(torch, rng):
    x = rng.standard_normal((2, 3, 2, 3))
    pad = (1, 1, -1, 2, 0, 1, 2, 0)        # constant pads any number of dimensions
    y, _ = assert_matches_torch(lambda t: F.pad(t, pad, value=2.5),
                                lambda t: torch.nn.functional.pad(t, pad, value=2.5),
                                x, rng=rng, dtype=np.float64, **F64)
    assert y.dtype == np.float64 and y.shape == (4, 4, 3, 5)


def test_pad_reflect_crops_before_mirroring_as_torch(torch):
    x = np.arange(4.0).reshape(1, 1, 4)
    for mode, expected in [("reflect", [2, 3, 2, 1, 0]), ("replicate", [2, 3, 3, 3, 3]),
                           ("circular", [2, 3, 2, 3, 2])]:
        got = F.pad(mnp.tensor(x), (-2, 3), mode).tolist()[0][0]
        assert got == expected
    assert F.pad(mnp.tensor(x), (-1, 2), "circular").tolist()[0][0] == \
        torch.nn.functional.pad(torch.tensor(x), (-1, 2), mode="circular").tolist()[0][0]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_grad_check_float64(rng, mode):
    x = mnp.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert mnp.grad_check(lambda t: F.pad(t, (2, -1, 1, 2), mode), [x])
    assert mnp.grad_check(lambda t: F.pad(t, (-2, 3, 2, 2), mode), [x])   # pads wider than the rest


@pytest.mark.parametrize("pad,kw,match", [
    ((1, 2, 3), {}, "divisible by 2"),
    ((1.5, 0), {}, "tuple of ints"),
    ((1, 1), {"mode": "edge"}, "mode must be one of"),
    ((1,) * 10, {}, "has only 4"),
    ((4, 0, 0, 0), {"mode": "reflect"}, "less than the size 4"),
    ((5, 0, 0, 0), {"mode": "circular"}, "more than once"),
    ((1, 1), {"mode": "reflect"}, "3-d input"),
    ((1, 1, 1, 1), {"mode": "reflect", "value": 1.0}, "takes no value"),
    ((-3, -2, 0, 0), {}, "crops more"),
    ((-3, -2, 0, 0), {"mode": "replicate"}, "crops more"),
])
def test_pad_errors_like_torch(torch, pad, kw, match):
    x = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(mnp.MnpError, match=match):
        F.pad(mnp.tensor(x), pad, **kw)
    with pytest.raises((RuntimeError, NotImplementedError, TypeError)):
        torch.nn.functional.pad(torch.tensor(x), pad, **kw)


def test_reflect_and_replicate_refuse_empty_planes(torch):
    for mode in ("reflect", "replicate"):
        with pytest.raises(mnp.ShapeError, match="non-empty"):
            F.pad(mnp.zeros((2, 0, 3)), (1, 1), mode)
    assert F.pad(mnp.zeros((0, 2, 3)), (1, 1), "reflect").shape == (0, 2, 5)


LAYERS = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 0, 2, 1),)), ("ZeroPad3d", (1,)),
          ("ConstantPad1d", ((1, 2), 3.5)), ("ConstantPad2d", (1, -1.0)),
          ("ConstantPad3d", ((1, 0, 0, 1, 1, 0), 2)),
          ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 0, 2, 1),)),
          ("ReflectionPad3d", (1,)), ("ReplicationPad1d", ((0, 3),)), ("ReplicationPad2d", (2,)),
          ("ReplicationPad3d", ((1, 0, 0, 1, 2, 0),)), ("CircularPad1d", (2,)),
          ("CircularPad2d", ((1, 0, 2, 1),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name,args", LAYERS, ids=[n for n, _ in LAYERS])
def test_padding_layers_match_torch(torch, rng, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    dims = int(name[-2])
    assert_matches_torch(ours, theirs, rng.standard_normal((2, 3, 4, 3, 4)[:dims + 2]), rng=rng)
    assert type(ours).from_config(ours.get_config()).padding == ours.padding


def test_padding_layer_bad_padding():
    with pytest.raises(mnp.ArgumentError, match="ReflectionPad2d: padding must be an int or a tuple of 4"):
        nn.ReflectionPad2d((1, 2))
