"""Pooling layers: `MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d`, with PyTorch's
arguments, order and ``repr``."""
from __future__ import annotations

from typing import Any

from mnp.core import Tensor

from .._util import ntuple
from ..module import Module
from ..ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d


def _as_given(value: Any) -> Any:
    """A size as PyTorch keeps it; a list (as a model file's JSON holds a tuple) becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


class _MaxPool(Module):
    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        name, n = type(self).__name__, self.dims
        # as given (PyTorch keeps and prints them so), and checked up front
        self.kernel_size = _as_given(kernel_size)
        self.stride = self.kernel_size if stride is None else _as_given(stride)
        self.padding = _as_given(padding)
        self.dilation = _as_given(dilation)
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self._args = (ntuple(kernel_size, n, "kernel_size", name, 1),
                      ntuple(self.stride, n, "stride", name, 1),
                      ntuple(padding, n, "padding", name, 0),
                      ntuple(dilation, n, "dilation", name, 1), self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.
    With ``return_indices=True`` the call returns ``(output, indices)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.MaxPool2d(2)(mnp.zeros((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    >>> nn.MaxPool2d(2, ceil_mode=True)(mnp.zeros((1, 3, 7, 7))).shape
    (1, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Any:
        return max_pool2d(input, *self._args)


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L) or (C, L)."""
    dims = 1

    def forward(self, input: Tensor) -> Any:
        return max_pool1d(input, *self._args)


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W) or (C, H, W); zero padding counts in the divisor unless
    ``count_include_pad=False``; ``divisor_override`` replaces the divisor."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _as_given(kernel_size)
        self.stride = self.kernel_size if stride is None else _as_given(stride)
        self.padding = _as_given(padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        self._args = (ntuple(kernel_size, 2, "kernel_size", name, 1),
                      ntuple(self.stride, 2, "stride", name, 1), ntuple(padding, 2, "padding", name, 0),
                      self.ceil_mode, self.count_include_pad, divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, *self._args)


class AvgPool1d(Module):
    """Mean over windows of (N, C, L) or (C, L) (PyTorch keeps its sizes as 1-tuples)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else ntuple(stride, 1, "stride", name, 1)
        self.padding = ntuple(padding, 1, "padding", name, 0)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self._args = (self.kernel_size, self.stride, self.padding, self.ceil_mode,
                      self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, *self._args)
