"""The 3-d convolution: `Conv3d`, its node `Conv3dFunction` and the functional `conv3d`, on the
2-d kernels: for each depth offset of the kernel, a 2-d convolution of the depth slices it
meets, batched with N (`conv3d_arrays`, `conv3d_grads`).

>>> import mnp.core as mnp
>>> from mnp import nn
>>> nn.Conv3d(2, 4, 3, padding=1)(mnp.zeros((1, 2, 4, 4, 4))).shape
(1, 4, 4, 4, 4)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Function, Tensor
from mnp.core.dispatch import kernel

from .conv import _Conv, _conv, conv_backward, conv_forward, out_size
from .linear import same_float

#: the family's own ``numpy`` reference kernels (it runs on conv's)
KERNELS: dict = {}


def _depth_slab(x: np.ndarray, kd: int, od: int, sd: int, pd: int, dd: int) -> np.ndarray:
    """The depth slices of x (N, C, D, H, W) that kernel depth offset ``kd`` meets, as a
    batch (N*OD, C, H, W) (zeros where they fall in the padding)."""
    n, c, d, h, w = x.shape
    idx = kd * dd - pd + sd * np.arange(od)
    inside = (idx >= 0) & (idx < d)
    slab = np.zeros((n, od, c, h, w), x.dtype)
    slab[:, inside] = x[:, :, idx[inside]].transpose(0, 2, 1, 3, 4)
    return slab.reshape(n * od, c, h, w)


def conv3d_arrays(x, w, b, groups: int, stride, padding, dilation) -> np.ndarray:
    """3-d convolution on the 2-d kernels: for each depth offset of the kernel, a 2-d
    convolution of the depth slices it meets (batched with N)."""
    n, od = x.shape[0], out_size(x.shape[2], w.shape[2], stride[0], padding[0], dilation[0])
    y = None
    for kd in range(w.shape[2]):
        part = conv_forward(_depth_slab(x, kd, od, stride[0], padding[0], dilation[0]),
                            w[:, :, kd], b if kd == 0 else None, groups, stride[1:],
                            padding[1:], dilation[1:])
        y = part if y is None else kernel("add", y.dtype)(y, part)
    return np.ascontiguousarray(y.reshape((n, od) + y.shape[1:]).transpose(0, 2, 1, 3, 4))


def conv3d_grads(g, x, w, groups: int, stride, padding, dilation, need_x: bool, need_w: bool,
                 need_b: bool):
    """``(dx, dw, db)`` of `conv3d_arrays`; without ``need_w`` only the shape of x is read."""
    (sd, *st), (pd, *pa), (dd, *di) = stride, padding, dilation
    n, c, d = x.shape[:3]
    od = g.shape[2]
    g2 = np.ascontiguousarray(g.transpose(0, 2, 1, 3, 4))
    g2 = g2.reshape((n * od,) + g2.shape[2:])
    dx = np.zeros(x.shape, g.dtype) if need_x else None
    dw = np.empty(w.shape, g.dtype) if need_w else None
    for kd in range(w.shape[2]):
        slab = _depth_slab(x, kd, od, sd, pd, dd) if need_w else \
            np.empty((n * od, c) + x.shape[3:], x.dtype)
        dxs, dws, _ = conv_backward(g2, slab, w[:, :, kd], groups, st, pa, di, need_x, need_w,
                                    False)
        if need_w:
            dw[:, :, kd] = dws
        if need_x:
            idx = kd * dd - pd + sd * np.arange(od)
            inside = (idx >= 0) & (idx < d)
            dxs = dxs.reshape((n, od) + dxs.shape[1:])[:, inside].transpose(0, 2, 1, 3, 4)
            dx[:, :, idx[inside]] += dxs       # distinct indices: no overlap within one kd
    db = kernel("sum", g.dtype)(g, (0, 2, 3, 4), False) if need_b else None
    return dx, dw, db


class Conv3dFunction(Function):
    """3-d cross-correlation of x (N, G*C, D, H, W) with w (OC, C, KD, KH, KW) (`conv3d_arrays`)."""
    name = "conv3d"

    def forward(self, x, w, b=None, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1),
                groups=1):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w, self.args, self.groups = x, w, (stride, padding, dilation), groups
        return conv3d_arrays(x, w, b, groups, stride, padding, dilation)

    def backward(self, g):
        need = self.needs_input_grad
        return conv3d_grads(g, self.x, self.w, self.groups, *self.args, need[0], need[1],
                            len(need) > 2 and need[2])


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d convolution of input (N, C, D, H, W) with weight (OC, C / groups, KD, KH, KW);
    arguments as `conv2d` (ints or triples).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.conv3d(mnp.ones((1, 2, 4, 5, 5)), mnp.ones((3, 2, 3, 3, 3)), padding=(0, 1, 1)).shape
    (1, 3, 2, 5, 5)
    """
    return _conv(Conv3dFunction, 3, input, weight, bias, stride, padding, dilation, groups,
                 "conv3d")


class Conv3d(_Conv):
    """3-d convolution over input (N, C, D, H, W) (or unbatched (C, D, H, W)), options as
    `Conv2d` (ints or triples); weight (out_channels, in_channels / groups, KD, KH, KW)."""
    dims = 3
    _functional = staticmethod(conv3d)
