"""Normalisation reference kernels: batch norm over (N, M) per channel, layer norm per row.

``batch_norm_forward(x, gamma, beta, eps)``: x (N, C, M); statistics per channel over N and
M; returns ``(y, mean, invstd)`` with ``invstd = 1 / sqrt(var + eps)`` (biased variance).
``layer_norm_forward(x, gamma, beta, eps)``: x (B, D); statistics per row. ``gamma`` and
``beta`` may be None (no affine transform); then the backward's ``dgamma``/``dbeta`` are None.
``rms_norm_forward(x, gamma, eps)``: x (B, D); root mean square per row, no centring.
"""
from __future__ import annotations

import numpy as np


def _shift(first: np.ndarray) -> np.ndarray:
    """The shift for a mean: the first element where finite, else 0. The mean of x - shift,
    plus the shift, is exact for constant data (no cancellation when |mean| >> spread)."""
    return np.where(np.isfinite(first), first, 0).astype(first.dtype, copy=False)


def batch_norm_forward(x: np.ndarray, gamma, beta, eps: float):
    """Normalise each channel of x (N, C, M) with its batch statistics -> ``(y, mean, invstd)``."""
    n, c, m = x.shape
    count = n * m
    s = _shift(x[0, :, 0])
    mean = s + (x - s[:, None]).sum(axis=(0, 2)) / count
    xc = x - mean[:, None]
    var = np.einsum("ncm,ncm->c", xc, xc) / count
    invstd = 1.0 / np.sqrt(var + eps)
    scale = invstd if gamma is None else invstd * gamma
    y = np.multiply(xc, scale[:, None], out=xc)
    if beta is not None:
        y += beta[:, None]
    return y, mean.astype(x.dtype, copy=False), invstd.astype(x.dtype, copy=False)


def batch_norm_backward(g: np.ndarray, x: np.ndarray, gamma, mean: np.ndarray, invstd: np.ndarray):
    """``(dx, dgamma, dbeta)`` of `batch_norm_forward` (training mode)."""
    n, c, m = x.shape
    count = n * m
    sg = g.sum(axis=(0, 2))                                          # dbeta
    sgx = np.einsum("ncm,ncm->c", g, x) - mean * sg                  # sum g * (x - mean)
    k1 = invstd if gamma is None else invstd * gamma
    k2 = -k1 * invstd * invstd * sgx / count
    k3 = -k1 * sg / count - k2 * mean
    dx = g * k1[:, None]
    dx += x * k2[:, None]
    dx += k3[:, None]
    dgamma = None if gamma is None else (sgx * invstd).astype(g.dtype, copy=False)
    dbeta = None if gamma is None else sg
    return dx, dgamma, dbeta


def layer_norm_forward(x: np.ndarray, gamma, beta, eps: float):
    """Normalise each row of x (B, D) -> ``(y, mean, invstd)`` with mean, invstd of shape (B,)."""
    d = x.shape[1]
    s = _shift(x[:, 0])
    mean = s + (x - s[:, None]).sum(axis=1) / d
    xc = x - mean[:, None]
    var = np.einsum("bd,bd->b", xc, xc) / d
    invstd = 1.0 / np.sqrt(var + eps)
    y = np.multiply(xc, invstd[:, None], out=xc)
    if gamma is not None:
        y *= gamma
    if beta is not None:
        y += beta
    return y, mean.astype(x.dtype, copy=False), invstd.astype(x.dtype, copy=False)


def layer_norm_backward(g: np.ndarray, x: np.ndarray, gamma, mean: np.ndarray, invstd: np.ndarray):
    """``(dx, dgamma, dbeta)`` of `layer_norm_forward`."""
    d = x.shape[1]
    xhat = (x - mean[:, None]) * invstd[:, None]
    dgamma = dbeta = None
    if gamma is not None:
        dgamma = np.einsum("bd,bd->d", g, xhat)
        dbeta = g.sum(axis=0)
        gx = g * gamma
    else:
        gx = g
    a = gx.sum(axis=1, keepdims=True) / d
    b = np.einsum("bd,bd->b", gx, xhat)[:, None] / d
    dx = gx - a
    dx -= xhat * b
    dx *= invstd[:, None]
    return dx, dgamma, dbeta


def rms_norm_forward(x: np.ndarray, gamma, eps: float):
    """``x / sqrt(mean(x**2) + eps) * gamma`` for each row of x (B, D) -> ``(y, rstd)``,
    ``rstd`` (B,) the reciprocal root mean square; ``gamma`` may be None."""
    d = x.shape[1]
    ms = np.einsum("bd,bd->b", x, x) / d
    rstd = (1.0 / np.sqrt(ms + eps)).astype(x.dtype, copy=False)
    y = x * rstd[:, None]
    if gamma is not None:
        y *= gamma
    return y, rstd


def rms_norm_backward(g: np.ndarray, x: np.ndarray, gamma, rstd: np.ndarray):
    """``(dx, dgamma)`` of `rms_norm_forward` (``dgamma`` None without ``gamma``)."""
    d = x.shape[1]
    xhat = x * rstd[:, None]
    dgamma = None if gamma is None else np.einsum("bd,bd->d", g, xhat)
    gx = g if gamma is None else g * gamma
    b = np.einsum("bd,bd->b", gx, xhat)[:, None] / d
    dx = gx - xhat * b
    dx *= rstd[:, None]
    return dx, dgamma


KERNELS = {"batch_norm_forward": batch_norm_forward, "batch_norm_backward": batch_norm_backward,
           "layer_norm_forward": layer_norm_forward, "layer_norm_backward": layer_norm_backward,
           "rms_norm_forward": rms_norm_forward, "rms_norm_backward": rms_norm_backward}
