"""clip_grad_norm_ / clip_grad_value_ against torch.nn.utils, plus norm properties."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import optim
from mnp.core.testing import F32, assert_close

SHAPES = [(3, 4), (5,), (2, 1, 3), ()]


def _pair(torch, scale=1.0, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for s in SHAPES:
        g = (rng.standard_normal(s) * scale).astype(dtype)
        p = mnp.zeros(*s, dtype=dtype, requires_grad=True)
        q = torch.zeros(s, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        p.grad, q.grad = mnp.tensor(g.copy()), torch.tensor(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = _pair(torch)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm,
                                               norm_type=float(norm_type))
    assert isinstance(total, mnp.Tensor) and total.shape == () and total.dtype == np.float32
    assert_close(total.data, ref_total, **F32)
    for p, q in zip(ours, theirs):
        assert_close(p.grad.data, q.grad, **F32)


def test_clip_grad_norm_float64_and_single_tensor(torch):
    ours, theirs = _pair(torch, scale=10.0, dtype=np.float64)
    total = optim.clip_grad_norm_(ours[0], 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    assert total.dtype == np.float64
    assert_close(total.data, ref, rtol=1e-12, atol=0)
    assert_close(ours[0].grad.data, theirs[0].grad, rtol=1e-12, atol=0)
    assert ours[1].grad.data.tolist() == theirs[1].grad.numpy().tolist()  # untouched


def test_clip_grad_norm_nonfinite(torch):
    ours, theirs = _pair(torch)
    ours[1].grad.data[0] = np.inf
    theirs[1].grad[0] = float("inf")
    with pytest.raises(optim.NonFiniteNormError, match="inf"):
        optim.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert np.isfinite(ours[0].grad.data).all()  # nothing clipped on error
    total = optim.clip_grad_norm_(ours, 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isinf(total.item()) and math.isinf(ref.item())
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad.data), np.isnan(q.grad.numpy()))


def test_clip_grad_norm_without_grads_and_bad_norm_type():
    p = mnp.zeros(2, requires_grad=True)
    assert optim.clip_grad_norm_([p], 1.0).item() == 0.0
    p.grad = mnp.ones(2)
    with pytest.raises(optim.OptimizerError, match="norm_type"):
        optim.clip_grad_norm_([p], 1.0, norm_type="fro")
    with pytest.raises(optim.OptimizerError, match="not a Tensor"):
        optim.clip_grad_norm_([np.ones(2)], 1.0)


@pytest.mark.parametrize("clip_value", [0.1, 0.7, 5.0])
def test_clip_grad_value_matches_torch(torch, clip_value):
    ours, theirs = _pair(torch)
    assert optim.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())
    with pytest.raises(optim.OptimizerError, match="clip_value"):
        optim.clip_grad_value_(ours, -1.0)


shapes = st.lists(st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
                  min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(shapes=shapes, max_norm=st.floats(0.01, 10.0), seed=st.integers(0, 2 ** 16))
def test_clip_grad_norm_properties(shapes, max_norm, seed):
    """Total = norm of all gradients concatenated; afterwards the norm is <= max_norm and
    the directions are unchanged."""
    rng = np.random.default_rng(seed)
    params = []
    for s in shapes:
        p = mnp.zeros(*s, requires_grad=True)
        p.grad = mnp.tensor(rng.standard_normal(s).astype(np.float32))
        params.append(p)
    before = np.concatenate([p.grad.data.ravel() for p in params]).astype(np.float64)
    total = optim.clip_grad_norm_(params, max_norm).item()
    after = np.concatenate([p.grad.data.ravel() for p in params]).astype(np.float64)
    assert math.isclose(total, np.linalg.norm(before), rel_tol=1e-5, abs_tol=1e-6)
    assert np.linalg.norm(after) <= max_norm * (1 + 1e-5) or total <= max_norm
    if total <= max_norm:
        np.testing.assert_allclose(after, before, rtol=1e-6)
    else:
        np.testing.assert_allclose(after * total, before * max_norm, rtol=1e-4, atol=1e-5)


def test_clip_grad_norm_scales_gradients_that_one_backward_shared_once(torch):
    # a + b hands one gradient array to both leaves; clipping must scale each exactly once
    ours = [mnp.ones(4, requires_grad=True) for _ in range(2)]
    theirs = [torch.ones(4, requires_grad=True) for _ in range(2)]
    (ours[0] + ours[1]).sum().backward()
    (theirs[0] + theirs[1]).sum().backward()
    optim.clip_grad_norm_(ours, 1.0)
    torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    for p, q in zip(ours, theirs):
        assert_close(p.grad.data, q.grad, **F32)
