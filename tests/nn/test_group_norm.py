"""GroupNorm and F.group_norm against PyTorch (forward, input and parameter gradients), float64
finite differences, constant groups, errors, PyTorch state dicts, registration and repr."""
from __future__ import annotations

import json

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)

F64 = {"rtol": 1e-10, "atol": 1e-12}

CASES = [  # num_groups, input shape (N, C, *)
    (2, (3, 4)),             # 2-d
    (1, (2, 6, 5)),          # one group: layer norm over (C, L)
    (6, (2, 6, 5)),          # a group per channel: instance norm
    (3, (2, 6, 5)),
    (2, (2, 4, 3, 5)),       # 4-d
    (4, (1, 4, 2, 3)),
    (1, (3, 3, 2, 2)),
]


@pytest.mark.parametrize("groups,shape", CASES, ids=[f"G{g}-{s}" for g, s in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_group_norm_layer_matches_torch(torch, rng, groups, shape, dtype):
    c = shape[1]
    ours = nn.GroupNorm(groups, c, dtype=dtype)
    theirs = torch.nn.GroupNorm(groups, c, dtype=getattr(torch, np.dtype(dtype).name))
    ours.weight.data[...] = rng.standard_normal(c)
    ours.bias.data[...] = rng.standard_normal(c)
    copy_parameters(ours, theirs)
    tol = F32 if dtype == np.float32 else F64
    assert_matches_torch(ours, theirs, rng.standard_normal(shape) * 3 + 2, rng=rng, dtype=dtype,
                         **tol)
    assert ours.weight.grad.dtype == dtype
    assert_parameter_grads_match(ours, theirs, **tol)


@pytest.mark.parametrize("affine,bias", [(False, True), (True, False)])
def test_group_norm_options_match_torch(torch, rng, affine, bias):
    ours = nn.GroupNorm(2, 4, affine=affine, bias=bias)
    theirs = torch.nn.GroupNorm(2, 4, affine=affine, bias=bias)
    if affine:
        ours.weight.data[...] = rng.standard_normal(4)
        copy_parameters(ours, theirs)
    assert_matches_torch(ours, theirs, rng.standard_normal((3, 4, 5)), rng=rng)
    assert_parameter_grads_match(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("with_weight,with_bias", [(True, True), (True, False), (False, False)])
def test_functional_group_norm_matches_torch(torch, rng, with_weight, with_bias):
    x = rng.standard_normal((2, 6, 3, 2))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    arrays = [x] + ([w] if with_weight else []) + ([b] if with_bias else [])

    def call(M):
        def fn(x, *rest):
            rest = list(rest)
            weight = rest.pop(0) if with_weight else None
            bias = rest.pop(0) if with_bias else None
            return M.group_norm(x, 3, weight, bias, eps=1e-3)
        return fn
    assert_matches_torch(call(F), call(torch.nn.functional), *arrays, rng=rng)


def test_functional_group_norm_bias_without_weight(rng):
    """A bias alone (PyTorch's backward fails on it) scales by ones."""
    x = mnp.tensor(rng.standard_normal((2, 4, 3)), dtype=mnp.float32, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(4), dtype=mnp.float32, requires_grad=True)
    y = F.group_norm(x, 2, None, b)
    assert_close(y, F.group_norm(x, 2, mnp.ones(4), b), rtol=0, atol=0)
    y.sum().backward()
    assert_close(b.grad, np.full(4, 6.0), rtol=0, atol=0)


def test_group_norm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((3, 6, 2, 2)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal(6), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(6), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.group_norm(x, 2, w, b), [x, w, b])
    assert mnp.grad_check(lambda x, w: F.group_norm(x, 3, w), [x, w])
    assert mnp.grad_check(lambda x: F.group_norm(x, 6), [x])
    x2 = mnp.tensor(rng.standard_normal((4, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x: F.group_norm(x, 1), [x2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_norm_of_a_constant_group_is_the_bias(dtype):
    """No cancellation when |mean| >> spread: a constant group normalises to exactly 0."""
    dt = getattr(mnp, dtype)
    x = mnp.full((2, 4, 3, 3), 12.573022, dtype=dt)
    assert (F.group_norm(x, 2).numpy() == 0).all()
    wide = mnp.full((1, 2, 3000), -7.3e4, dtype=dt)
    assert (F.group_norm(wide, 1).numpy() == 0).all()
    bias = mnp.tensor([1.5, -2.0, 0.25, 3.0], dtype=dt)
    y = F.group_norm(x, 4, mnp.ones(4, dtype=dt), bias).numpy()
    assert (y == bias.numpy().reshape(1, 4, 1, 1)).all()


def test_group_norm_empty_batch_matches_torch(torch):
    x = mnp.zeros((0, 4, 3), requires_grad=True)
    t = torch.zeros((0, 4, 3), requires_grad=True)
    ours, theirs = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    y, ty = ours(x), theirs(t)
    assert y.shape == tuple(ty.shape) == (0, 4, 3)
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == (0, 4, 3)
    assert_close(ours.weight.grad, theirs.weight.grad, what="weight")


def test_group_norm_errors():
    with pytest.raises(mnp.ArgumentError, match=r"GroupNorm.*num_channels=6.*num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(mnp.ArgumentError, match=r"GroupNorm.*num_groups=0"):
        nn.GroupNorm(0, 6)
    with pytest.raises(mnp.ShapeError, match=r"group_norm.*num_channels=6.*\(2, 6, 3\).*num_groups=4"):
        F.group_norm(mnp.zeros((2, 6, 3)), 4)
    with pytest.raises(mnp.ShapeError, match=r"GroupNorm.*\(2, 3, 5\).*num_channels=4"):
        nn.GroupNorm(2, 4)(mnp.zeros((2, 3, 5)))
    with pytest.raises(mnp.ShapeError, match=r"group_norm.*at least 2 dimensions.*\(4,\)"):
        F.group_norm(mnp.zeros(4), 1)
    with pytest.raises(mnp.ShapeError, match=r"group_norm: weight of shape \(3,\).*4 channels"):
        F.group_norm(mnp.zeros((2, 4)), 2, mnp.ones(3))
    with pytest.raises(mnp.DTypeError, match="group_norm"):
        F.group_norm(mnp.zeros((2, 4), dtype=mnp.float64), 2, mnp.ones(4))


def test_group_norm_loads_a_torch_state_dict(torch, rng):
    theirs = torch.nn.GroupNorm(3, 6)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(rng.standard_normal(6).astype(np.float32)))
        theirs.bias.copy_(torch.from_numpy(rng.standard_normal(6).astype(np.float32)))
    ours = nn.GroupNorm(3, 6)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == ["weight", "bias"]
    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    assert_close(ours(mnp.tensor(x)), theirs(torch.from_numpy(x)).detach(), **F32)
    back = torch.nn.GroupNorm(3, 6)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    assert torch.equal(back.weight, theirs.weight)


def test_group_norm_registered_repr_and_config(torch):
    assert mnp.registry("layers")["GroupNorm"] is nn.GroupNorm
    assert mnp.lookup("layers", "GroupNorm") is nn.GroupNorm
    for args, kwargs in [((2, 4), {}), ((1, 3), {"eps": 1e-3, "affine": False}),
                         ((2, 4), {"bias": False})]:
        layer = nn.GroupNorm(*args, **kwargs)
        assert repr(layer) == repr(torch.nn.GroupNorm(*args, **kwargs))
        rebuilt = nn.GroupNorm.from_config(json.loads(json.dumps(layer.get_config())))
        assert repr(rebuilt) == repr(layer)
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert nn.GroupNorm(2, 4, dtype=mnp.float64).weight.dtype == np.float64


def test_group_norm_half_input_into_float32_parameters_like_torch(torch, rng):
    ours, theirs = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    ours.weight.data[...] = rng.standard_normal(4)
    copy_parameters(ours, theirs)
    x = rng.standard_normal((3, 4, 5)).astype(np.float16)
    xt = torch.tensor(x, requires_grad=True)
    y, ty = ours(mnp.tensor(x)), theirs(xt)
    assert y.dtype == np.float16 and ty.dtype == torch.float16
    assert_close(y, ty.detach(), rtol=1e-2, atol=1e-2)
    y.sum().backward()
    ty.sum().backward()
    assert ours.weight.grad.dtype == np.float32
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-2, atol=1e-2, what="weight")
