"""Elementwise reference kernels (numpy broadcasting rules), with the backward of each op whose
gradient is more than one existing kernel: ``<op>_backward(g, ...)`` returns the gradient of
the input(s) before unbroadcasting."""
from __future__ import annotations

import math

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _zero(dtype: np.dtype) -> np.ndarray:
    """A 0-d zero of ``dtype``: comparing with it costs numpy no scalar conversion."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = _ZEROS[dtype] = np.zeros((), dtype)
        z.flags.writeable = False
    return z


_ZEROS: dict[np.dtype, np.ndarray] = {}


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, _zero(x.dtype))


def relu_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return g * (x > _zero(x.dtype))   # measured faster than np.where for float32


def sigmoid_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g * y * (1 - y)


def tanh_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g * (1 - y * y)


def leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * np.asarray(slope, x.dtype))


def leaky_relu_backward(g: np.ndarray, x: np.ndarray, slope: float) -> np.ndarray:
    return g * np.where(x > 0, 1, np.asarray(slope, g.dtype)).astype(g.dtype, copy=False)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function: exact (``math.erf``) for float64, a Chebyshev fit with relative
    error below 1.2e-7 (Numerical Recipes' erfc) for the narrower float dtypes, its Taylor
    series below 0.5 (signed zeros and tiny values kept)."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        return _ERF(x).astype(np.float64) if x.ndim else np.float64(math.erf(x))
    z = np.abs(x.astype(np.float32))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    e = 1.0 - t * np.exp(-z * z + poly)
    z2 = z * z     # below 0.5 the Taylor series, exact to float32 down to the tiniest |x|
    series = z * (_TWO_OVER_SQRT_PI * (1 + z2 * (-1 / 3 + z2 * (1 / 10 + z2 * (-1 / 42 + z2 * (
        1 / 216 + z2 * (-1 / 1320 + z2 * (1 / 9360 - z2 / 75600))))))))
    e = np.where(z < 0.5, series, e)
    return np.copysign(e, x).astype(x.dtype, copy=False)


_ERF = np.frompyfunc(math.erf, 1, 1)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        return (0.5 * x * (1 + np.tanh(inner))).astype(x.dtype, copy=False)
    return (0.5 * x * (1 + erf(x / _SQRT2))).astype(x.dtype, copy=False)


def gelu_backward(g: np.ndarray, x: np.ndarray, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
    else:
        cdf = 0.5 * (1 + erf(x / _SQRT2))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        d = cdf + x * pdf
    return (g * d).astype(g.dtype, copy=False)


# -- backward of the unary ops: ``g`` the output's gradient, ``x`` the input, ``y`` the output --
def sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 for NaN, as PyTorch (numpy keeps NaN)."""
    y = np.sign(x)
    if y.dtype.kind == "f":
        y = np.where(np.isnan(y), y.dtype.type(0), y)
    return y


def abs_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return g * np.sign(x)


def log_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return g / x


def log1p_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return g / (1 + x)


def sqrt_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g / (2 * y)


def sin_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return g * np.cos(x)


def cos_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return -g * np.sin(x)


def softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """``log(1 + exp(beta * x)) / beta``, ``x`` itself where ``beta * x > threshold``."""
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta).astype(x.dtype)


def softplus_backward(g: np.ndarray, x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    bx = beta * x
    s = sigmoid(bx)   # stable: exactly 0 far below, no overflow
    return g * np.where(bx > threshold, 1, s).astype(g.dtype, copy=False)


def clip(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """``x`` clamped into ``[lo, hi]`` (either bound may be None), in ``x``'s dtype."""
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)


def clip_backward(g: np.ndarray, x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """``g`` where ``lo <= x <= hi``, else 0."""
    mask = np.ones(x.shape, bool)
    if lo is not None:
        mask &= x >= lo
    if hi is not None:
        mask &= x <= hi
    return g * mask


def safe_log_backward(g: np.ndarray, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``g / x`` where ``x >= eps``, else 0 (``log(max(x, eps))``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x >= eps, g / x, np.zeros((), g.dtype))


# -- backward of the binary ops: full-size gradients (None where not needed) ----------------
def div_backward(g: np.ndarray, b: np.ndarray, out: np.ndarray, need_a: bool,
                 need_b: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Of ``out = a / b``: ``g / b`` and ``-(g / b) * out``."""
    ga = g / b
    return (ga if need_a else None), (-ga * out if need_b else None)


def pow_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray, need_a: bool,
                 need_b: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Of ``out = a ** b``, PyTorch's: ``b * a**(b-1)``, 0 where ``b == 0``; ``out * log(a)``,
    0 where ``a == 0`` and ``b >= 0``."""
    ga = gb = None
    zero = np.zeros((), g.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if need_a:
            ga = np.where(b == 0, zero, g * (b * np.power(a, b - 1)))
        if need_b:
            gb = g * np.where((a == 0) & (b >= 0), zero, out * np.log(a))
    return ga, gb


def _tie_split(g: np.ndarray, a: np.ndarray, b: np.ndarray,
               wins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wa = np.where(a == b, g.dtype.type(0.5), wins).astype(g.dtype, copy=False)
    return g * wa, g * (1 - wa)


def maximum_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g`` to the larger operand; tied elements share it equally, as in PyTorch."""
    return _tie_split(g, a, b, a > b)


def minimum_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``g`` to the smaller operand; tied elements share it equally, as in PyTorch."""
    return _tie_split(g, a, b, a < b)


KERNELS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "neg": np.negative, "abs": np.abs, "sign": sign, "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tanh": np.tanh, "sigmoid": sigmoid, "relu": relu, "relu_backward": relu_backward,
    "sigmoid_backward": sigmoid_backward, "tanh_backward": tanh_backward,
    "leaky_relu": leaky_relu, "leaky_relu_backward": leaky_relu_backward,
    "gelu": gelu, "gelu_backward": gelu_backward, "erf": erf,
    "abs_backward": abs_backward, "log_backward": log_backward, "log1p_backward": log1p_backward,
    "sqrt_backward": sqrt_backward, "sin_backward": sin_backward, "cos_backward": cos_backward,
    "softplus": softplus, "softplus_backward": softplus_backward, "clip": clip,
    "clip_backward": clip_backward, "safe_log_backward": safe_log_backward,
    "div_backward": div_backward, "pow_backward": pow_backward,
    "maximum_backward": maximum_backward, "minimum_backward": minimum_backward,
}
