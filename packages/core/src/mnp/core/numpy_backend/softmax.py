"""Softmax-family reference kernels, max-shifted so that logits like 1e4 neither overflow nor
turn into NaN. ``axis`` is one int; ``y`` in the backward kernels is the forward output.
A slice holding ``+inf``, or only ``-inf``, gives NaN, as in PyTorch."""
from __future__ import annotations

import numpy as np


def _shifted(x: np.ndarray, axis: int) -> tuple[np.ndarray, bool]:
    """``x - max(x)`` along ``axis`` (slices with an infinite max shifted by 0), and whether
    every max was finite."""
    m = np.max(x, axis=axis, keepdims=True)
    finite = bool(np.isfinite(m).all())
    if not finite:
        m = np.where(np.isfinite(m), m, 0)
    return x - m, finite


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z, finite = _shifted(x, axis)
    if finite:
        return _softmax(z, axis).astype(x.dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _softmax(z, axis).astype(x.dtype, copy=False)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z, finite = _shifted(x, axis)
    if finite:
        return _log_softmax(z, axis).astype(x.dtype, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _log_softmax(z, axis).astype(x.dtype, copy=False)


def softmax_backward(g: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    gy = g * y
    return (gy - y * np.sum(gy, axis=axis, keepdims=True)).astype(g.dtype, copy=False)


def log_softmax_backward(g: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)).astype(g.dtype, copy=False)


KERNELS = {"softmax": softmax, "log_softmax": log_softmax, "softmax_backward": softmax_backward,
           "log_softmax_backward": log_softmax_backward}
