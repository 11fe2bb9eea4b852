"""Order ops against PyTorch: sort / argsort (stable, descending, NaN), topk, kthvalue,
median, mode, unique; values, indices, gradients to the picked positions, named tuples,
0-d inputs and errors; float64 finite differences."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch

TIES = np.array([[3.0, 1.0, 3.0, 1.0, 2.0, 1.0], [0.5, np.nan, -1.0, np.nan, 0.5, 2.0]],
                np.float32)


def _picks(r, a, dim):
    """With ties PyTorch's index is any of the tied positions: it must hold the value."""
    got = np.take_along_axis(a, np.expand_dims(r.indices.numpy(), dim), dim).squeeze(dim)
    np.testing.assert_array_equal(got, r.values.numpy())


def _distinct(rng, shape):
    return rng.permutation(np.arange(float(np.prod(shape)))).reshape(shape) / 4 - 1


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_match_torch(torch, rng, dim, descending):
    a = _distinct(rng, (3, 4))
    (v, i), _ = assert_matches_torch(lambda x: x.sort(dim, descending),
                                     lambda t: t.sort(dim, descending), a, rng=rng)
    assert i.dtype == mnp.int64
    (v, i), (tv, ti) = assert_matches_torch(
        lambda x: mnp.sort(x, dim=dim, descending=descending, stable=True),
        lambda t: torch.sort(t, dim=dim, descending=descending, stable=True), TIES)
    assert i.tolist() == ti.tolist()
    assert mnp.argsort(mnp.tensor(TIES), dim, descending).tolist() == \
        torch.argsort(torch.tensor(TIES), dim=dim, descending=descending, stable=True).tolist()


@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_torch(torch, rng, largest):
    a = _distinct(rng, (3, 5))
    for k, dim in ((2, -1), (3, 0), (5, 1), (0, 1)):
        (v, i), (tv, ti) = assert_matches_torch(lambda x: x.topk(k, dim, largest),
                                                lambda t: t.topk(k, dim, largest), a, rng=rng)
        assert i.tolist() == ti.tolist()
    r = mnp.topk(mnp.tensor(TIES), 3)
    assert type(r).__name__ == "topk" and r.indices.tolist() == [[0, 2, 4], [1, 3, 5]]
    with pytest.raises(mnp.ArgumentError, match=r"topk: k=6 is out of range \[0, 5\]"):
        mnp.tensor(a).topk(6)


def test_kthvalue_matches_torch(torch, rng):
    a = _distinct(rng, (3, 5))
    for k, dim, keep in ((1, -1, False), (3, 0, True), (5, 1, False)):
        (v, i), (tv, ti) = assert_matches_torch(lambda x: x.kthvalue(k, dim, keep),
                                                lambda t: t.kthvalue(k, dim, keep), a, rng=rng)
        assert i.tolist() == ti.tolist()
    r, t = mnp.kthvalue(mnp.tensor(TIES), 2), torch.kthvalue(torch.tensor(TIES), 2)
    assert r.values.tolist() == t.values.tolist()
    _picks(r, TIES, 1)
    assert r.indices.tolist() == [3, 0]          # stable: the tie earliest in index order
    with pytest.raises(mnp.ArgumentError, match="kthvalue: k=0"):
        mnp.tensor(a).kthvalue(0)


def test_median_matches_torch(torch, rng):
    a = _distinct(rng, (3, 4))
    assert_matches_torch(lambda x: x.median(), lambda t: t.median(), a)
    assert_matches_torch(lambda x: x.median(), lambda t: t.median(), TIES[:1])   # ties share
    for dim, keep in ((0, False), (-1, True)):
        (v, i), (tv, ti) = assert_matches_torch(lambda x: x.median(dim, keep),
                                                lambda t: t.median(dim, keep), a, rng=rng)
        assert i.tolist() == ti.tolist()
    r, t = mnp.median(mnp.tensor(TIES), 1), torch.median(torch.tensor(TIES), 1)
    assert np.array_equal(r.values.numpy(), t.values.numpy(), equal_nan=True)
    _picks(r, TIES, 1)
    assert r.indices.tolist() == [5, 1] and type(r).__name__ == "median"   # 1st NaN
    assert np.isnan(mnp.tensor(TIES).median().item())
    assert mnp.tensor([[4, 1, 3, 2]]).median().item() == 2


