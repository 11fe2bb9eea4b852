"""Indexing: basic and advanced keys against PyTorch (value and scatter-add gradient),
float64 grad_check, views, __setitem__, and errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.ops.index import setitem
from mnp.core.testing import assert_matches_torch


def keys(torch):
    """(mnp key, torch key) pairs covering basic, advanced and mixed indexing of a (4, 5, 6)."""
    idx = np.array([3, 0, 3, 1])
    mask = np.random.default_rng(3).random((4, 5)) > 0.5
    return [
        (2, 2),
        (-1, -1),
        ((1, 2, 3), (1, 2, 3)),
        ((slice(1, 3), slice(None, None, 2)), (slice(1, 3), slice(None, None, 2))),
        (None, None),
        ((Ellipsis, 0), (Ellipsis, 0)),
        ((0, None, Ellipsis, slice(1, None)), (0, None, Ellipsis, slice(1, None))),
        (mnp.tensor(idx), torch.tensor(idx)),
        ([0, 2, 2], [0, 2, 2]),
        (mnp.tensor(mask), torch.tensor(mask)),
        ((slice(None), [4, 0, 4]), (slice(None), [4, 0, 4])),
        (([0, 3, 3], slice(1, 4), [5, 5, 0]), ([0, 3, 3], slice(1, 4), [5, 5, 0])),
        ((1, mnp.tensor(mask[0])), (1, torch.tensor(mask[0]))),
        ((Ellipsis, [[1, 1], [0, 2]]), (Ellipsis, [[1, 1], [0, 2]])),
        ((mnp.tensor(mask), slice(0, 2)), (torch.tensor(mask), slice(0, 2))),
    ]


def test_getitem_matches_torch(torch, rng):
    a = rng.standard_normal((4, 5, 6)).astype(np.float32)
    for k, tk in keys(torch):
        assert_matches_torch(lambda x: x[k], lambda t: t[tk], a, rng=rng, what=f"key {k!r}")


def test_repeated_indices_accumulate():
    x = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 2]].sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 2.0]
    x.zero_grad()
    x[mnp.tensor([1, 1, 1, -1])].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 1.0]


def test_mask_selects_and_routes_gradient():
    x = mnp.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x[x > 0]
    assert y.tolist() == [1.0, 4.0]
    (y * 2).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_empty_list_and_zero_d_index():
    x = mnp.arange(6.0).reshape(3, 2)
    assert x[[]].shape == (0, 2)
    assert x[mnp.tensor(1)].tolist() == [2.0, 3.0]


@pytest.mark.parametrize("key", [0, (1, 1), (slice(0, 2), 1), (Ellipsis, None), (None, 1)])
def test_basic_index_is_a_view(key):
    x = mnp.arange(6.0).reshape(3, 2)
    y = x[key]
    assert isinstance(y.data, np.ndarray)
    assert np.shares_memory(x.data, y.data)


def test_setitem_writes_data_without_grad():
    x = mnp.zeros(3, 4)
    x[1] = 5.0
    x[:, 0] = mnp.tensor([1.0, 2.0, 3.0])
    x[x > 4] = -1.0
    assert x.tolist() == [[1, 0, 0, 0], [2, -1, -1, -1], [3, 0, 0, 0]]
    w = mnp.zeros(2, requires_grad=True)
    with pytest.raises(mnp.MnpError, match="__setitem__"):
        w[0] = 1.0
    with mnp.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0]


def test_setitem_helper_reports_shape_errors():
    x = mnp.zeros(3, 4)
    setitem(x, (slice(None), [0, 3]), 2.0)
    assert x.tolist()[0] == [2.0, 0.0, 0.0, 2.0]
    with pytest.raises(mnp.ShapeError, match=r"setitem: .*\(3, 4\).*out of bounds"):
        setitem(x, 3, 1.0)
    with pytest.raises(mnp.ShapeError, match=r"setitem: a value of shape \(2,\) .*\(3, 4\)"):
        setitem(x, 0, mnp.ones(2))


def test_iteration_keeps_gradient():
    x = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    total = sum((row * (i + 1)).sum() for i, row in enumerate(x))
    total.backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]


@pytest.mark.parametrize("key,pattern", [
    (5, r"getitem: .*\(4, 5\).*index 5 is out of bounds for axis 0 with size 4"),
    ((0, -6), r"getitem: .*\(4, 5\).*out of bounds"),
    ([0, 4], r"getitem: .*\(4, 5\)"),
    ((0, 0, 0), r"getitem: .*\(4, 5\).*too many indices"),
    (np.ones(3, bool), r"getitem: .*\(4, 5\).*boolean index"),
])
def test_bad_index_is_a_shape_error(key, pattern):
    with pytest.raises(mnp.ShapeError, match=pattern):
        mnp.zeros(4, 5)[key]


def test_float_index_is_a_dtype_error():
    with pytest.raises(mnp.DTypeError, match="getitem"):
        mnp.zeros(4, 5)[mnp.tensor([0.5, 1.0])]
    with pytest.raises(mnp.DTypeError, match="getitem"):
        mnp.zeros(4, 5)[1.0]


@pytest.mark.parametrize("case", range(15))
def test_grad_check(torch, rng, case):
    k, _ = keys(torch)[case]
    x = mnp.tensor(rng.standard_normal((4, 5, 6)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: t[k] * 1.5, [x])


def slices(n):
    idx = st.one_of(st.none(), st.integers(-n - 1, n))
    return st.builds(slice, idx, idx, st.sampled_from([None, 1, 2, -1, -2, 3]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s0=slices(4), s1=slices(5), pick=st.lists(st.integers(-5, 4), max_size=4))
def test_slices_and_lists_match_numpy(s0, s1, pick):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    x = mnp.tensor(a, requires_grad=True)
    np.testing.assert_array_equal(x[s0, s1].data, a[s0, s1])
    y = x[s0, pick]
    np.testing.assert_array_equal(y.data, a[s0, pick])
    y.sum().backward()
    expect = np.zeros_like(a)
    np.add.at(expect, (s0, np.asarray(pick, dtype=np.intp)), 1.0)
    np.testing.assert_array_equal(x.grad.data, expect)
