"""Pooling layers: `MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d`."""
from __future__ import annotations

from typing import Any

from mnp.core import Tensor

from .._util import ntuple
from ..module import Module
from ..ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d


class _Pool(Module):
    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        name, n = type(self).__name__, self.dims
        # as given (PyTorch keeps and prints them so), and normalised for the ops
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self._args = (ntuple(kernel_size, n, "kernel_size", name, 1),
                      ntuple(self.stride, n, "stride", name, 1), ntuple(padding, n, "padding", name, 0))

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """Max over windows of (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.MaxPool2d(2)(mnp.zeros((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor:
        return max_pool2d(input, *self._args)


class MaxPool1d(_Pool):
    """Max over windows of (N, C, L)."""
    dims = 1

    def forward(self, input: Tensor) -> Tensor:
        return max_pool1d(input, *self._args)


class AvgPool2d(_Pool):
    """Mean over windows of (N, C, H, W); zero padding counts in the divisor."""

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, *self._args)


class AvgPool1d(_Pool):
    """Mean over windows of (N, C, L)."""
    dims = 1

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, *self._args)
