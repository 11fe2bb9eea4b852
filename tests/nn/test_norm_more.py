"""InstanceNorm1d/2d/3d, F.instance_norm, LocalResponseNorm and F.local_response_norm against
PyTorch (forward, input and parameter gradients, running statistics, eval mode, state dicts,
reprs), float64 finite differences and errors."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)

F64 = {"rtol": 1e-10, "atol": 1e-12}

LAYERS = [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)), ("InstanceNorm2d", (2, 3, 4, 2)),
          ("InstanceNorm2d", (3, 2, 3)), ("InstanceNorm3d", (2, 3, 2, 2, 2))]


def _pair(torch, name, dtype, **kw):
    ours = getattr(nn, name)(3, dtype=dtype, **kw)
    theirs = getattr(torch.nn, name)(3, dtype=getattr(torch, np.dtype(dtype).name), **kw)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,shape", LAYERS, ids=[f"{n}-{s}" for n, s in LAYERS])
@pytest.mark.parametrize("affine,track", [(False, False), (True, True)], ids=["plain", "affine-track"])
def test_instance_norm_layer_matches_torch(torch, rng, name, shape, dtype, affine, track):
    tol = F32 if dtype == np.float32 else F64
    ours, theirs = _pair(torch, name, dtype, affine=affine, track_running_stats=track)
    if affine:
        ours.weight.data[...] = rng.standard_normal(3)
        ours.bias.data[...] = rng.standard_normal(3)
        copy_parameters(ours, theirs)
    x = rng.standard_normal(shape) * 3 + 2
    assert_matches_torch(ours, theirs, x, rng=rng, dtype=dtype, **tol)
    assert_parameter_grads_match(ours, theirs, **tol)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if track:
        for buf in ("running_mean", "running_var"):
            assert_close(getattr(ours, buf), getattr(theirs, buf), **tol, what=buf)
            assert getattr(ours, buf).dtype == dtype
        ours.eval(), theirs.eval()               # eval normalises with the running statistics
        assert_matches_torch(ours, theirs, x, rng=rng, dtype=dtype, **tol)
        assert_parameter_grads_match(ours, theirs, **tol)
        assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 0


def test_instance_norm_momentum_none_keeps_running_stats(torch, rng):
    ours, theirs = _pair(torch, "InstanceNorm1d", np.float32, momentum=None, track_running_stats=True)
    x = rng.standard_normal((2, 3, 4))
    ours(mnp.tensor(x, dtype=mnp.float32))
    theirs(torch.tensor(x, dtype=torch.float32))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)


@pytest.mark.parametrize("with_stats", [False, True])
def test_functional_instance_norm_matches_torch(torch, rng, with_stats):
    x = rng.standard_normal((2, 4, 3, 2))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    ours_rm, ours_rv = rm.copy(), rv.copy()
    their_rm, their_rv = torch.tensor(rm), torch.tensor(rv)
    assert_matches_torch(
        lambda x, w, b: F.instance_norm(x, ours_rm if with_stats else None,
                                        ours_rv if with_stats else None, w, b, momentum=0.3, eps=1e-3),
        lambda x, w, b: torch.nn.functional.instance_norm(
            x, their_rm if with_stats else None, their_rv if with_stats else None, w, b,
            momentum=0.3, eps=1e-3),
        x, w, b, rng=rng, dtype=np.float64, **F64)
    assert_close(ours_rm, their_rm, **F64)
    assert_close(ours_rv, their_rv, **F64)
    assert_matches_torch(
        lambda x: F.instance_norm(x, mnp.tensor(rm), mnp.tensor(rv), use_input_stats=False),
        lambda x: torch.nn.functional.instance_norm(x, torch.tensor(rm), torch.tensor(rv),
                                                    use_input_stats=False),
        x, rng=rng, dtype=np.float64, **F64)


def test_instance_norm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 3, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal(3), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(3), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [x, w, b])
    assert mnp.grad_check(lambda x: nn.InstanceNorm2d(3)(x.reshape(2, 3, 2, 2)), [x])


def test_instance_norm_reprs_match_torch(torch):
    for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
        for kw in ({}, {"affine": True}, {"affine": True, "bias": False, "track_running_stats": True},
                   {"eps": 1e-3, "momentum": None}):
            assert repr(getattr(nn, name)(4, **kw)) == repr(getattr(torch.nn, name)(4, **kw))


def test_instance_norm_loads_a_torch_state_dict(torch, rng):
    theirs = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    theirs(torch.tensor(rng.standard_normal((2, 3, 4, 4)), dtype=torch.float32))
    ours = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert_close(ours.running_var, theirs.running_var, rtol=0, atol=0)


def test_instance_norm_errors():
    with pytest.raises(mnp.ShapeError, match=r"InstanceNorm1d: expected a 2-d .* or 3-d input, got shape \(2, 3, 4, 5\)"):
        nn.InstanceNorm1d(3)(mnp.zeros((2, 3, 4, 5)))
    with pytest.raises(mnp.ShapeError, match=r"InstanceNorm2d: input of shape \(2, 4, 3, 3\) has 4 channels, expected num_features=3"):
        nn.InstanceNorm2d(3, affine=True)(mnp.zeros((2, 4, 3, 3)))
    assert nn.InstanceNorm1d(3)(mnp.randn(2, 4, 5)).shape == (2, 4, 5)   # unused num_features
    with pytest.raises(mnp.ShapeError, match="instance_norm: expected more than 1 spatial element"):
        F.instance_norm(mnp.zeros((2, 3, 1)))
    with pytest.raises(mnp.ShapeError, match=r"instance_norm: running_mean of shape \(2,\)"):
        F.instance_norm(mnp.zeros((2, 3, 4)), mnp.zeros(2), mnp.ones(3))
    with pytest.raises(mnp.ArgumentError, match="instance_norm: use_input_stats=False needs"):
        F.instance_norm(mnp.zeros((2, 3, 4)), use_input_stats=False)
    with pytest.raises(mnp.DTypeError, match="group_norm"):
        nn.InstanceNorm1d(3, affine=True)(mnp.zeros((2, 3, 4), dtype=mnp.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("size,shape", [(1, (2, 4, 3)), (2, (2, 4, 3)), (3, (2, 5, 2, 3)),
                                        (6, (1, 4, 2, 2, 2))])
def test_local_response_norm_matches_torch(torch, rng, size, shape, dtype):
    tol = F32 if dtype == np.float32 else F64
    x = rng.standard_normal(shape) * 2
    assert_matches_torch(lambda x: F.local_response_norm(x, size, 0.5, 0.6, 1.5),
                         lambda x: torch.nn.functional.local_response_norm(x, size, 0.5, 0.6, 1.5),
                         x, rng=rng, dtype=dtype, **tol)
    assert_matches_torch(nn.LocalResponseNorm(size), torch.nn.LocalResponseNorm(size), x, rng=rng,
                         dtype=dtype, **tol)


def test_local_response_norm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 5, 3)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x: F.local_response_norm(x, 3, alpha=0.3, beta=0.8, k=0.5), [x])


def test_local_response_norm_repr_and_errors(torch):
    assert repr(nn.LocalResponseNorm(3, 1e-3, 0.5, 2)) == repr(torch.nn.LocalResponseNorm(3, 1e-3, 0.5, 2))
    with pytest.raises(mnp.ShapeError, match=r"local_response_norm: expected an input of 3 or more dimensions.*\(2, 3\)"):
        F.local_response_norm(mnp.zeros((2, 3)), 2)
    with pytest.raises(mnp.ArgumentError, match="LocalResponseNorm: size must be >= 1"):
        nn.LocalResponseNorm(0)
    assert F.local_response_norm(mnp.zeros((0, 3, 2)), 2).shape == (0, 3, 2)


def test_norm_layers_are_registered():
    for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"):
        assert mnp.lookup("layers", name) is getattr(nn, name)
