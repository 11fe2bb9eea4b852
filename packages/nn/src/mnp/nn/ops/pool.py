"""Pooling ops on the ``max_pool2d_*`` and ``avg_pool2d_*`` kernels; the 1-d forms run them
with H = 1."""
from __future__ import annotations

from typing import Any

from mnp.core import Function, ShapeError, Tensor
from mnp.core.dispatch import kernel

from .._util import ArgumentError, as_tensor, batched, ntuple
from ..kernels.conv import out_size


class MaxPool2d(Function):
    name = "max_pool2d"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)):
        self.shape = x.shape
        y, self.indices = kernel("max_pool2d_forward", x.dtype)(x, kernel_size, stride, padding)
        return y

    def backward(self, g):
        return kernel("max_pool2d_backward", g.dtype)(g, self.indices, self.shape)


class AvgPool2d(Function):
    name = "avg_pool2d"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)):
        self.shape, self.args = x.shape, (kernel_size, stride, padding)
        return kernel("avg_pool2d_forward", x.dtype)(x, kernel_size, stride, padding)

    def backward(self, g):
        return kernel("avg_pool2d_backward", g.dtype)(g, self.shape, *self.args)


class MaxPool1d(MaxPool2d):
    name = "max_pool1d"

    def forward(self, x, **kw):
        return super().forward(x[:, :, None, :], **kw)[:, :, 0, :]

    def backward(self, g):
        return super().backward(g[:, :, None, :])[:, :, 0, :]


class AvgPool1d(AvgPool2d):
    name = "avg_pool1d"

    def forward(self, x, **kw):
        return super().forward(x[:, :, None, :], **kw)[:, :, 0, :]

    def backward(self, g):
        return super().backward(g[:, :, None, :])[:, :, 0, :]


def _pool(fn, dims: int, input: Any, kernel_size: Any, stride: Any, padding: Any, op: str) -> Tensor:
    x = as_tensor(input, op)
    x, unbatched = batched(x, dims, op)
    ks = ntuple(kernel_size, dims, "kernel_size", op, 1)
    st = ks if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else ntuple(stride, dims, "stride", op, 1)
    pd = ntuple(padding, dims, "padding", op, 0)
    if any(2 * p > k for p, k in zip(pd, ks)):
        raise ArgumentError(f"{op}: padding {pd} must be at most half of kernel_size {ks}")
    for size, k, s, p in zip(x.shape[2:], ks, st, pd):
        if out_size(size, k, s, p, 1) < 1:
            raise ShapeError(f"{op}: input of shape {x.shape} is too small for kernel_size {ks} "
                             f"with padding {pd}")
    if dims == 1:
        ks, st, pd = (1,) + ks, (1,) + st, (0,) + pd
    y = fn.apply(x, kernel_size=ks, stride=st, padding=pd)
    return y.reshape(y.shape[1:]) if unbatched else y


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over ``kernel_size`` windows of input (N, C, H, W); ``stride`` defaults to the kernel
    size; padding (at most half the kernel) never wins.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.max_pool2d(mnp.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _pool(MaxPool2d, 2, input, kernel_size, stride, padding, "max_pool2d")


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over ``kernel_size`` windows of input (N, C, L)."""
    return _pool(MaxPool1d, 1, input, kernel_size, stride, padding, "max_pool1d")


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over ``kernel_size`` windows of input (N, C, H, W); zero padding is counted in the
    divisor, as PyTorch's default ``count_include_pad=True``."""
    return _pool(AvgPool2d, 2, input, kernel_size, stride, padding, "avg_pool2d")


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over ``kernel_size`` windows of input (N, C, L)."""
    return _pool(AvgPool1d, 1, input, kernel_size, stride, padding, "avg_pool1d")
