"""Reduction reference kernels: ``(x, axes, keepdims)`` with ``axes`` a sorted tuple or None;
``argmax``/``argmin`` take ``(x, axis, keepdims)`` with ``axis`` an int or None. Floating
inputs keep their dtype; integer and bool sums and products are int64, as in PyTorch."""
from __future__ import annotations

import numpy as np


def _acc(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.int64)


def sum_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    # the ufunc method directly: np.sum's Python wrapper costs more than a small sum
    return _add_reduce(x, axes, x.dtype if x.dtype.kind == "f" else np.int64, None, keepdims)


_add_reduce = np.add.reduce


def prod(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.prod(x, axis=axes, keepdims=keepdims, dtype=_acc(x))


def max_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.max(x, axis=axes, keepdims=keepdims)


def min_(x: np.ndarray, axes, keepdims: bool) -> np.ndarray:
    return np.min(x, axis=axes, keepdims=keepdims)


def argmax(x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    return np.argmax(x, axis=axis, keepdims=keepdims).astype(np.int64, copy=False)


def argmin(x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    return np.argmin(x, axis=axis, keepdims=keepdims).astype(np.int64, copy=False)


KERNELS = {"sum": sum_, "prod": prod, "max": max_, "min": min_, "argmax": argmax, "argmin": argmin}
