"""`Conv1d` and `Conv2d` (PyTorch's arguments and default initialisation)."""
from __future__ import annotations

from typing import Any

from mnp.core import ShapeError, Tensor

from .._util import ArgumentError, ntuple
from ..ops.conv import conv1d, conv2d
from ._weighted import _Weighted


class _ConvNd(_Weighted):
    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, bias: bool = True):
        super().__init__()
        name, n = type(self).__name__, self.dims
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        if self.in_channels < 1 or self.out_channels < 1:
            raise ArgumentError(f"{name}: in_channels and out_channels must be positive, got "
                                f"{in_channels} and {out_channels}")
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = ntuple(stride, n, "stride", name, 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ArgumentError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                    f"got {padding!r}")
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding", name, 0)
        self.dilation = ntuple(dilation, n, "dilation", name, 1)
        self._add_parameters((self.out_channels, self.in_channels) + self.kernel_size, bias)

    def _check(self, input: Tensor) -> None:
        n = self.dims
        shape = input.shape
        if len(shape) not in (n + 1, n + 2) or shape[-n - 1] != self.in_channels:
            raise ShapeError(f"{type(self).__name__}: input of shape {shape} does not fit "
                             f"in_channels={self.in_channels} (weight shape {self.weight.shape}): "
                             f"expected (N, {self.in_channels}, {'L' if n == 1 else 'H, W'})")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding!r}" if isinstance(self.padding, str) \
                else f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-d convolution over input (N, C, H, W) (or unbatched (C, H, W)); ``kernel_size``,
    ``stride``, ``padding``, ``dilation`` are ints or pairs; ``padding`` may be 'valid'/'same'.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Conv2d(1, 8, 3, padding=1)(mnp.zeros((2, 1, 28, 28))).shape
    (2, 8, 28, 28)
    """
    dims = 2

    def forward(self, input: Any) -> Tensor:
        input = self._input(input)
        self._check(input)
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)


class Conv1d(_ConvNd):
    """1-d convolution over input (N, C, L) (or unbatched (C, L)); runs the 2-d kernels with H = 1."""
    dims = 1

    def forward(self, input: Any) -> Tensor:
        input = self._input(input)
        self._check(input)
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)
