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


# -- PyTorch's axis order for mixed indices -------------------------------------------------
SHAPE = (2, 3, 4)


@st.composite
def mixed_keys(draw):
    """A key for a (2, 3, 4) tensor mixing ints, 0-d int tensors, slices, lists (1-d and 2-d),
    bool masks (over one or two dimensions), Python bools, None and Ellipsis, as
    ``(kind, value)`` pairs that `_keys` turns into an mnp key and a torch key."""
    key, d = [], 0
    kinds = ["int", "t0", "slice", "full", "list", "list2", "mask", "mask2", "none", "bool"]
    while d < len(SHAPE):
        kind = draw(st.sampled_from(kinds))
        n = SHAPE[d]
        if kind == "int":
            key.append(("int", draw(st.integers(-n, n - 1))))
        elif kind == "t0":
            key.append(("t0", draw(st.integers(0, n - 1))))
        elif kind == "slice":
            key.append(("slice", slice(draw(st.integers(0, n - 1)), None)))
        elif kind == "full":
            key.append(("slice", slice(None)))
        elif kind == "list":
            key.append(("list", draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
        elif kind == "list2":
            key.append(("list", [[draw(st.integers(0, n - 1))], [draw(st.integers(0, n - 1))]]))
        elif kind == "mask":
            key.append(("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "mask2" and d + 1 < len(SHAPE):
            row = st.lists(st.booleans(), min_size=SHAPE[d + 1], max_size=SHAPE[d + 1])
            key.append(("mask", draw(st.lists(row, min_size=n, max_size=n))))
            d += 1
        elif kind == "none":
            key.append(("none", None))
            continue
        elif kind == "bool":
            key.append(("bool", draw(st.booleans())))
            continue
        else:
            continue
        d += 1
    # a run of full slices may become an Ellipsis, and trailing full slices may go
    full = [i for i, (k, v) in enumerate(key) if k == "slice" and v == slice(None)]
    if full and draw(st.booleans()):
        i = draw(st.sampled_from(full))
        j = i + 1
        while j < len(key) and key[j] == ("slice", slice(None)):
            j += 1
        key[i:j] = [("ellipsis", Ellipsis)]
    while key and key[-1] == ("slice", slice(None)) and draw(st.booleans()):
        key.pop()
    return key


def _keys(key, torch):
    def one(lib):
        out = []
        for kind, v in key:
            if kind in ("t0", "mask"):
                out.append(mnp.tensor(v) if lib == "mnp" else torch.tensor(v))
            else:
                out.append(v)
        return tuple(out)
    return one("mnp"), one("torch")


def _torch_or_error(f):
    try:
        return f(), None
    except (IndexError, RuntimeError, ValueError) as exc:
        return None, exc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=mixed_keys(), seed=st.integers(0, 2**16))
def test_mixed_getitem_and_gradient_match_torch(torch, key, seed):
    mk, tk = _keys(key, torch)
    a = np.arange(24.0).reshape(SHAPE)
    t = torch.tensor(a, requires_grad=True)
    expect, err = _torch_or_error(lambda: t[tk])
    x = mnp.tensor(a, requires_grad=True)
    if err is not None:
        with pytest.raises(mnp.ShapeError, match="getitem"):
            x[mk]
        return
    y = x[mk]
    assert y.shape == tuple(expect.shape), (key, y.shape, tuple(expect.shape))
    np.testing.assert_array_equal(y.numpy(), expect.detach().numpy())
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(mnp.tensor(g))
    expect.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=mixed_keys(), scalar=st.booleans())
def test_mixed_setitem_matches_torch(torch, key, scalar):
    mk, tk = _keys(key, torch)
    a = np.arange(24.0).reshape(SHAPE)
    t = torch.tensor(a)
    sel, err = _torch_or_error(lambda: t[tk])
    x = mnp.tensor(a)
    if err is not None:
        with pytest.raises(mnp.ShapeError, match="setitem"):
            x[mk] = 1.0
        return
    value = -1.0 if scalar else -np.arange(1.0, sel.numel() + 1).reshape(tuple(sel.shape))
    t[tk] = value if scalar else torch.tensor(value)
    x[mk] = value if scalar else mnp.tensor(value)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


@pytest.mark.parametrize("key, shape", [
    ((0, slice(None), [0, 1]), (3, 2)),
    ((slice(None), 0, [0, 1]), (2, 2)),
    (([0, 1], slice(None), 0), (2, 3)),
    ((0, slice(None), mnp.tensor([True, False, True, True])), (3, 3)),
    ((mnp.tensor(1), slice(None), [[0], [2]]), (3, 2, 1)),
    ((slice(None), False, slice(None), 0), (2, 0, 3)),
    ((None, [[0], [1]], slice(None), -1), (1, 2, 1, 3)),
    ((Ellipsis, 1, [0, 2]), (2, 2)),
])
def test_integer_indices_select_first_as_in_torch(key, shape):
    x = mnp.arange(24.0).reshape(2, 3, 4)
    assert x[key].shape == shape
    x[key] = mnp.zeros(shape)    # the same selection, written
    assert x[key].numpy().sum() == 0


def test_mixed_index_example_values():
    x = mnp.arange(24.0).reshape(2, 3, 4)
    assert x[0, :, [0, 1]].tolist() == [[0.0, 1.0], [4.0, 5.0], [8.0, 9.0]]
