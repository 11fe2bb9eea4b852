"""Scans against PyTorch: cumsum, cumprod (zeros in the input), cummax / cummin (ties, NaN,
indices), logcumsumexp (stability); values, gradients, dtypes; float64 finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch

SCANS = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


@pytest.mark.parametrize("name", SCANS)
@pytest.mark.parametrize("dim", [0, -1])
def test_scans_match_torch(torch, rng, name, dim):
    a = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4))
    assert_matches_torch(lambda x: getattr(x, name)(dim), lambda t: getattr(t, name)(dim), a,
                         rng=rng)
    assert_matches_torch(lambda x: getattr(mnp, name)(x, dim=dim),
                         lambda t: getattr(torch, name)(t, dim=dim), a[0], rng=rng)


@pytest.mark.parametrize("name", SCANS)
def test_scans_gradients_in_float64(rng, name):
    a = rng.permutation(np.arange(1.0, 13.0)).reshape(3, 4) / 6   # distinct: no ties
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    fn = (lambda t: getattr(t, name)(1).values) if name in ("cummax", "cummin") \
        else (lambda t: getattr(t, name)(1))
    assert mnp.grad_check(fn, [x])


@pytest.mark.parametrize("a", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 5.0], [1.5, 2.0, -3.0, 0.0],
                               [[0.0, 1.0, 2.0], [3.0, 0.0, 0.5], [1.0, 2.0, 3.0]]], ids=str)
def test_cumprod_gradient_with_zeros(torch, a):
    a = np.asarray(a)
    for dim in range(a.ndim):
        assert_matches_torch(lambda x: x.cumprod(dim), lambda t: t.cumprod(dim), a)
        x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
        assert mnp.grad_check(lambda t: t.cumprod(dim), [x])


def test_cummax_cummin_ties_and_nan_follow_torch(torch):
    for a in ([[3.0, 1.0, 3.0, 1.0, 2.0, 1.0]], [[1.0, np.nan, 0.0, np.nan, 5.0]]):
        a = np.asarray(a, np.float32)
        for name in ("cummax", "cummin"):
            (v, i), (tv, ti) = assert_matches_torch(lambda x: getattr(x, name)(1),
                                                    lambda t: getattr(t, name)(1), a)
            assert i.dtype == mnp.int64 and i.tolist() == ti.tolist(), name
            r = getattr(mnp, name)(mnp.tensor(a), 1)
            assert type(r).__name__ == name and r.indices.tolist() == ti.tolist()


def test_logcumsumexp_is_stable(torch):
    a = np.array([-1000.0, 0.0, 1000.0, 1000.0, -np.inf])
    y, ty = assert_matches_torch(lambda x: x.logcumsumexp(0), lambda t: t.logcumsumexp(0), a,
                                 dtype=np.float64)
    assert np.isfinite(y.data).all() and y.data[0] == -1000.0
    x = mnp.tensor(np.full(4, -np.inf), requires_grad=True)   # all -inf: a zero gradient
    y = x.logcumsumexp(0)
    assert (y.data == -np.inf).all()
    y.backward(mnp.ones(4))
    assert x.grad.tolist() == [0.0] * 4


def test_integer_dtypes_and_dtype_argument(torch):
    for a in (np.array([[1, 2], [3, 4]], np.int32), np.array([True, False, True])):
        for name in ("cumsum", "cumprod"):
            got, want = getattr(mnp.tensor(a), name)(0), getattr(torch.tensor(a), name)(0)
            assert got.dtype == mnp.int64 and got.tolist() == want.tolist()
        v, i = mnp.tensor(a).cummax(0)
        tv, ti = torch.tensor(a).cummax(0)
        assert v.dtype == mnp.tensor(a).dtype and v.tolist() == tv.tolist() and i.tolist() == ti.tolist()
    got = mnp.cumsum(mnp.tensor([1.5, 2.5]), 0, dtype=mnp.float64)
    assert got.dtype == mnp.float64 and got.tolist() == [1.5, 4.0]
    assert mnp.logcumsumexp(mnp.tensor([0, 0]), 0).dtype == mnp.float32


def test_0d_empty_and_bad_dims():
    x = mnp.tensor(2.0, requires_grad=True)
    y = x.cumprod(0)
    assert y.shape == () and y.item() == 2.0
    y.backward()
    assert x.grad.item() == 1.0
    v, i = x.cummin(-1)
    assert v.shape == i.shape == () and i.item() == 0
    assert mnp.zeros(0, 3).cumsum(0).shape == (0, 3)
    assert mnp.zeros(0, 3).cummax(0).indices.shape == (0, 3)
    for name in SCANS:
        with pytest.raises(mnp.AxisError, match=rf"{name}: axis 2 .*\[-2, 1\]"):
            getattr(mnp.ones(2, 3), name)(2)
