"""sum / max / min over any axes with keepdims against the numpy reference."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")


def _all_axes(ndim):
    yield None
    for r in range(1, ndim + 1):
        yield from itertools.combinations(range(ndim), r)


def _tol(dt, n):
    return {"rtol": 1e-5, "atol": 1e-5 * np.sqrt(max(n, 1))} if dt == "float32" else \
        {"rtol": 1e-12, "atol": 1e-12 * max(n, 1)}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["sum", "max", "min"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 1, 4, 3), (4, 3, 2, 5)])
def test_every_axes_combination(kc, ref, rng, strided, dt, name, shape):
    x = rng.standard_normal(shape).astype(dt)
    for axes in _all_axes(len(shape)):
        for keepdims in (False, True):
            for arr in (x, strided(x)):
                got, expected = getattr(kc, name)(arr, axes, keepdims), ref(name, dt)(arr, axes, keepdims)
                assert np.shape(got) == np.shape(expected), (axes, keepdims)
                assert np.asarray(got).dtype == np.asarray(expected).dtype
                assert_close(got, expected, **_tol(dt, x.size), what=f"{axes} {keepdims}")


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("axes", [None, (0,), (1,), (0, 2), (1, 2)])
def test_large_threaded(kc, ref, rng, dt, axes):
    x = rng.standard_normal((64, 130, 97)).astype(dt) + 0.5
    for name in ("sum", "max", "min"):
        assert_close(getattr(kc, name)(x, axes, False), ref(name, dt)(x, axes, False),
                     **_tol(dt, x.size))


def test_sum_accuracy_long_rows(kc):
    x = np.full(3_000_001, 0.1, np.float32)
    assert abs(float(kc.sum(x, None, False)) - 300000.1) < 0.5      # float64 chunk totals


def test_max_propagates_nan_and_handles_inf(kc, ref):
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, -np.inf, -np.inf]], np.float32)
    np.testing.assert_array_equal(kc.max(x, (1,), False), ref("max")(x, (1,), False))
    assert np.isnan(kc.max(x, None, False))
    np.testing.assert_array_equal(kc.max(x, (0,), False), [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(kc.max(x[1:], (1,), True), [[-np.inf]])


@pytest.mark.parametrize("dt", DTYPES)
def test_min_propagates_nan_and_handles_inf(kc, ref, dt):
    x = np.array([[1.0, np.nan, 3.0], [np.inf, np.inf, np.inf], [-np.inf, 2.0, -0.0]], dt)
    for axes in (None, (0,), (1,)):
        for keepdims in (False, True):
            np.testing.assert_array_equal(kc.min(x, axes, keepdims), ref("min", dt)(x, axes, keepdims))
    np.testing.assert_array_equal(kc.min(x, (1,), False), [np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(kc.min(x, (0,), False), [-np.inf, np.nan, -0.0])
    assert np.isnan(kc.min(x, None, False))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("where", [0, 5, 63, 64, 999, -1])
def test_min_nan_anywhere_in_long_rows(kc, dt, where, strided):
    x = np.linspace(-3, 3, 4 * 1000).astype(dt).reshape(4, 1000)
    x[2, where] = np.nan
    row = kc.min(x, (1,), False)
    assert np.isnan(row[2]) and not np.isnan(row[[0, 1, 3]]).any()
    assert np.isnan(kc.min(x, None, False)) and np.isnan(kc.min(strided(x), None, True)).all()
    big = np.ones((600, 600), dt)          # threaded full reduction: NaN in the second half
    big[-1, -1] = np.nan
    assert np.isnan(kc.min(big, None, False))
    big[-1, -1] = -5.0
    assert kc.min(big, None, False) == -5.0


def test_fallbacks(kc):
    with pytest.raises(ValueError):
        kc.max(np.zeros((0, 3), np.float32), None, False)         # numpy's error for empty max
    with pytest.raises(ValueError):
        kc.min(np.zeros((0, 3), np.float64), None, False)
    np.testing.assert_array_equal(kc.min(np.zeros((0, 3), np.float32), (1,), False), np.zeros(0))
    assert kc.min(np.float32(2.5), None, False) == 2.5 and kc.min(np.arange(3, 7), None, False) == 3
    np.testing.assert_array_equal(kc.sum(np.zeros((0, 3), np.float32), (0,), False), np.zeros(3))
    assert kc.sum(np.arange(5), None, False) == 10
    assert kc.sum(np.float32(2.5), None, False) == 2.5
    np.testing.assert_array_equal(kc.sum(np.ones((2, 3), np.float32), -1, False), [3, 3])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6),
       data=st.data(), dt=st.sampled_from(DTYPES), name=st.sampled_from(["sum", "max", "min"]),
       keepdims=st.booleans())
def test_reduce_property(kc, ref, shape, data, dt, name, keepdims):
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                                   unique=True).map(lambda a: tuple(sorted(a)))))
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dt)
    got, expected = getattr(kc, name)(x, axes, keepdims), ref(name, dt)(x, axes, keepdims)
    assert np.shape(got) == np.shape(expected)
    assert_close(got, expected, **_tol(dt, x.size))
