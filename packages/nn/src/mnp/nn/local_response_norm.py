"""Local response normalisation: `LocalResponseNorm` and `local_response_norm`, composed of
core's differentiable ops (PyTorch's definition: each element divided by
``(k + alpha * mean of the squares over a window of `size` channels) ** beta``, the window
zero-padded at the channel edges and always averaged over ``size``).

>>> import mnp.core as mnp
>>> from mnp import nn
>>> nn.LocalResponseNorm(2)
LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
"""
from __future__ import annotations

from typing import Any

import mnp.core as _core
from mnp.core import ShapeError, Tensor, as_tensor

from ._util import ArgumentError
from .module import Module


def local_response_norm(input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise input (N, C, ...) across channels: ``x / (k + alpha / size * sum of x**2 over
    the channels c - size // 2 .. c + (size - 1) // 2) ** beta``."""
    x = as_tensor(input, op="local_response_norm")
    if x.ndim < 3:
        raise ShapeError(f"local_response_norm: expected an input of 3 or more dimensions "
                         f"(N, C, ...), got shape {x.shape}")
    size = int(size)
    if size < 1:
        raise ArgumentError(f"local_response_norm: size must be >= 1, got {size}")
    if x.numel() == 0:
        return x
    if x.dtype.kind != "f":
        x = x.astype(_core.get_default_dtype())
    c = x.shape[1]
    widths = [(0, 0)] * x.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = _core.pad(x * x, widths)
    total = padded[:, 0:c]
    for j in range(1, size):
        total = total + padded[:, j:j + c]
    div = (total * (float(alpha) / size) + float(k)) ** float(beta)
    return x / div


class LocalResponseNorm(Module):
    """Local response normalisation across channels over a window of ``size`` channels."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if int(size) < 1:
            raise ArgumentError(f"LocalResponseNorm: size must be >= 1, got {size}")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
