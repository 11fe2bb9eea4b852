"""Tensor basics: data sharing, dtype inference, conversions, the Python protocol, repr."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import DTypeError, ShapeError
from mnp.core.testing import F32, assert_close


# -- .data and memory -----------------------------------------------------------------------
def test_data_is_the_shared_numpy_array():
    t = mnp.tensor([1.0, 2.0, 3.0])
    assert isinstance(t.data, np.ndarray)
    t.data[1] = 20.0
    assert t.tolist() == [1.0, 20.0, 3.0]
    assert t.numpy() is t.data
    assert np.asarray(t) is t.data


def test_data_of_a_grad_tensor_carries_no_graph():
    x = mnp.ones(2, requires_grad=True)
    y = x * 2
    assert isinstance(y.data, np.ndarray)
    y.data[0] = 7.0          # writing through .data is not recorded
    assert y.tolist() == [7.0, 2.0]


def test_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = mnp.from_numpy(a)
    assert t.dtype == np.float64 and np.shares_memory(t.data, a)
    a[0, 0] = 42.0
    assert t.data[0, 0] == 42.0
    t.data[1, 2] = -1.0
    assert a[1, 2] == -1.0
    with pytest.raises(DTypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        mnp.from_numpy([1.0, 2.0])


def test_tensor_copies_its_input():
    a = np.ones(3, np.float32)
    t = mnp.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [1.0, 1.0, 1.0]
    u = mnp.tensor(t)
    t.data[1] = 9.0
    assert u.tolist() == [1.0, 1.0, 1.0]
    assert not np.shares_memory(mnp.tensor(a, dtype=mnp.float32).data, a)


# -- dtype inference ------------------------------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2.5]], np.float32),
    (3, np.int64), ([1, 2], np.int64), (True, np.bool_), ([True, False], np.bool_),
    (np.zeros(2, np.float64), np.float64), (np.zeros(2, np.float32), np.float32),
    (np.zeros(2, np.float16), np.float16), (np.zeros(2, np.int32), np.int32),
    (np.zeros(2, np.int16), np.int64), (np.zeros(2, np.uint8), np.int64),
    (np.float64(2.0), np.float64),
])
def test_dtype_inference(data, dtype):
    assert mnp.tensor(data).dtype == dtype


def test_dtype_inference_matches_torch(torch):
    for data in (1.5, [1.0, 2.0], 3, [1, 2], True):
        assert mnp.tensor(data).dtype.name == str(torch.tensor(data).dtype).replace("torch.", "")


def test_explicit_dtype():
    assert mnp.tensor([1, 2], dtype=mnp.float64).dtype == np.float64
    assert mnp.tensor([1.7], dtype="int32").tolist() == [1]
    assert mnp.tensor([1.0], dtype=float).dtype == np.float32
    assert mnp.tensor(1, dtype=bool).dtype == np.bool_
    with pytest.raises(DTypeError, match=r"unsupported dtype complex64"):
        mnp.tensor([1.0], dtype=np.complex64)
    with pytest.raises(DTypeError, match="is not a dtype"):
        mnp.tensor([1.0], dtype="nonsense")


@pytest.mark.parametrize("bad, error", [(["a", "b"], DTypeError), ([1 + 2j], DTypeError),
                                        (None, DTypeError), ([[1, 2], [3]], ShapeError)])
def test_bad_data(bad, error):
    with pytest.raises(error, match="tensor: "):
        mnp.tensor(bad)


def test_set_default_dtype():
    assert mnp.get_default_dtype() == np.float32
    try:
        mnp.set_default_dtype(mnp.float64)
        assert mnp.get_default_dtype() == np.float64
        assert mnp.tensor([0.1]).dtype == np.float64
        assert mnp.tensor([0.1]).item() == 0.1            # no float32 rounding on the way
        assert mnp.zeros(2).dtype == np.float64 and mnp.randn(2).dtype == np.float64
        assert mnp.tensor([1, 2]).dtype == np.int64       # ints unaffected
        assert mnp.tensor(np.zeros(1, np.float32)).dtype == np.float32   # arrays keep theirs
    finally:
        mnp.set_default_dtype(mnp.float32)
    assert mnp.tensor([0.1]).dtype == np.float32
    with pytest.raises(DTypeError, match="only floating dtypes can be the default, got int64"):
        mnp.set_default_dtype(mnp.int64)


# -- attributes and conversion --------------------------------------------------------------
def test_shape_attributes():
    t = mnp.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.numel() == 24 and t.dtype == mnp.float32
    assert t.T.shape == (4, 3, 2)


def test_len_iter_item_tolist(rng):
    a = rng.standard_normal((3, 2)).astype(np.float32)
    t = mnp.tensor(a)
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, mnp.Tensor) and r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[2].data, a[2])
    assert t.tolist() == a.tolist()
    assert mnp.tensor([[2.5]]).item() == 2.5 and isinstance(mnp.tensor([[2.5]]).item(), float)
    assert isinstance(mnp.tensor(3).item(), int)
    with pytest.raises(ShapeError, match=r"item: only one-element tensors.*\(3, 2\)"):
        t.item()
    with pytest.raises(TypeError, match="len"):
        len(mnp.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(mnp.tensor(1.0)).__next__()


def test_iteration_keeps_the_graph():
    x = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    total = None
    for i, row in enumerate(x):
        total = row * (i + 1) if total is None else total + row * (i + 1)
    total.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]


def test_bool_and_scalar_conversions():
    assert bool(mnp.tensor([1.0])) and not bool(mnp.tensor(0.0))
    assert float(mnp.tensor(2.5)) == 2.5 and int(mnp.tensor(7)) == 7
    with pytest.raises(ShapeError, match=r"ambiguous"):
        bool(mnp.ones(2))
    assert [10, 20, 30][mnp.tensor(1)] == 20


def test_astype_copies_and_converts(torch):
    t = mnp.tensor([1.5, -2.5])
    for dt, tdt in ((mnp.float64, torch.float64), (mnp.int64, torch.int64), (mnp.float16, torch.float16)):
        c = t.astype(dt)
        assert c.dtype == dt and not np.shares_memory(c.data, t.data)
        assert c.tolist() == torch.tensor([1.5, -2.5]).to(tdt).tolist()
    assert t.double().dtype == np.float64 and t.float().dtype == np.float32
    assert t.long().tolist() == [1, -2]


def test_repr_shows_data_dtype_and_grad_fn():
    r = repr(mnp.tensor([1.0, 2.0]))
    assert r == "tensor([1., 2.], dtype=float32)"
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    r = repr(x * 2)
    assert r.startswith("tensor([2., 4.], dtype=float32, grad_fn=<") and "Backward>" in r
    assert "dtype=int64" in repr(mnp.tensor([1, 2]))


# -- operators ------------------------------------------------------------------------------
def test_operators_match_torch(torch, rng):
    an, bn = rng.standard_normal((3, 4)).astype(np.float32), rng.uniform(0.5, 2, (4,)).astype(np.float32)
    a, b = mnp.tensor(an), mnp.tensor(bn)
    ta, tb = torch.tensor(an), torch.tensor(bn)
    pairs = [(a + b, ta + tb), (a - b, ta - tb), (a * b, ta * tb), (a / b, ta / tb),
             (b ** 2, tb ** 2), (a @ a.T, ta @ ta.T), (-a, -ta), (2 - a, 2 - ta), (1 / b, 1 / tb),
             (2 ** b, 2 ** tb), (an @ a.T, ta @ ta.T), (3 * a, 3 * ta)]
    for mine, theirs in pairs:
        assert_close(mine, theirs, **F32)


def test_comparisons_are_bool_without_grad():
    x = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r, expected in ((x == 2, [False, True, False]), (x != 2, [True, False, True]),
                        (x < 2, [True, False, False]), (x <= 2, [True, True, False]),
                        (x > 2, [False, False, True]), (x >= 2, [False, True, True])):
        assert r.dtype == np.bool_ and r.tolist() == expected and not r.requires_grad


def test_in_place_operators_on_plain_tensors():
    t = mnp.tensor([1.0, 2.0])
    data = t.data
    t += 1
    t *= mnp.tensor([2.0, 3.0])
    t -= 1
    t /= 2
    assert t.tolist() == [1.5, 4.0] and t.data is data      # really in place


def test_numpy_array_on_the_left_defers_to_tensor():
    r = np.ones(2, np.float32) + mnp.ones(2)
    assert isinstance(r, mnp.Tensor) and r.tolist() == [2.0, 2.0]
