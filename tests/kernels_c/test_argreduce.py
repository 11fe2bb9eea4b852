"""argmax / argmin against the numpy reference: every axis, keepdims, ties, NaN/inf, layouts."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ("float32", "float64")
NAMES = ("argmax", "argmin")


def _same(got, expected):
    assert got.dtype == np.int64 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (64, 1000), (1000, 3), (1, 1)])
def test_every_axis(kc, ref, rng, strided, dt, name, shape):
    x = rng.standard_normal(shape).astype(dt)
    for axis in [None, *range(-len(shape), len(shape))]:
        for keepdims in (False, True):
            expected = ref(name, dt)(x, axis, keepdims)
            _same(getattr(kc, name)(x, axis, keepdims), expected)
            _same(getattr(kc, name)(strided(x), axis, keepdims), expected)
            _same(getattr(kc, name)(np.asfortranarray(x), axis, keepdims), expected)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_ties_nan_inf(kc, ref, dt, name):
    inf, nan = np.inf, np.nan
    x = np.array([[1.0, 3.0, 3.0, -2.0, -2.0], [nan, 1.0, nan, 5.0, -5.0], [2.0, 1.0, 7.0, nan, 0.0],
                  [inf, -inf, inf, -inf, 0.0], [-0.0, 0.0, 0.0, -0.0, 0.0], [-inf] * 5], dt)
    for axis in (None, 0, 1, -1):
        _same(getattr(kc, name)(x, axis, False), ref(name, dt)(x, axis, False))
    long = np.zeros(1000, dt)
    long[[300, 700]] = 5.0 if name == "argmax" else -5.0    # tie: the first wins
    long[900] = nan
    assert getattr(kc, name)(long[:800], None, False) == 300
    assert getattr(kc, name)(long, 0, False) == 900          # NaN beats everything


@pytest.mark.parametrize("name", NAMES)
def test_inputs_left_to_the_reference(kc, ref, name):
    with pytest.raises(ValueError):
        getattr(kc, name)(np.zeros((0, 3), np.float32), None, False)
    _same(getattr(kc, name)(np.zeros((0, 3), np.float32), 1, False),
          ref(name)(np.zeros((0, 3), np.float32), 1, False))
    assert getattr(kc, name)(np.float32(3.0), None, False) == 0
    i = np.array([[3, 1, 2], [0, 5, 5]])
    _same(getattr(kc, name)(i, 1, True), ref(name, "int64")(i, 1, True))
    with pytest.raises((ValueError, IndexError)):
        getattr(kc, name)(np.ones((2, 3), np.float32), 2, False)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
                    elements=st.sampled_from([-1.0, 0.0, 2.0, np.inf, -np.inf, np.nan])),
       data=st.data(), name=st.sampled_from(NAMES), keepdims=st.booleans())
def test_property(kc, ref, x, data, name, keepdims):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    _same(getattr(kc, name)(x, axis, keepdims), ref(name, "float64")(x, axis, keepdims))
