"""Pooling reference kernels on strided window views (no Python loop over pixels).

Shapes: x (N, C, H, W); ``kernel_size``, ``stride``, ``padding`` are ``(int, int)`` pairs.
Max-pool indices are flat positions in each unpadded (H, W) plane, as PyTorch returns them.
"""
from __future__ import annotations

import numpy as np

from .conv import out_size, pad2d
from .scratch import scratch


def _window_slice(i: int, j: int, stride, oh: int, ow: int) -> tuple:
    """Index of kernel offset (i, j) of every window: an (N, C, OH, OW) strided slice."""
    sh, sw = stride
    return (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
            slice(j, j + sw * (ow - 1) + 1, sw))


def max_pool2d_forward(x: np.ndarray, kernel_size, stride, padding):
    """``(y, indices)``: window maxima (N, C, OH, OW) and where each came from (int64).

    One pass per kernel offset over strided slices: a running maximum and the offset that
    set it (a strictly greater value takes over, so the first maximum wins ties, as in
    PyTorch). NaN wins like in PyTorch (the last NaN of a window); a window whose values are
    all the lowest value points at its first element inside the input.
    """
    n, c, h, w = x.shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    oh, ow = out_size(h, kh, sh, ph, 1), out_size(w, kw, sw, pw, 1)
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = pad2d(x, ph, pw, low)
    y, k = _running_max(xp, kernel_size, stride, oh, ow, w, nan_wins=False)
    if x.dtype.kind == "f" and np.isnan(y).any():
        y, k = _running_max(xp, kernel_size, stride, oh, ow, w, nan_wins=True)
    rows, cols = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw
    base = (rows * w)[:, None] + cols[None, :]
    indices = np.add(k, base, dtype=np.int64)
    if ph or pw:        # padding never wins: a window of lowest values -> first inside element
        lowest = y == low
        if lowest.any():
            first = (np.maximum(rows, 0) * w)[:, None] + np.maximum(cols, 0)[None, :]
            np.copyto(indices, np.broadcast_to(first, indices.shape), where=lowest)
    return y, indices


def _running_max(xp: np.ndarray, kernel_size, stride, oh: int, ow: int, w: int, nan_wins: bool):
    """Maximum over the windows of padded ``xp`` and the winning offset ``i * w + j`` (int32,
    in a scratch buffer)."""
    kh, kw = kernel_size
    y = xp[_window_slice(0, 0, stride, oh, ow)].copy()
    k = scratch("pool_k", y.shape, np.int32)
    k.fill(0)
    wins = scratch("pool_wins", y.shape, bool)
    step = scratch("pool_step", y.shape, np.int32)
    for i in range(kh):
        for j in range(kw):
            if i == 0 and j == 0:
                continue
            s = xp[_window_slice(i, j, stride, oh, ow)]
            np.greater(s, y, out=wins)
            if nan_wins:
                wins |= np.isnan(s)
            np.maximum(y, s, out=y)
            # k = where(wins, offset, k) as arithmetic: masked copies are far slower
            np.subtract(np.int32(i * w + j), k, out=step)
            step *= wins
            k += step
    return y, k


def max_pool2d_backward(g: np.ndarray, indices: np.ndarray, x_shape) -> np.ndarray:
    """Route each output gradient to the input position it came from (overlaps add up)."""
    n, c, h, w = x_shape
    plane = h * w
    per_plane = int(np.prod(indices.shape[2:]))
    flat = scratch("pool_flat", (n * c, per_plane), np.int64)
    np.add(indices.reshape(n * c, per_plane), (np.arange(n * c) * plane)[:, None], out=flat)
    dx = np.zeros(n * c * plane, g.dtype)
    np.add.at(dx, flat.reshape(-1), g.reshape(-1))   # numpy >= 2: as fast as a plain scatter
    return dx.reshape(n, c, h, w)


def _slices(kernel_size, stride, oh: int, ow: int):
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            yield _window_slice(i, j, stride, oh, ow)


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
    hp, wp = h + 2 * ph, w + 2 * pw
    if stride[0] >= kh and stride[1] >= kw:         # windows do not overlap: plain writes
        tiled = (oh * kh, ow * kw) == (hp, wp)      # and they cover every position
        dxp = (np.empty if tiled else np.zeros)((n, c, hp, wp), g.dtype)
        for sl in _slices(kernel_size, stride, oh, ow):
            dxp[sl] = share
    else:
        dxp = np.zeros((n, c, hp, wp), g.dtype)
        for sl in _slices(kernel_size, stride, oh, ow):
            dxp[sl] += share
    return dxp[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else dxp


KERNELS = {"max_pool2d_forward": max_pool2d_forward, "max_pool2d_backward": max_pool2d_backward,
           "avg_pool2d_forward": avg_pool2d_forward, "avg_pool2d_backward": avg_pool2d_backward}
