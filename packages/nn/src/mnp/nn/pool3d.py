"""3-d pooling: `MaxPool3d`, `AvgPool3d` and their functional forms (PyTorch's arguments).

A 3-d window is separable: pooling each depth slice over (H, W) with the 2-d kernels, then
the result along D with the 1-d ones, gives PyTorch's values, divisors (a product of one
factor per axis) and indices (the first maximum in (D, H, W) order wins a tie, the last NaN
wins, a window of lowest values points at its first element inside the input). Both stages
are autograd ops, so the backward is theirs.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> y, i = F.max_pool3d(mnp.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
>>> y.tolist(), i.tolist()
([[[[[7.0]]]]], [[[[[7]]]]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import Tensor, as_tensor

from ._util import batched
from .pool import (_avg_pool, _AvgPoolNd, _geometry, _MaxPool, avg_pool2d,
                   check_divisor, max_pool1d, max_pool2d)


def _planes(x: Tensor) -> Tensor:
    """(N, C, D, H, W) -> (N, C * D, H, W)."""
    n, c, d, h, w = x.shape
    return x.reshape(n, c * d, h, w)


def _depth_last(y: Tensor, n: int, c: int, d: int) -> Tensor:
    """(N, C * D, OH, OW) -> (N, C * OH * OW, D)."""
    oh, ow = y.shape[2:]
    return y.reshape(n, c, d, oh * ow).permute(0, 1, 3, 2).reshape(n, c * oh * ow, d)


def _back_to_3d(y: Tensor, n: int, c: int, oh: int, ow: int) -> Tensor:
    """(N, C * OH * OW, OD) -> (N, C, OD, OH, OW)."""
    return y.reshape(n, c, oh, ow, y.shape[-1]).permute(0, 1, 4, 2, 3)


def max_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over ``kernel_size`` windows of (N, C, D, H, W) or (C, D, H, W); indices (with
    ``return_indices=True``) are flat positions in each (D, H, W) volume, as PyTorch's."""
    op = "max_pool3d"
    x, unbatched = batched(as_tensor(input, op=op), 3, op)
    ks, st, pd, dl, _, _ = _geometry(x, 3, kernel_size, stride, padding, dilation, ceil_mode, op)
    n, c, d, h, w = x.shape
    y, i_hw = max_pool2d(_planes(x), ks[1:], st[1:], pd[1:], dl[1:], ceil_mode, True)
    oh, ow = y.shape[2:]
    y, i_d = max_pool1d(_depth_last(y, n, c, d), ks[0], st[0], pd[0], dl[0], ceil_mode, True)
    y = _back_to_3d(y, n, c, oh, ow)
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    depth = i_d.numpy().reshape(n, c, oh * ow, -1).transpose(0, 1, 3, 2)   # (N, C, OD, OH*OW)
    hw = np.take_along_axis(i_hw.numpy().reshape(n, c, d, oh * ow), depth, axis=2)
    idx = (depth * (h * w) + hw).reshape(n, c, -1, oh, ow)
    return y, mnp.from_numpy(idx[0] if unbatched else idx)


def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over ``kernel_size`` windows of (N, C, D, H, W) or (C, D, H, W), with PyTorch's
    divisor (see `avg_pool2d`)."""
    op = "avg_pool3d"
    x, unbatched = batched(as_tensor(input, op=op), 3, op)
    check_divisor(divisor_override, op)
    ks, st, pd, _, _, _ = _geometry(x, 3, kernel_size, stride, padding, 1, ceil_mode, op)
    n, c, d, h, w = x.shape
    over = divisor_override is not None             # then each stage sums (over its own area)
    y = avg_pool2d(_planes(x), ks[1:], st[1:], pd[1:], ceil_mode, count_include_pad,
                   ks[1] * ks[2] if over else None)
    oh, ow = y.shape[2:]
    y = _avg_pool(1, _depth_last(y, n, c, d), ks[0], st[0], pd[0], ceil_mode, count_include_pad,
                  ks[0] if over else None, op)
    y = _back_to_3d(y, n, c, oh, ow)
    if over and divisor_override != ks[0] * ks[1] * ks[2]:
        y = y * (ks[0] * ks[1] * ks[2] / divisor_override)
    return y.reshape(y.shape[1:]) if unbatched else y


class MaxPool3d(_MaxPool):
    """Max over windows of (N, C, D, H, W) or (C, D, H, W); ``stride`` defaults to
    ``kernel_size``. With ``return_indices=True`` the call returns ``(output, indices)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.MaxPool3d(2, ceil_mode=True)(mnp.zeros((1, 2, 3, 5, 4))).shape
    (1, 2, 2, 3, 2)
    """
    dims = 3

    def forward(self, input: Tensor) -> Any:
        return max_pool3d(input, *self._args)


class AvgPool3d(_AvgPoolNd):
    """Mean over windows of (N, C, D, H, W) or (C, D, H, W); zero padding counts in the
    divisor unless ``count_include_pad=False``; ``divisor_override`` replaces the divisor."""
    _dims = 3

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool3d(input, *self._args)
