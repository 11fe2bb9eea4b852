"""Creation functions: shapes as ints or tuples, dtypes, ranges, and seeded randomness."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.errors import DTypeError, MnpError, ShapeError

FILLED = [(mnp.zeros, 0.0), (mnp.ones, 1.0)]
SHAPED = [mnp.zeros, mnp.ones, mnp.empty, mnp.rand, mnp.randn]


@pytest.mark.parametrize("fn", SHAPED)
def test_shape_as_ints_tuple_or_list(fn):
    for args in ((2, 3), ((2, 3),), ([2, 3],)):
        t = fn(*args)
        assert t.shape == (2, 3) and t.dtype == np.float32
    assert fn(4).shape == (4,)
    assert fn().shape == () and fn(()).shape == ()
    assert fn(0, 3).shape == (0, 3)
    assert fn(np.int64(2), 2).shape == (2, 2)


@pytest.mark.parametrize("fn", SHAPED)
def test_dtype_and_requires_grad_arguments(fn):
    t = fn(2, dtype=mnp.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=4))
def test_filled_tensors_of_any_shape(shape):
    for fn, value in FILLED:
        t = fn(*shape)
        assert t.shape == tuple(shape)
        assert np.all(t.data == value)
        assert fn(tuple(shape)).shape == tuple(shape)


@pytest.mark.parametrize("fn", SHAPED)
def test_bad_shapes(fn):
    with pytest.raises(ShapeError, match=f"{fn.__name__}: negative dimension in shape \\(2, -1\\)"):
        fn(2, -1)
    with pytest.raises(ShapeError, match="shape must be integers"):
        fn("a")


def test_int_tensors_cannot_require_grad_at_creation():
    with pytest.raises(DTypeError):
        mnp.zeros(2, dtype=mnp.int64, requires_grad=True)


def test_full_and_likes(torch):
    f = mnp.full((2, 3), 1.5)
    assert f.shape == (2, 3) and f.dtype == np.float32 and np.all(f.data == 1.5)
    assert mnp.full(3, 7).dtype == torch.full((3,), 7).numpy().dtype == np.int64
    assert mnp.full([2], True).dtype == np.bool_
    assert mnp.full((2,), 1, dtype=mnp.float64).dtype == np.float64
    base = mnp.tensor([[1, 2]], dtype=mnp.int32)
    for fn, value in ((mnp.zeros_like, 0), (mnp.ones_like, 1)):
        t = fn(base)
        assert t.shape == (1, 2) and t.dtype == np.int32 and np.all(t.data == value)
    assert mnp.zeros_like(base, dtype=mnp.float64).dtype == np.float64
    assert mnp.full_like(base, 5).tolist() == [[5, 5]]
    assert mnp.ones_like(np.zeros((2, 2), np.float64)).dtype == np.float64


def test_arange_and_linspace_match_torch(torch):
    for args in ((5,), (2, 7), (0, 10, 3), (5, 0, -2)):
        m, t = mnp.arange(*args), torch.arange(*args)
        assert m.dtype == np.int64 and m.tolist() == t.tolist()
    m, t = mnp.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)
    assert m.dtype == np.float32 and m.tolist() == t.tolist()
    assert mnp.arange(3, dtype=mnp.float64).dtype == np.float64
    m, t = mnp.linspace(-1, 1, 5), torch.linspace(-1, 1, 5)
    assert m.dtype == np.float32 and m.tolist() == t.tolist()
    assert mnp.linspace(0, 1, 0).shape == (0,)


def test_eye():
    assert mnp.eye(3).tolist() == np.eye(3).tolist() and mnp.eye(3).dtype == np.float32
    assert mnp.eye(2, 3).shape == (2, 3)
    assert mnp.eye(2, dtype=mnp.float64).dtype == np.float64


def test_randint():
    mnp.manual_seed(0)
    r = mnp.randint(3, 7, (50,))
    assert r.dtype == np.int64 and r.shape == (50,)
    assert r.data.min() >= 3 and r.data.max() <= 6 and len(set(r.tolist())) == 4
    z = mnp.randint(2, shape=(2, 3))
    assert z.shape == (2, 3) and set(z.tolist()[0]) <= {0, 1}
    assert mnp.randint(0, 5, 4).shape == (4,)


@pytest.mark.parametrize("call, message", [
    (lambda: mnp.arange(0, 5, 0), "arange: step must not be zero"),
    (lambda: mnp.linspace(0, 1, -1), "linspace: steps must be non-negative, got -1"),
    (lambda: mnp.randint(5, 5, (2,)), r"randint: high \(5\) must be greater than low \(5\)"),
    (lambda: mnp.zeros(2, dtype="complex64"), "zeros: unsupported dtype complex64"),
])
def test_bad_arguments_are_mnp_errors(call, message):
    with pytest.raises(MnpError, match=message) as info:
        call()
    assert isinstance(info.value, (ValueError, TypeError))


def test_random_distributions():
    mnp.manual_seed(1)
    u = mnp.rand(20_000)
    assert u.dtype == np.float32 and u.data.min() >= 0 and u.data.max() < 1
    assert abs(float(u.data.mean()) - 0.5) < 0.02
    n = mnp.randn(20_000, dtype=mnp.float64)
    assert abs(float(n.data.mean())) < 0.03 and abs(float(n.data.std()) - 1) < 0.03


def test_manual_seed_reproducibility():
    def draw():
        return (mnp.rand(3).tolist(), mnp.randn(2, 2).tolist(), mnp.randint(0, 100, (4,)).tolist())
    mnp.manual_seed(123)
    first = draw()
    mnp.manual_seed(123)
    assert draw() == first
    mnp.manual_seed(124)
    assert draw() != first


def test_rng_state_round_trip():
    mnp.manual_seed(7)
    mnp.rand(5)
    state = mnp.get_rng_state()
    expected = mnp.randn(4).tolist()
    mnp.randn(10)
    mnp.set_rng_state(state)
    assert mnp.randn(4).tolist() == expected
