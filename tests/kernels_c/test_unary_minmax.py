"""sqrt, neg, abs, sign and maximum/minimum against the numpy reference: special values,
layouts, empty inputs, broadcasting."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
UNARY = ("sqrt", "neg", "abs", "sign")
SPECIAL = [0.0, -0.0, 1e-8, -1e-8, 1e-30, 0.5, -0.5, 1.0, -1.0, 2.5, 20.0, -20.0, 87.0, -87.0,
           -87.5, -95.0, -103.5, -110.0, 88.5, 88.72, 89.0, 700.0, 710.0, -745.0, 1e30, -1e30,
           np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary(kc, ref, rng, strided, dt, name):
    x = np.concatenate([np.array(SPECIAL), rng.standard_normal(2000) * 30]).astype(dt)
    with np.errstate(all="ignore"):
        expected = ref(name, dt)(x)
    got = getattr(kc, name)(x)
    assert got.dtype == np.dtype(dt) and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)                                    # exact
    np.testing.assert_array_equal(np.signbit(got[:2]), np.signbit(expected[:2]))     # +-0
    big = (rng.standard_normal((700, 300)) * 5).astype(dt)                             # threaded
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(getattr(kc, name)(strided(big)), ref(name, dt)(big))
        np.testing.assert_array_equal(getattr(kc, name)(big.T), ref(name, dt)(big.T))


@pytest.mark.parametrize("name", UNARY)
def test_unary_inputs_left_to_the_reference(kc, ref, name):
    for x in (np.zeros((0, 3), np.float32), np.float32(2.0), np.array(4.0), np.arange(1, 5),
              np.ones(3, np.float16)):
        got, expected = getattr(kc, name)(x), ref(name)(x)
        assert np.shape(got) == np.shape(expected) and np.asarray(got).dtype == np.asarray(expected).dtype
        assert_close(got, expected)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("sa,sb", [((4, 5), (4, 5)), ((4, 5), (5,)), ((3, 1, 5), (1, 4, 1)),
                                   ((5,), ()), ((0, 3), (3,)), ((300, 700), (300, 1))])
def test_maximum_minimum(kc, ref, rng, strided, dt, name, sa, sb):
    a = rng.standard_normal(sa).astype(dt)
    b = rng.standard_normal(sb).astype(dt)
    for x, y in ((a, b), (b, a), (strided(a), b), (a, a.copy())):
        got, expected = getattr(kc, name)(x, y), ref(name, dt)(x, y)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_special(kc, ref, dt, name):
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dt)
    a, b = np.meshgrid(vals, vals)
    got, expected = getattr(kc, name)(a, b), ref(name, dt)(a, b)
    np.testing.assert_array_equal(got, expected)          # NaN wherever either operand is NaN
    assert np.isnan(got[0]).all() and np.isnan(got[:, 0]).all()


def test_maximum_errors(kc):
    with pytest.raises(ShapeError, match=r"maximum: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        kc.maximum(np.ones((2, 3), np.float32), np.ones(4, np.float32))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5),
       name=st.sampled_from(["maximum", "minimum"]))
def test_maximum_minimum_property(kc, ref, shapes, name):
    sa, sb = shapes.input_shapes
    r = np.random.default_rng(len(sa) * 5 + len(sb))
    a, b = np.asarray(r.standard_normal(sa)), np.asarray(r.standard_normal(sb))
    got = getattr(kc, name)(a, b)
    assert np.shape(got) == shapes.result_shape
    np.testing.assert_array_equal(got, ref(name, "float64")(a, b))
