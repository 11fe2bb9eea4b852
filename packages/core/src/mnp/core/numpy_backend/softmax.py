"""Softmax-family reference kernels, max-shifted so that logits like 1e4 neither overflow nor
turn into NaN. ``axis`` is one int; ``y`` in the backward kernels is the forward output.
A slice holding ``+inf`` or NaN, or only ``-inf``, is NaN throughout, as in PyTorch."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Callable

import numpy as np


def _shifted(x: np.ndarray, axis: int) -> tuple[np.ndarray, bool]:
    """``x - max(x)`` along ``axis`` (slices with a max of +inf, -inf or NaN shifted by NaN:
    NaN throughout), and whether every max was finite."""
    m = np.max(x, axis=axis, keepdims=True)
    finite = bool(np.isfinite(m).all())
    if not finite:
        m = np.where(np.isfinite(m), m, np.nan).astype(x.dtype, copy=False)
    return x - m, finite


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _stable(fn: Callable[[np.ndarray, int], np.ndarray], x: np.ndarray, axis: int) -> np.ndarray:
    """``fn`` on the shifted ``x``, in ``x``'s dtype; the NaN of a slice with a non-finite max
    comes without a numpy warning."""
    z, finite = _shifted(x, axis)
    with nullcontext() if finite else np.errstate(invalid="ignore", divide="ignore"):
        return fn(z, axis).astype(x.dtype, copy=False)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    return _stable(_softmax, x, axis)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    return _stable(_log_softmax, x, axis)


def softmax_backward(g: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    gy = g * y
    return (gy - y * np.sum(gy, axis=axis, keepdims=True)).astype(g.dtype, copy=False)


def log_softmax_backward(g: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)).astype(g.dtype, copy=False)


KERNELS = {"softmax": softmax, "log_softmax": log_softmax, "softmax_backward": softmax_backward,
           "log_softmax_backward": log_softmax_backward}
