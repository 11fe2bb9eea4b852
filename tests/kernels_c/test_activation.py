"""leaky_relu, gelu (approximate "none" and "tanh"), their backwards and erf against the numpy
reference and PyTorch: special values, layouts, empty and 0-d inputs, threaded sizes,
arguments left to the reference."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
SPECIAL = [0.0, -0.0, 1e-8, -1e-8, 1e-30, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 5.0, -5.0, 9.0, -9.0,
           20.0, -20.0, 88.0, -88.0, 1e5, -1e5, 1e15, -1e15, 1e30, -1e30, np.inf, -np.inf, np.nan]
# against the reference; float32: its 1 + erf and 1 - tanh^2 lose up to ~1e-7 to cancellation,
# times |x| (PyTorch in float64 is the accuracy check)
GELU_TOL = {"float32": {"rtol": 2e-5, "atol": 5e-6}, "float64": {"rtol": 1e-12, "atol": 1e-14}}


def _inputs(rng, dt, n=2000, scale=4.0):
    return np.concatenate([np.array(SPECIAL), rng.standard_normal(n) * scale]).astype(dt)


def _layouts(x, strided):
    """x as given, a non-contiguous copy, and a transposed (Fortran-ordered) 2-d copy."""
    m = x[: x.size // 4 * 4].reshape(4, -1)
    return [(x, x), (strided(x), x), (np.asfortranarray(m), m)]


def _call(kc, ref, name, dt, args):
    with np.errstate(all="ignore"):
        return getattr(kc, name)(*args), ref(name, dt)(*args)


# ---- leaky_relu --------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, 1.0, -0.5, 3.0])
def test_leaky_relu(kc, ref, rng, strided, dt, slope):
    x = _inputs(rng, dt)
    g = rng.standard_normal(x.shape).astype(dt)
    for arr, plain in _layouts(x, strided):
        got, expected = _call(kc, ref, "leaky_relu", dt, (arr, slope))
        assert got.dtype == np.dtype(dt) and got.shape == arr.shape
        np.testing.assert_array_equal(got, expected)                          # exact
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))  # -0 * slope kept
        gg = g[: plain.size].reshape(plain.shape)
        got, expected = _call(kc, ref, "leaky_relu_backward", dt, (gg, arr, slope))
        np.testing.assert_array_equal(got, expected)
    got, _ = _call(kc, ref, "leaky_relu", dt, (x, slope))
    finite = np.isfinite(x)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got[finite], np.where(x > 0, x, x * np.asarray(slope, dt))[finite])
    assert np.isnan(got[np.isnan(x)]).all()


@pytest.mark.parametrize("dt", DTYPES)
def test_leaky_relu_against_torch(kc, torch, rng, dt):
    x = rng.standard_normal((37, 41)).astype(dt)
    g = rng.standard_normal((37, 41)).astype(dt)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.leaky_relu(xt, 0.1)
    yt.backward(torch.tensor(g))
    assert_close(kc.leaky_relu(x, 0.1), yt.detach().numpy(), rtol=0, atol=0)
    assert_close(kc.leaky_relu_backward(g, x, 0.1), xt.grad.numpy(), rtol=0, atol=0)


# ---- gelu ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_reference(kc, ref, rng, strided, dt, approximate):
    x = _inputs(rng, dt)
    g = rng.standard_normal(x.shape).astype(dt)
    for arr, plain in _layouts(x, strided):
        got, expected = _call(kc, ref, "gelu", dt, (arr, approximate))
        assert got.dtype == np.dtype(dt) and got.shape == arr.shape
        assert_close(got, expected, **GELU_TOL[dt], what=f"gelu {approximate}")
        gg = g[: plain.size].reshape(plain.shape)
        got, expected = _call(kc, ref, "gelu_backward", dt, (gg, arr, approximate))
        assert got.dtype == np.dtype(dt) and got.shape == arr.shape
        assert_close(got, expected, **GELU_TOL[dt], what=f"gelu_backward {approximate}")


@pytest.mark.parametrize("dt", DTYPES)
def test_gelu_special_values(kc, dt):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -1e30, 1e30], dt)
    for approximate in ("none", "tanh"):
        with np.errstate(all="ignore"):
            y = kc.gelu(x, approximate)
            d = kc.gelu_backward(np.ones_like(x), x, approximate)
        # gelu(inf) = inf; 0.5 x (1 + erf) at -inf is -inf * 0 (NaN), as in the reference
        np.testing.assert_array_equal(y[[0, 2, 3, 4, 6]], np.array([np.inf, np.nan, 0, 0, 1e30], dt))
        assert np.isnan(y[1]) and y[5] == 0.0
        assert np.isnan(d[2]) and d[3] == 0.5 and d[4] == 0.5
        assert np.isnan(d[1])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_against_torch(kc, torch, rng, dt, approximate):
    x = (rng.standard_normal((53, 77)) * 3).astype(dt)
    x[0, :6] = [0.0, -8.0, 8.0, -30.0, 30.0, 1e-6]
    g = rng.standard_normal(x.shape).astype(dt)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)      # float64 as the truth
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    yt.backward(torch.tensor(g.astype(np.float64)))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dt == "float32" else {"rtol": 1e-13, "atol": 1e-14}
    assert_close(kc.gelu(x, approximate), yt.detach().numpy(), **tol)
    assert_close(kc.gelu_backward(g, x, approximate), xt.grad.numpy(), **tol)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["gelu", "gelu_backward", "leaky_relu", "leaky_relu_backward"])
def test_large_threaded(kc, ref, rng, strided, dt, name):
    x = (rng.standard_normal((600, 500)) * 3).astype(dt)        # above every thread threshold
    g = rng.standard_normal(x.shape).astype(dt)
    extra = (0.05,) if name.startswith("leaky") else ("tanh",)
    args = ((g,) if name.endswith("backward") else ()) + (strided(x),) + extra
    got, expected = _call(kc, ref, name, dt, args)
    assert_close(got, expected, **GELU_TOL[dt])
    if name == "gelu":
        assert_close(kc.gelu(x), ref("gelu", dt)(x), **GELU_TOL[dt])     # default "none"


@pytest.mark.parametrize("dt", DTYPES)
def test_erf(kc, ref, torch, rng, strided, dt):
    tiny = np.logspace(-30, 0.5, 400)
    x = np.concatenate([_inputs(rng, dt, scale=2.0), tiny, -tiny, [0.4999999, 0.5, 0.5000001]]).astype(dt)
    for arr, plain in _layouts(x, strided):
        got, expected = _call(kc, ref, "erf", dt, (arr,))
        assert got.dtype == np.dtype(dt) and got.shape == arr.shape
        assert_close(got, expected, **GELU_TOL[dt])
    got = kc.erf(x)
    truth = torch.erf(torch.tensor(x.astype(np.float64))).numpy()
    # relative accuracy down to tiny arguments (the reference's float32 fit gives 0 there)
    rtol = 4e-7 if dt == "float32" else 1e-15
    assert_close(got, truth, rtol=rtol, atol=0)
    np.testing.assert_array_equal(np.signbit(got[:2]), [False, True])          # erf(-0) = -0
    big = (rng.standard_normal((600, 500)) * 2).astype(dt)                      # threaded
    assert_close(kc.erf(big), ref("erf", dt)(big), **GELU_TOL[dt])


def test_empty_and_zero_d(kc, ref):
    for dt in DTYPES:
        for x in (np.zeros((0, 3), dt), np.zeros(0, dt), np.array(-1.5, dt), np.asarray(2.0, dt)[()]):
            cases = [("leaky_relu", (x, 0.1)), ("leaky_relu_backward", (x, x, 0.1)),
                     ("gelu", (x, "none")), ("gelu", (x, "tanh")), ("gelu", (x,)),
                     ("gelu_backward", (x, x, "tanh")), ("gelu_backward", (x, x)), ("erf", (x,))]
            for name, args in cases:
                got, expected = getattr(kc, name)(*args), ref(name, dt)(*args)
                assert np.shape(got) == np.shape(expected), (name, x.shape)
                assert np.asarray(got).dtype == np.asarray(expected).dtype
                assert type(got) is type(expected), (name, type(got), type(expected))
                assert_close(got, expected, **GELU_TOL[dt])


def test_inputs_left_to_the_reference(kc, ref, rng):
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    # broadcasting backwards, mixed dtypes, other dtypes, unknown approximate strings, a 0-d slope
    for name, args in [("leaky_relu_backward", (g[:1], x, 0.1)),
                       ("leaky_relu_backward", (g.astype(np.float32), x, 0.1)),
                       ("gelu_backward", (g, x[:1], "tanh")),
                       ("gelu", (x, "other")), ("gelu", (x, None)),
                       ("gelu", (x.astype(np.float16), "tanh")),
                       ("leaky_relu", (x, np.float32(0.25))),
                       ("leaky_relu", (np.arange(-3, 3), 0.5))]:
        got, expected = getattr(kc, name)(*args), ref(name, "float64")(*args)
        assert np.asarray(got).dtype == np.asarray(expected).dtype, name
        assert_close(got, expected, rtol=1e-6, atol=1e-6, what=name)
    with pytest.raises(ValueError):
        kc.leaky_relu(x, "slope")            # the reference's own error
    with pytest.raises(TypeError, match="gelu: takes 1 to 2 arguments, got 3"):
        kc.gelu(x, "none", 1)


def _gelu_truth(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 gelu(x), gelu'(x) and the backward's scale Phi(x) + |x| phi(x) (the size of the
    terms it sums, against which its error is measured: gelu' crosses 0 near x = -0.75)."""
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        cdf = 0.5 * np.vectorize(math.erfc)(-xd / math.sqrt(2.0))
        xpdf = xd * np.exp(-0.5 * xd * xd) / math.sqrt(2.0 * math.pi)
        return xd * cdf, cdf + xpdf, cdf + np.abs(xpdf)


