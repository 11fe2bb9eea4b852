"""Reference kernels of the predicates, logical and bitwise ops: bool or integer results,
no backward. Shifts follow PyTorch past the width: a left shift by a negative amount or by
at least the bit width gives 0, a right shift fills with the sign bit."""
from __future__ import annotations

import numpy as np


def isclose(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """``|a - b| <= atol + rtol * |b|``; infinities equal only to themselves."""
    if a.dtype.kind == "b":
        return a == b
    with np.errstate(all="ignore"):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _width(dtype: np.dtype) -> int:
    return dtype.itemsize * 8


def left_shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    bits = _width(a.dtype)
    inside = (b >= 0) & (b < bits)
    out = np.left_shift(a, np.where(inside, b, 0).astype(a.dtype, copy=False))
    return np.where(inside, out, np.zeros((), a.dtype))


def right_shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    bits = _width(a.dtype)
    amount = np.where((b >= 0) & (b < bits), b, bits - 1).astype(a.dtype, copy=False)
    return np.right_shift(a, amount)


KERNELS = {
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite, "isclose": isclose,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
    "logical_not": np.logical_not, "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor, "bitwise_not": np.invert,
    "bitwise_left_shift": left_shift, "bitwise_right_shift": right_shift,
}