def test_mode_matches_torch(torch):
    a = np.array([[3.0, 1.0, 3.0, 1.0, 2.0, 1.0], [2.0, 2.0, 5.0, 5.0, 0.0, 7.0]], np.float32)
    for dim, keep in ((1, False), (0, True)):
        (v, i), (tv, ti) = assert_matches_torch(lambda x: x.mode(dim, keep),
                                                lambda t: t.mode(dim, keep), a)
        assert i.tolist() == ti.tolist()
    ints = np.array([[1, 2, 2, 3], [4, 4, 4, 0]])
    r, t = mnp.mode(mnp.tensor(ints)), torch.mode(torch.tensor(ints))
    assert r.values.dtype == mnp.int64 and r.values.tolist() == t.values.tolist()
    assert r.indices.tolist() == t.indices.tolist()


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "median"])
def test_order_gradients_in_float64(rng, name):
    x = mnp.tensor(_distinct(rng, (3, 4)), dtype=mnp.float64, requires_grad=True)
    call = {"sort": lambda t: t.sort(1, descending=True).values,
            "topk": lambda t: t.topk(2, 0).values,
            "kthvalue": lambda t: t.kthvalue(2, 1, True).values,
            "median": lambda t: t.median(0).values}[name]
    assert mnp.grad_check(call, [x])
    assert mnp.grad_check(lambda t: t.median(), [x])


def test_unique_matches_torch(torch):
    a = np.array([[3, 1, 3], [2, 1, 3]])
    x, t = mnp.tensor(a), torch.tensor(a)
    assert mnp.unique(x).tolist() == torch.unique(t).tolist()
    for dim in (None, 0, 1):
        got = x.unique(return_inverse=True, return_counts=True, dim=dim)
        want = torch.unique(t, return_inverse=True, return_counts=True, dim=dim)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and g.tolist() == w.tolist(), dim
        assert got[1].dtype == got[2].dtype == mnp.int64
    u, inv = mnp.unique(mnp.tensor([2.5, -1.0, 2.5]), return_inverse=True)
    assert u.dtype == mnp.float32 and u.tolist() == [-1.0, 2.5] and inv.tolist() == [1, 0, 1]
    with pytest.raises(mnp.AxisError, match="unique: axis 2"):
        x.unique(dim=2)


def test_0d_inputs_and_empty_dims(torch):
    x = mnp.tensor(2.0, requires_grad=True)
    for name, call in (("sort", lambda t: t.sort()), ("topk", lambda t: t.topk(1)),
                       ("kthvalue", lambda t: t.kthvalue(1)), ("median", lambda t: t.median(0)),
                       ("mode", lambda t: t.mode())):
        v, i = call(x)
        tv, ti = call(torch.tensor(2.0))
        assert v.shape == i.shape == tuple(tv.shape) == (), name
        assert v.item() == 2.0 and i.item() == 0 and v.requires_grad
    e = mnp.zeros(2, 0)
    assert e.sort(1).values.shape == (2, 0)
    with pytest.raises(mnp.ShapeError, match=r"median: dimension 1 of shape \(2, 0\) is empty"):
        e.median(1)
    with pytest.raises(mnp.ShapeError, match="median: .*empty"):
        e.median()
    with pytest.raises(mnp.ShapeError, match="mode: dimension"):
        e.mode(1)
    with pytest.raises(mnp.AxisError, match=r"sort: axis 2 .*\[-2, 1\]"):
        mnp.ones(2, 3).sort(2)


@settings(max_examples=25, deadline=None)
@given(a=arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=4),
                elements=st.sampled_from([0.0, 1.0, -2.5, np.nan])),
       seed=st.integers(0, 1000), descending=st.booleans())
def test_sort_is_a_stable_permutation(a, seed, descending):
    """Property: along any dim, the indices are a permutation that orders the values (NaN
    as the largest), ties in index order; the values are the input taken at them."""
    dim = seed % a.ndim - a.ndim * (seed % 2)
    v, i = mnp.sort(mnp.tensor(a), dim, descending)
    assert v.shape == i.shape == a.shape
    np.testing.assert_array_equal(np.take_along_axis(a, i.numpy(), dim), v.numpy())
    assert (np.sort(i.numpy(), axis=dim) == np.arange(a.shape[dim]).reshape(
        [-1 if d == dim % a.ndim else 1 for d in range(a.ndim)])).all()
    key = np.where(np.isnan(a), 10.0, a) * (-1 if descending else 1)   # NaN: the largest
    steps = np.diff(np.take_along_axis(key, i.numpy(), dim), axis=dim)
    assert (steps >= 0).all()
    assert (np.diff(i.numpy(), axis=dim)[steps == 0] > 0).all()          # ties keep order
