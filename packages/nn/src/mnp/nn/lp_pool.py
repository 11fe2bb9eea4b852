"""Power-average pooling: `LPPool1d`, `LPPool2d`, `LPPool3d` and their functional forms, as
PyTorch composes them: ``(sum over the window of x ** p) ** (1 / p)`` from average pooling
(so autograd gives the backward); ``p = inf`` is max pooling of ``|x|``.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.lp_pool1d(mnp.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2).tolist()
[[[5.0, 1.4142135381698608]]]
"""
from __future__ import annotations

from typing import Any

import mnp.core as mnp
from mnp.core import Tensor, as_tensor

from ._util import ntuple
from .activation import relu
from .module import Module
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .pool3d import avg_pool3d, max_pool3d

_POOLS = {1: (avg_pool1d, max_pool1d), 2: (avg_pool2d, max_pool2d), 3: (avg_pool3d, max_pool3d)}


def _lp_pool(dims: int, input: Any, norm_type: float, kernel_size: Any, stride: Any,
             ceil_mode: bool, op: str) -> Tensor:
    x = as_tensor(input, op=op)
    avg, mx = _POOLS[dims]
    if norm_type == float("inf"):
        return mx(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -mx(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    area = 1
    for k in ntuple(kernel_size, dims, "kernel_size", op, 1):
        area *= k
    out = avg(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return ((mnp.sign(out) * relu(out.abs())) * area) ** (1.0 / norm_type)


def lp_pool1d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``p``-norm over ``kernel_size`` windows of (N, C, L) or (C, L)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool1d")


def lp_pool2d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``p``-norm over ``kernel_size`` windows of (N, C, H, W) or (C, H, W)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool2d")


def lp_pool3d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``p``-norm over ``kernel_size`` windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool3d")


class _LPPool(Module):
    dims = 2

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False):
        super().__init__()
        name = type(self).__name__
        ntuple(kernel_size, self.dims, "kernel_size", name, 1)
        if stride is not None:
            ntuple(stride, self.dims, "stride", name, 1)
        self.norm_type = norm_type
        self.kernel_size = tuple(kernel_size) if isinstance(kernel_size, list) else kernel_size
        self.stride = tuple(stride) if isinstance(stride, list) else stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")

    def forward(self, input: Tensor) -> Tensor:
        return _lp_pool(self.dims, input, float(self.norm_type), self.kernel_size, self.stride,
                        bool(self.ceil_mode), type(self).__name__)


class LPPool1d(_LPPool):
    """`lp_pool1d` as a layer."""
    dims = 1


class LPPool2d(_LPPool):
    """`lp_pool2d` as a layer."""
    dims = 2


class LPPool3d(_LPPool):
    """`lp_pool3d` as a layer."""
    dims = 3