def test_gelu_float32_error_bound(kc):
    """float32 gelu "none" and its backward against float64 over a dense sweep of [-12, 12],
    the tail where the result becomes subnormal and special values: within 4e-7 relative
    (~7 units of 2^-24; 3.4e-7 measured) wherever the result is normal, so negative x keep
    their tiny values (gelu(-10) = -7.6e-23, not 0 from 1 + erf cancelling), and within two
    subnormal steps below float's normal range."""
    sweep = np.linspace(-12.0, 12.0, 48001, dtype=np.float32)
    tail = np.linspace(-14.6, -12.0, 2001, dtype=np.float32)
    special = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1e-30, -1e-30, 1e-8, -1e-8,
                        15.0, 30.0, 1e30, 3e38, -15.0, -30.0, -1e30, -3e38], np.float32)
    x = np.concatenate([sweep, tail, special])
    y = kc.gelu(x, "none").astype(np.float64)
    d = kc.gelu_backward(np.ones_like(x), x, "none").astype(np.float64)
    y0, d0, scale = _gelu_truth(x)
    tiny = float(np.finfo(np.float32).tiny)
    step = float(np.finfo(np.float32).smallest_subnormal)
    normal = np.abs(y0) >= tiny
    assert np.all(np.abs(y - y0)[normal] <= 4e-7 * np.abs(y0)[normal])
    assert np.all(np.abs(y - y0)[~normal] <= 2 * step)
    assert np.all(np.abs(d - d0)[scale >= tiny] <= 4e-7 * scale[scale >= tiny])
    assert np.all(np.abs(d - d0)[scale < tiny] <= 2 * step)
    assert np.array_equal(np.signbit(y[x == 0]), np.signbit(x[x == 0]))   # gelu(-0) = -0
    assert y[x == -10.0][0] == pytest.approx(-7.619853e-23, rel=4e-7)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_bit_identical_across_threads(kc, rng, dt, approximate):
    """Above the thread threshold, 1, 2 and 3 threads give the same bits: the split falls on
    block boundaries, so no element moves between the vector loop and its scalar remainder."""
    import mnp.core as mnp
    x = (rng.standard_normal(50001) * 5).astype(dt)
    g = rng.standard_normal(50001).astype(dt)
    before = mnp.get_num_threads()
    try:
        outs = []
        for nt in (1, 2, 3):
            mnp.set_num_threads(nt)
            outs.append((kc.gelu(x, approximate), kc.gelu_backward(g, x, approximate)))
    finally:
        mnp.set_num_threads(before)
    for y, d in outs[1:]:
        assert y.tobytes() == outs[0][0].tobytes() and d.tobytes() == outs[0][1].tobytes()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_same_bits_at_any_position(kc, rng, dt, approximate):
    """An element's result does not depend on where it lies (vector loop or remainder, a
    thread's chunk boundary): offset views and single elements give the same bits."""
    x = (rng.standard_normal(1000) * 5).astype(dt)
    x[:6] = [0.0, -0.0, -13.5, 13.5, -3e38, 1e-40]
    g = rng.standard_normal(1000).astype(dt)
    with np.errstate(all="ignore"):
        y = kc.gelu(x, approximate)
        d = kc.gelu_backward(g, x, approximate)
        for k in (1, 3, 5, 7):
            assert kc.gelu(x[k:], approximate).tobytes() == y[k:].tobytes()
            assert kc.gelu_backward(g[k:], x[k:], approximate).tobytes() == d[k:].tobytes()
        for i in range(0, 1000, 37):
            assert kc.gelu(x[i:i + 1], approximate).tobytes() == y[i:i + 1].tobytes()
            assert (kc.gelu_backward(g[i:i + 1], x[i:i + 1], approximate).tobytes()
                    == d[i:i + 1].tobytes())
