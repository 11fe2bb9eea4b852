"""Convolution reference kernels: ``im2col``/``col2im`` on strided views, then GEMM.

Shapes: x (N, C, H, W), w (OC, C, KH, KW); ``kernel_size``, ``stride``, ``padding`` and
``dilation`` are ``(int, int)`` pairs. Conv1d calls these with H = 1.

The convolution kernels work through the batch in chunks whose columns fit in the L2 cache
(`CHUNK_BYTES`), with their temporaries in reused `scratch` buffers: the columns are written,
multiplied and scattered back while still in cache, and a training step does not fault in
fresh memory for them. For stride 1 the input gradient is accumulated in "flat" padded rows,
where each kernel offset is one contiguous slice (see `_col2im_flat`).

>>> import numpy as np
>>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
>>> w = np.ones((1, 1, 2, 2), np.float32)
>>> conv2d_forward(x, w, None, (2, 2), (0, 0), (1, 1))[0, 0].tolist()
[[10.0, 18.0], [42.0, 50.0]]
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .scratch import scratch

#: Target size in bytes of one batch chunk's im2col columns (about half an L2 cache).
CHUNK_BYTES = 1 << 20


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


def _chunks(n: int, sample_bytes: int):
    """``(start, stop)`` batch ranges of about `CHUNK_BYTES` of columns each."""
    step = max(1, CHUNK_BYTES // max(sample_bytes, 1))
    for n0 in range(0, n, step):
        yield n0, min(n, n0 + step)


def _padded_scratch(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """``x`` zero-padded in scratch buffer ``"pad"`` (``x`` itself without padding)."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = scratch("pad", (n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    xp[:, :, :ph] = 0
    xp[:, :, ph + h:] = 0
    xp[:, :, ph:ph + h, :pw] = 0
    xp[:, :, ph:ph + h, pw + w:] = 0
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _cols_scratch(x: np.ndarray, kernel_size, stride, padding, dilation, oh: int,
                  ow: int) -> np.ndarray:
    """`im2col` of a batch chunk into scratch buffer ``"cols"`` -> (n, C*KH*KW, OH*OW)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    if _pointwise(kernel_size, stride, padding, dilation):
        return x.reshape(n, c, h * w)
    cols = scratch("cols", (n, c, kh, kw, oh, ow), x.dtype)
    np.copyto(cols, windows(_padded_scratch(x, *padding), kernel_size, stride, dilation, oh, ow))
    return cols.reshape(n, c * kh * kw, oh * ow)


def _col2im_into(dx: np.ndarray, cols: np.ndarray, kernel_size, stride, padding,
                 dilation) -> None:
    """Write the adjoint of `im2col` of ``cols`` (n, C*KH*KW, OH*OW) into ``dx`` (n, C, H, W)."""
    n, c, h, w = dx.shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    oh = out_size(h, kh, sh, ph, dh)
    ow = out_size(w, kw, sw, pw, dw)
    cols6 = cols.reshape(n, c, kh, kw, oh, ow)
    dxp = scratch("dxpad", (n, c, h + 2 * ph, w + 2 * pw), dx.dtype) if ph or pw else dx
    dxp.fill(0)
    for i in range(kh):          # one vectorised add per kernel position
        hi = i * dh
        for j in range(kw):
            wj = j * dw
            dxp[:, :, hi:hi + sh * (oh - 1) + 1:sh, wj:wj + sw * (ow - 1) + 1:sw] += cols6[:, :, i, j]
    if ph or pw:
        dx[...] = dxp[:, :, ph:ph + h, pw:pw + w]


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
    if _pointwise(kernel_size, stride, padding, dilation):
        return cols.reshape(n, c, h, w)
    dx = np.empty((n, c, h, w), cols.dtype)
    for n0, n1 in _chunks(n, cols[0].nbytes):
        _col2im_into(dx[n0:n1], cols[n0:n1], kernel_size, stride, padding, dilation)
    return dx


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride, padding,
                   dilation) -> np.ndarray:
    """2-d cross-correlation: ``y[n, o] = sum_c w[o, c] * x[n, c] + b[o]`` -> (N, OC, OH, OW)."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
    dtype = np.result_type(x, w)
    x = x.astype(dtype, copy=False)
    wm = w.reshape(oc, c * kh * kw).astype(dtype, copy=False)
    y = np.empty((n, oc, oh * ow), dtype)
    for n0, n1 in _chunks(n, c * kh * kw * oh * ow * dtype.itemsize):
        cols = _cols_scratch(x[n0:n1], (kh, kw), stride, padding, dilation, oh, ow)
        yc = np.matmul(wm, cols, out=y[n0:n1])
        if b is not None:
            yc += b.reshape(oc, 1)
    return y.reshape(n, oc, oh, ow)


