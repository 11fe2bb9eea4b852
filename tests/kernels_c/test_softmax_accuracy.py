"""float32 softmax and log_softmax (and their backwards) against float64 references, with
measured error bounds: the float32 `exp` inside (kc_vexp.h, within 1 ulp) and the sums (in
double) keep every probability within 3.5 ulp of the exact softmax of the float32-rounded
shifted logits; an exp or a sum a couple of ulp sloppier fails here."""
from __future__ import annotations

import numpy as np
import pytest

# short slices (blocks of slices), one vector, tails, long slices
LENGTHS = (3, 8, 13, 64, 67, 300)


def _rows(rng, length):
    """Random logits at several scales and extreme rows: probabilities down to subnormal,
    huge logits (the max shift keeps them finite), masked (-inf) entries."""
    x = np.concatenate([rng.standard_normal((60, length)) * s for s in (1.0, 5.0, 20.0, 60.0)])
    spread = np.linspace(-110.0, 0.0, length)
    extreme = np.stack([spread, spread + 1e30, spread[::-1] * 0.8, np.full(length, 3.0)])
    extreme[3, length // 2:] = -np.inf
    return np.concatenate([x, extreme]).astype(np.float32)


def _shifted(x):
    """The logits minus their max as float32 computes it (its rounding is the input's)."""
    return (x - x.max(axis=-1, keepdims=True)).astype(np.float64)


def _ulps(got, exact):
    """|got - exact| in units of float32's spacing at `exact`, for normal results."""
    normal = exact >= np.finfo(np.float32).tiny
    spacing = np.spacing(exact.astype(np.float32)).astype(np.float64)
    return (np.abs(got.astype(np.float64) - exact) / spacing)[normal]


@pytest.mark.parametrize("length", LENGTHS)
def test_float32_softmax_within_ulps(kc, rng, length):
    x = _rows(rng, length)
    d = _shifted(x)
    e = np.exp(d)
    exact = e / e.sum(axis=-1, keepdims=True)
    got = kc.softmax(x, -1)
    assert got.dtype == np.float32
    assert _ulps(got, exact).max() <= 3.5
    tiny = np.finfo(np.float32).tiny   # subnormal probabilities: within 2 of their steps
    sub = exact < tiny
    assert np.abs(got[sub] - exact[sub]).max(initial=0.0) <= 2 * 2.0 ** -149


@pytest.mark.parametrize("length", LENGTHS)
def test_float32_log_softmax_within_ulps(kc, rng, length):
    x = _rows(rng, length)
    d = _shifted(x)
    finite = np.isfinite(d)
    lse = np.log(np.exp(d).sum(axis=-1, keepdims=True))
    got = kc.log_softmax(x, -1).astype(np.float64)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    # d is exact; the result, the sum (in log terms an absolute error) and its log are rounded
    with np.errstate(invalid="ignore"):   # -inf - -inf where the entry is masked
        err = np.abs(got - (d - lse)) / (np.abs(d) + lse + 1.0)
    assert err[finite].max() <= 1.5 * 2.0 ** -24


@pytest.mark.parametrize("length", LENGTHS)
def test_float32_backwards_within_bounds(kc, rng, length):
    x = _rows(rng, length)[:240]
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = kc.softmax(x, -1)
    yd, gd = y.astype(np.float64), g.astype(np.float64)
    exact = yd * (gd - (gd * yd).sum(axis=-1, keepdims=True))
    scale = np.abs(gd).max(axis=-1, keepdims=True) * yd + np.abs(exact)
    got = kc.softmax_backward(g, y, -1)
    assert (np.abs(got - exact) / np.maximum(scale, 1e-30)).max() <= 3 * 2.0 ** -24
    ly = kc.log_softmax(x, -1)
    lyd = ly.astype(np.float64)
    exact = gd - np.exp(lyd) * gd.sum(axis=-1, keepdims=True)
    scale = np.abs(gd).max(axis=-1, keepdims=True) * length + np.abs(exact)
    got = kc.log_softmax_backward(g, ly, -1)
    assert (np.abs(got - exact) / scale).max() <= 3 * 2.0 ** -24
