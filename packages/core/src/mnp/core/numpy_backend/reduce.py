"""Reduction reference kernels: ``(x, axes, keepdims)`` with ``axes`` a tuple or None."""
from __future__ import annotations

import numpy as np


def sum_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.sum(x, axis=axes, keepdims=keepdims, dtype=x.dtype if x.dtype.kind == "f" else None)


def max_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.max(x, axis=axes, keepdims=keepdims)


def min_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.min(x, axis=axes, keepdims=keepdims)


def argmax(x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    return np.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    return np.argmin(x, axis=axis, keepdims=keepdims)


KERNELS = {"sum": sum_, "max": max_, "min": min_, "argmax": argmax, "argmin": argmin}
