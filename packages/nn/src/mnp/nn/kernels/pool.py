"""Pooling reference kernels on strided window views (no Python loop over pixels).

Shapes: x (N, C, H, W); ``kernel_size``, ``stride``, ``padding`` are ``(int, int)`` pairs.
Max-pool indices are flat positions in each unpadded (H, W) plane, as PyTorch returns them.
"""
from __future__ import annotations

import numpy as np

from .conv import out_size, pad2d, windows


def max_pool2d_forward(x: np.ndarray, kernel_size, stride, padding):
    """``(y, indices)``: window maxima (N, C, OH, OW) and where each came from (int64)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    oh, ow = out_size(h, kh, sh, ph, 1), out_size(w, kw, sw, pw, 1)
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = pad2d(x, ph, pw, low)
    view = windows(xp, kernel_size, stride, (1, 1), oh, ow)          # (N, C, KH, KW, OH, OW)
    win = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, oh, ow, kh * kw)
    k = win.argmax(axis=-1)
    y = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]
    base = ((np.arange(oh) * sh - ph) * w)[:, None] + (np.arange(ow) * sw - pw)[None, :]
    offsets = (np.arange(kh) * w)[:, None] + np.arange(kw)[None, :]
    indices = base + offsets.reshape(-1)[k]
    return y, indices.astype(np.int64, copy=False)


def max_pool2d_backward(g: np.ndarray, indices: np.ndarray, x_shape) -> np.ndarray:
    """Route each output gradient to the input position it came from (overlaps add up)."""
    n, c, h, w = x_shape
    plane = h * w
    flat = (indices.reshape(n * c, -1) + (np.arange(n * c) * plane)[:, None]).reshape(-1)
    dx = np.zeros(n * c * plane, g.dtype)
    np.add.at(dx, flat, g.reshape(-1))
    return dx.reshape(n, c, h, w)


def _slices(kernel_size, stride, oh: int, ow: int):
    sh, sw = stride
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            yield (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                   slice(j, j + sw * (ow - 1) + 1, sw))


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride, padding) -> np.ndarray:
    """Window means; zero padding counts in the divisor (PyTorch's ``count_include_pad=True``)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh = out_size(h, kh, stride[0], padding[0], 1)
    ow = out_size(w, kw, stride[1], padding[1], 1)
    xp = pad2d(x, *padding)
    y = None
    for sl in _slices(kernel_size, stride, oh, ow):     # one vectorised add per kernel position
        y = xp[sl].copy() if y is None else np.add(y, xp[sl], out=y)
    y *= 1.0 / (kh * kw)
    return y


def avg_pool2d_backward(g: np.ndarray, x_shape, kernel_size, stride, padding) -> np.ndarray:
    """Spread each output gradient evenly over its window."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    ph, pw = padding
    oh, ow = g.shape[2], g.shape[3]
    share = g * (1.0 / (kh * kw))
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), g.dtype)
    for sl in _slices(kernel_size, stride, oh, ow):
        dxp[sl] += share
    return dxp[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else dxp


KERNELS = {"max_pool2d_forward": max_pool2d_forward, "max_pool2d_backward": max_pool2d_backward,
           "avg_pool2d_forward": avg_pool2d_forward, "avg_pool2d_backward": avg_pool2d_backward}
