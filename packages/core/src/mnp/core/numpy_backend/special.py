"""Reference kernels of the rounding, trigonometric and special functions, with PyTorch's
values at the edges (signed zeros, infinities, NaN). ``<op>_backward(g, x)`` takes the input,
``<op>_backward(g, y)`` the output where the derivative is cheaper in it; binary backward
kernels return both full-size gradients (None where not needed) before unbroadcasting."""
from __future__ import annotations

import math

import numpy as np

from .elementwise import erf

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0


def _same(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.asarray(out).astype(like.dtype, copy=False)


def _quiet(fn):
    """Run ``fn`` with numpy's floating-point warnings off (inf and NaN are values here)."""
    def run(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


def _in_float64(fn):
    """``fn`` computed in float64 for float16/float32 inputs, then rounded to their dtype:
    numpy's own float32 ``log10`` is up to a few ulp off on some CPUs (``log10(100)`` gives
    2.0000002 where AVX-512 is used); PyTorch's is exact at powers of ten."""
    def run(x: np.ndarray) -> np.ndarray:
        if x.dtype in (np.float16, np.float32):
            return fn(x.astype(np.float64)).astype(x.dtype)
        return fn(x)
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


# -- rounding -----------------------------------------------------------------------------
def round_(x: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Half to even, at ``decimals`` places: ``rint(x * 10**d) / 10**d`` (``d < 0``:
    ``rint(x / 10**-d) * 10**-d``), in ``x``'s dtype, as PyTorch computes it."""
    if decimals == 0:
        return np.rint(x)
    with np.errstate(all="ignore"):
        if decimals > 0:
            p = x.dtype.type(10.0 ** decimals)
            return _same(np.rint(x * p) / p, x)
        p = x.dtype.type(10.0 ** -decimals)
        return _same(np.rint(x / p) * p, x)


def frac(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return x - np.trunc(x)


@_quiet
def fmod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C's ``fmod``: the sign of ``a``."""
    return np.fmod(a, b)


@_quiet
def remainder(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Python's ``%``: the sign of ``b``; a zero keeps ``fmod``'s sign, as PyTorch."""
    if a.dtype.kind in "iu":
        return np.remainder(a, b)
    m = np.fmod(a, b)
    fix = (m != 0) & ((b < 0) != (m < 0))
    return np.where(fix, m + b, m).astype(m.dtype, copy=False)


@_quiet
def floor_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``floor(a / b)``; for floats Python's ``//`` (``x // 0`` is ``+-inf``, ``0 // 0`` NaN)."""
    return np.floor_divide(a, b)


@_quiet
def trunc_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` rounded toward zero; integers stay exact."""
    if a.dtype.kind in "iu":
        q = np.floor_divide(a, b)
        inexact = (q * b != a) & ((a < 0) != (b < 0))
        return q + inexact.astype(q.dtype)
    return np.trunc(np.true_divide(a, b))


@_quiet
def remainder_backward(g, a, b, need_a, need_b):
    """Of ``a - b * floor(a / b)``: ``g`` and ``-g * floor(a / b)``."""
    return (g if need_a else None), (-g * floor_divide(a, b) if need_b else None)


@_quiet
def fmod_backward(g, a, b, need_a, need_b):
    """Of ``a - b * trunc(a / b)``: ``g`` and ``-g * trunc(a / b)``."""
    return (g if need_a else None), (-g * trunc_divide(a, b) if need_b else None)


# -- powers, logs and the error function ----------------------------------------------------
@_quiet
def rsqrt(x):
    return _same(1 / np.sqrt(x), x)


@_quiet
def rsqrt_backward(g, y):
    return _same(-0.5 * g * y * y * y, g)


@_quiet
def log2_backward(g, x):
    return _same(g / (x * _LN2), g)


@_quiet
def log10_backward(g, x):
    return _same(g / (x * _LN10), g)


@_quiet
def exp2_backward(g, y):
    return _same(g * y * _LN2, g)


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def erfc(x: np.ndarray) -> np.ndarray:
    """``1 - erf(x)`` without its cancellation: exact (``math.erfc``) for float64,
    Numerical Recipes' erfc (relative error below 1.2e-7) for the narrower dtypes."""
    if x.dtype == np.float64:
        return _ERFC(x).astype(np.float64) if x.ndim else np.float64(math.erfc(x))
    with np.errstate(all="ignore"):
        z = np.abs(x.astype(np.float32))
        t = 1.0 / (1.0 + 0.5 * z)
        poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
            -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
                -0.82215223 + t * 0.17087277))))))))
        r = t * np.exp(-z * z + poly)
        return np.where(x >= 0, r, 2 - r).astype(x.dtype, copy=False)


@_quiet
def erf_backward(g, x):
    return _same(g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)), g)


@_quiet
def erfc_backward(g, x):
    return _same(-g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)), g)


@_quiet
def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): Giles' single-precision
    approximation refined by Newton steps on float64's exact erf."""
    y64 = np.asarray(y, np.float64)
    w = -np.log((1.0 - y64) * (1.0 + y64))
    small = w < 5.0
    ws = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * ws
    wl = np.sqrt(w) - 3.0
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * wl
    x = np.where(small, p, q) * y64
    for _ in range(2):
        x = x - (erf(x) - y64) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    x = np.where(np.abs(y64) == 1, np.copysign(np.inf, y64), x)
    x = np.where(np.abs(y64) > 1, np.nan, x)
    return _same(x, np.asarray(y))


@_quiet
def erfinv_backward(g, y):
    return _same(g * (_SQRT_PI_OVER_2 * np.exp(y * y)), g)


# -- trigonometric and hyperbolic -----------------------------------------------------------
@_quiet
def tan_backward(g, y):
    return _same(g * (1 + y * y), g)


@_quiet
def asin_backward(g, x):
    return _same(g / np.sqrt(1 - x * x), g)


@_quiet
def acos_backward(g, x):
    return _same(-g / np.sqrt(1 - x * x), g)


@_quiet
def atan_backward(g, x):
    return _same(g / (1 + x * x), g)


@_quiet
def sinh_backward(g, x):
    return _same(g * np.cosh(x), g)


@_quiet
def cosh_backward(g, x):
    return _same(g * np.sinh(x), g)


@_quiet
def asinh_backward(g, x):
    return _same(g / np.sqrt(x * x + 1), g)


@_quiet
def acosh_backward(g, x):
    return _same(g / np.sqrt(x * x - 1), g)


@_quiet
def atanh_backward(g, x):
    return _same(g / (1 - x * x), g)


@_quiet
def atan2_backward(g, a, b, need_a, need_b):
    """Of ``atan2(a, b)``: ``g * b / (a² + b²)`` and ``-g * a / (a² + b²)``, 0 at the origin."""
    d = a * a + b * b
    zero = np.zeros((), g.dtype)
    ga = np.where(d == 0, zero, g * b / d) if need_a else None
    gb = np.where(d == 0, zero, -g * a / d) if need_b else None
    return ga, gb


@_quiet
def hypot_backward(g, a, b, need_a, need_b):
    """Of ``h = hypot(a, b)``: ``g * a / h`` and ``g * b / h`` (NaN at the origin, as PyTorch)."""
    h = np.hypot(a, b)
    return (g * a / h if need_a else None), (g * b / h if need_b else None)


@_quiet
def logaddexp_backward(g, a, b, need_a, need_b):
    """Of ``log(exp(a) + exp(b))``: ``g / (1 + exp(b - a))`` and ``g / (1 + exp(a - b))``."""
    return ((g / (1 + np.exp(b - a)) if need_a else None),
            (g / (1 + np.exp(a - b)) if need_b else None))


@_quiet
def logaddexp2_backward(g, a, b, need_a, need_b):
    return ((g / (1 + np.exp2(b - a)) if need_a else None),
            (g / (1 + np.exp2(a - b)) if need_b else None))


@_quiet
def copysign_backward(g, a, b, need_a, need_b):
    """Of ``|a|`` with ``b``'s sign: ``g * out / a`` (0 where ``a == 0``); 0 in ``b``."""
    out = np.copysign(a, b)
    zero = np.zeros((), g.dtype)
    ga = np.where(a == 0, zero, g * (out / a)) if need_a else None
    return ga, (np.zeros_like(g) if need_b else None)


# -- lerp, nan_to_num ------------------------------------------------------------------------
@_quiet
def lerp(start, end, weight):
    """``start + weight * (end - start)``, from ``end`` for ``|weight| >= 0.5`` (exact at 1)."""
    d = end - start
    return _same(np.where(np.abs(weight) < 0.5, start + weight * d, end - d * (1 - weight)),
                 start)


@_quiet
def lerp_backward(g, start, end, weight, need_start, need_end, need_weight):
    """``g * (1 - weight)``, ``g * weight`` and ``g * (end - start)``."""
    return ((_same(g * (1 - weight), g) if need_start else None),
            (_same(g * weight, g) if need_end else None),
            (_same(g * (end - start), g) if need_weight else None))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced (by default with 0 and the dtype's largest and lowest)."""
    info = np.finfo(x.dtype)
    return np.nan_to_num(x, nan=nan, posinf=info.max if posinf is None else posinf,
                         neginf=info.min if neginf is None else neginf)


def finite_backward(g, x):
    """``g`` where ``x`` is finite, else 0 (of `nan_to_num`)."""
    return np.where(np.isfinite(x), g, np.zeros((), g.dtype))


def clamp_tensor(x, lo, hi):
    """``min(max(x, lo), hi)`` with array bounds (either may be None): ``hi`` wins when
    ``lo > hi``; a NaN anywhere gives NaN."""
    out = x if lo is None else np.maximum(x, lo)
    return out if hi is None else np.minimum(out, hi)


def clamp_tensor_backward(g, x, lo, hi, need_x, need_lo, need_hi):
    """PyTorch's: ``x`` gets ``g`` where ``lo <= x <= hi``; ``lo`` where ``x < lo`` (and
    ``lo < hi``); ``hi`` where ``x > hi`` or ``hi < lo``."""
    zero = np.zeros((), g.dtype)
    gx = glo = ghi = None
    if need_x:
        keep = np.ones(x.shape, bool)
        if lo is not None:
            keep = keep & (x >= lo)
        if hi is not None:
            keep = keep & (x <= hi)
        gx = np.where(keep, g, zero)
    if need_lo:
        below = x < lo
        if hi is not None:
            below = below & (lo < hi)
        glo = np.where(below, g, zero)
    if need_hi:
        above = x > hi
        if lo is not None:
            above = above | (hi < lo)
        ghi = np.where(above, g, zero)
    return gx, glo, ghi


KERNELS = {
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": round_, "frac": frac,
    "fmod": fmod, "remainder": remainder, "floor_divide": floor_divide,
    "trunc_divide": trunc_divide, "remainder_backward": remainder_backward,
    "fmod_backward": fmod_backward,
    "rsqrt": rsqrt, "rsqrt_backward": rsqrt_backward, "log2": _quiet(np.log2),
    "log2_backward": log2_backward, "log10": _quiet(_in_float64(np.log10)), "log10_backward": log10_backward,
    "exp2": _quiet(np.exp2), "exp2_backward": exp2_backward, "erf_backward": erf_backward,
    "erfc": erfc, "erfc_backward": erfc_backward, "erfinv": erfinv,
    "erfinv_backward": erfinv_backward,
    "tan": _quiet(np.tan), "tan_backward": tan_backward, "asin": _quiet(np.arcsin),
    "asin_backward": asin_backward,
    "acos": _quiet(np.arccos), "acos_backward": acos_backward, "atan": np.arctan,
    "atan_backward": atan_backward, "sinh": _quiet(np.sinh), "sinh_backward": sinh_backward,
    "cosh": _quiet(np.cosh), "cosh_backward": cosh_backward, "asinh": np.arcsinh,
    "asinh_backward": asinh_backward, "acosh": _quiet(np.arccosh), "acosh_backward": acosh_backward,
    "atanh": _quiet(np.arctanh), "atanh_backward": atanh_backward,
    "atan2": _quiet(np.arctan2), "atan2_backward": atan2_backward, "hypot": _quiet(np.hypot),
    "hypot_backward": hypot_backward, "logaddexp": _quiet(np.logaddexp),
    "logaddexp_backward": logaddexp_backward, "logaddexp2": _quiet(np.logaddexp2),
    "logaddexp2_backward": logaddexp2_backward, "copysign": _quiet(np.copysign),
    "copysign_backward": copysign_backward, "lerp": lerp, "lerp_backward": lerp_backward,
    "nan_to_num": nan_to_num, "finite_backward": finite_backward,
    "clamp_tensor": clamp_tensor, "clamp_tensor_backward": clamp_tensor_backward,
}