def _col2im_flat(dx: np.ndarray, dcols: np.ndarray, kernel_size, padding, dilation) -> None:
    """Stride-1 `col2im` of ``dcols`` (n, C, KH, KW, OH*Wp) into ``dx`` (n, C, H, W).

    In the padded input flattened to rows of width Wp, kernel offset (i, j) of output
    position (r, q) lands at ``(r + i*dh) * Wp + q + j*dw``: for columns laid out over the
    full padded width, each offset is one contiguous shifted slice. The Wp - OW extra
    columns of ``dcols`` must be zero; one spare padded row absorbs their overhang.
    """
    n, c, h, w = dx.shape
    kh, kw = kernel_size
    ph, pw = padding
    dh, dw = dilation
    hp, wp = h + 2 * ph, w + 2 * pw
    length = dcols.shape[-1]
    acc = scratch("dxpad", (n, c, (hp + 1) * wp), dx.dtype)
    acc[:, :, :length] = dcols[:, :, 0, 0]
    acc[:, :, length:] = 0
    for i in range(kh):
        for j in range(kw):
            if i or j:
                o = i * dh * wp + j * dw
                acc[:, :, o:o + length] += dcols[:, :, i, j]
    dx[...] = acc[:, :, :hp * wp].reshape(n, c, hp, wp)[:, :, ph:ph + h, pw:pw + w]


def conv2d_backward(g: np.ndarray, x: np.ndarray, w: np.ndarray, stride, padding, dilation,
                    need_x: bool = True, need_w: bool = True, need_b: bool = True):
    """Gradients ``(dx, dw, db)`` of `conv2d_forward` for output gradient ``g``; None where
    not needed."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh, ow = g.shape[2], g.shape[3]
    k, p = c * kh * kw, oh * ow
    dtype = np.result_type(g, x, w)
    x = x.astype(dtype, copy=False)
    g3 = g.reshape(n, oc, p).astype(dtype, copy=False)
    wm = w.reshape(oc, k).astype(dtype, copy=False)
    ks = (kh, kw)
    pointwise = _pointwise(ks, stride, padding, dilation)
    flat = tuple(stride) == (1, 1) and not pointwise
    wp = wd + 2 * padding[1]
    db = g3.sum(axis=(0, 2)) if need_b else None
    dwt = np.zeros((k, oc), dtype) if need_w else None          # dw transposed: (C*KH*KW, OC)
    dx = np.empty((n, c, h, wd), dtype) if need_x else None
    sample = k * (oh * wp if flat else p) * dtype.itemsize
    for n0, n1 in _chunks(n, sample):
        m = n1 - n0
        gc = g3[n0:n1]
        if need_w:      # dw^T = sum_n cols[n] @ g[n]^T (faster in BLAS than g @ cols^T)
            cols = _cols_scratch(x[n0:n1], ks, stride, padding, dilation, oh, ow)
            part = np.matmul(cols, gc.transpose(0, 2, 1), out=scratch("dwpart", (m, k, oc), dtype))
            dwt += part.sum(axis=0)
        if not need_x:
            continue
        if pointwise:
            np.matmul(wm.T, gc, out=dx[n0:n1].reshape(m, c, p))
        elif flat:
            gp = scratch("gpad", (m, oc, oh, wp), dtype)
            gp[:, :, :, ow:] = 0
            gp[:, :, :, :ow] = gc.reshape(m, oc, oh, ow)
            dcols = np.matmul(wm.T, gp.reshape(m, oc, oh * wp),
                              out=scratch("cols", (m, k, oh * wp), dtype))
            _col2im_flat(dx[n0:n1], dcols.reshape(m, c, kh, kw, oh * wp), ks, padding, dilation)
        else:
            dcols = np.matmul(wm.T, gc, out=scratch("cols", (m, k, p), dtype))
            _col2im_into(dx[n0:n1], dcols, ks, stride, padding, dilation)
    dw = None if dwt is None else np.ascontiguousarray(dwt.T).reshape(w.shape)
    return dx, dw, db


KERNELS = {"im2col": im2col, "col2im": col2im, "conv2d_forward": conv2d_forward,
           "conv2d_backward": conv2d_backward}
