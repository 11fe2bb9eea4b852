"""Binary ops with broadcasting, activations and their backwards against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
BINARY = ("add", "sub", "mul", "div")
PATTERNS = [((4, 5), (4, 5)), ((4, 5), (5,)), ((4, 5), (4, 1)), ((4, 5), ()), ((), (3,)),
            ((3, 1, 5), (1, 4, 1)), ((2, 3, 4, 5), (3, 1, 5)), ((1,), (7, 3)), ((0, 3), (3,)),
            ((6, 1), (1, 300))]


def _operands(rng, sa, sb, dt):
    a = rng.standard_normal(sa).astype(dt)
    b = (rng.standard_normal(sb) + 3.0).astype(dt)       # away from 0 for div
    return np.asarray(a), np.asarray(b)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("sa,sb", PATTERNS)
def test_binary_broadcasting(kc, ref, tol, rng, dt, name, sa, sb):
    a, b = _operands(rng, sa, sb, dt)
    for x, y in ((a, b), (b, a)):
        got, expected = getattr(kc, name)(x, y), ref(name, dt)(x, y)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert_close(got, expected, **tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", BINARY)
def test_binary_strided_and_large(kc, ref, tol, rng, strided, dt, name):
    a, b = _operands(rng, (300, 700), (300, 700), dt)
    sa = strided(a)
    assert_close(getattr(kc, name)(sa, b), ref(name, dt)(a, b), **tol(dt))
    assert_close(getattr(kc, name)(a.T, b.T), ref(name, dt)(a.T, b.T), **tol(dt))
    col = b[:, :1]
    assert_close(getattr(kc, name)(a, col), ref(name, dt)(a, col), **tol(dt))
    assert_close(getattr(kc, name)(a[::-1, ::3], b[0, ::3]), ref(name, dt)(a[::-1, ::3], b[0, ::3]),
                 **tol(dt))


def test_binary_errors_and_fallbacks(kc):
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        kc.add(np.ones((2, 3), np.float32), np.ones(4, np.float32))
    i = np.arange(4)
    np.testing.assert_array_equal(kc.mul(i, i), i * i)
    np.testing.assert_array_equal(kc.add(np.ones(2, np.float32), 1.5), np.full(2, 2.5, np.float32))
    np.testing.assert_array_equal(kc.sub(np.ones(2, np.float32), np.ones(2)), np.zeros(2))
    assert kc.add(np.float32(1), np.float32(2)) == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5),
       dt=st.sampled_from(DTYPES), name=st.sampled_from(BINARY))
def test_binary_property(kc, ref, tol, shapes, dt, name):
    sa, sb = shapes.input_shapes
    a, b = _operands(np.random.default_rng(len(sa) * 7 + len(sb)), sa, sb, dt)
    got = getattr(kc, name)(a, b)
    expected = ref(name, dt)(a, b)
    assert np.shape(got) == shapes.result_shape
    assert_close(got, expected, **tol(dt))


SPECIAL = [0.0, -0.0, 1e-8, -1e-8, 1e-4, -0.3, 0.3466, 0.7, -2.5, 9.0, -9.0, 20.0, -20.0, 87.0,
           -87.5, -100.0, 100.0, 1e30, -1e30, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activations(kc, ref, rng, strided, dt, name):
    x = np.concatenate([np.array(SPECIAL), rng.standard_normal(1000) * 6]).astype(dt)
    expected = ref(name, dt)(x)
    got = getattr(kc, name)(x)
    assert got.dtype == np.dtype(dt)
    # float32 exp/expm1 are a polynomial fit: a few ulp
    rtol, atol = (3e-6, 1e-30) if dt == "float32" else (1e-14, 1e-300)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    np.testing.assert_array_equal(np.signbit(got[:2]), np.signbit(expected[:2]))   # +-0
    big = rng.standard_normal((512, 300)).astype(dt)                                 # threaded
    np.testing.assert_allclose(getattr(kc, name)(strided(big)), ref(name, dt)(big), rtol=rtol,
                               atol=1e-7 if dt == "float32" else 1e-300)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name,forward", [("relu_backward", None), ("sigmoid_backward", "sigmoid"),
                                          ("tanh_backward", "tanh")])
def test_activation_backwards(kc, ref, tol, rng, strided, dt, name, forward):
    x = rng.standard_normal((37, 41)).astype(dt)
    x[0, :3] = 0
    v = x if forward is None else ref(forward, dt)(x)
    g = rng.standard_normal(x.shape).astype(dt)
    assert_close(getattr(kc, name)(g, v), ref(name, dt)(g, v), **tol(dt))
    assert_close(getattr(kc, name)(strided(g), v.T.copy().T), ref(name, dt)(g, v), **tol(dt))
    # broadcasting is left to the reference
    assert_close(getattr(kc, name)(g, v[:1]), ref(name, dt)(g, v[:1]), **tol(dt))


def test_unary_fallbacks(kc):
    i = np.array([-2, 3])
    np.testing.assert_array_equal(kc.relu(i), [0, 3])
    assert float(kc.relu(np.float32(-1.0))) == 0.0
    assert kc.relu(np.zeros((0, 3), np.float32)).shape == (0, 3)
