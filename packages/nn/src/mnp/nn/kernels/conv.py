"""Convolution reference kernels: ``im2col``/``col2im`` on strided views, then GEMM.

Shapes: x (N, C, H, W), w (OC, C, KH, KW); ``kernel_size``, ``stride``, ``padding`` and
``dilation`` are ``(int, int)`` pairs. Conv1d calls these with H = 1.

>>> import numpy as np
>>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
>>> w = np.ones((1, 1, 2, 2), np.float32)
>>> conv2d_forward(x, w, None, (2, 2), (0, 0), (1, 1))[0, 0].tolist()
[[10.0, 18.0], [42.0, 50.0]]
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of one spatial dimension (PyTorch's floor formula)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pad2d(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    """``x`` with ``ph`` rows and ``pw`` columns of ``value`` on each side of the last two axes."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), value, x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def windows(xp: np.ndarray, kernel_size, stride, dilation, oh: int, ow: int) -> np.ndarray:
    """A read-only strided view (N, C, KH, KW, OH, OW) of the windows of padded ``xp``."""
    kh, kw = kernel_size
    sh, sw = stride
    dh, dw = dilation
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw),
                      writeable=False)


def _pointwise(kernel_size, stride, padding, dilation) -> bool:
    return tuple(kernel_size) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)


def im2col(x: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """The columns (N, C*KH*KW, OH*OW) of every window of ``x``: one copy, no Python loop."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(w, kw, stride[1], padding[1], dilation[1])
    if _pointwise(kernel_size, stride, padding, dilation):
        return x.reshape(n, c, h * w)
    view = windows(pad2d(x, *padding), kernel_size, stride, dilation, oh, ow)
    return view.reshape(n, c * kh * kw, oh * ow)


def col2im(cols: np.ndarray, x_shape, kernel_size, stride, padding, dilation) -> np.ndarray:
    """The adjoint of `im2col`: scatter columns back onto an (N, C, H, W) array, summing overlaps."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    oh = out_size(h, kh, sh, ph, dh)
    ow = out_size(w, kw, sw, pw, dw)
    if _pointwise(kernel_size, stride, padding, dilation):
        return cols.reshape(n, c, h, w)
    cols6 = cols.reshape(n, c, kh, kw, oh, ow)
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), cols.dtype)
    for i in range(kh):          # one vectorised add per kernel position
        hi = i * dh
        for j in range(kw):
            wj = j * dw
            dxp[:, :, hi:hi + sh * (oh - 1) + 1:sh, wj:wj + sw * (ow - 1) + 1:sw] += cols6[:, :, i, j]
    if ph or pw:
        return dxp[:, :, ph:ph + h, pw:pw + w]
    return dxp


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride, padding,
                   dilation) -> np.ndarray:
    """2-d cross-correlation: ``y[n, o] = sum_c w[o, c] * x[n, c] + b[o]`` -> (N, OC, OH, OW)."""
    n, _, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
    cols = im2col(x, (kh, kw), stride, padding, dilation)
    y = np.matmul(w.reshape(oc, -1), cols)                    # (N, OC, OH*OW)
    if b is not None:
        y += b.reshape(oc, 1)
    return y.reshape(n, oc, oh, ow)


def conv2d_backward(g: np.ndarray, x: np.ndarray, w: np.ndarray, stride, padding, dilation,
                    need_x: bool = True, need_w: bool = True, need_b: bool = True):
    """Gradients ``(dx, dw, db)`` of `conv2d_forward` for output gradient ``g``; None where
    not needed."""
    n = x.shape[0]
    oc, c, kh, kw = w.shape
    g3 = g.reshape(n, oc, -1)
    dx = dw = db = None
    if need_b:
        db = g3.sum(axis=(0, 2))
    if need_w:
        cols = im2col(x, (kh, kw), stride, padding, dilation)
        dw = np.matmul(g3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    if need_x:
        dcols = np.matmul(w.reshape(oc, -1).T, g3)            # (N, C*KH*KW, OH*OW)
        dx = col2im(dcols, x.shape, (kh, kw), stride, padding, dilation)
    return dx, dw, db


KERNELS = {"im2col": im2col, "col2im": col2im, "conv2d_forward": conv2d_forward,
           "conv2d_backward": conv2d_backward}
