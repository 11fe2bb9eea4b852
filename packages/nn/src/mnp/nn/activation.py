"""The activation family: `ReLU`, `Sigmoid`, `Tanh`, `LeakyReLU`, `GELU`, `Softmax`,
`LogSoftmax` and their functional forms, on core's activation ops (their autograd nodes and
kernels live in mnp.core)."""
from __future__ import annotations

from typing import Any

import mnp.core as _core
from mnp.core import Tensor, as_tensor

from ._util import ArgumentError
from .module import Module


def relu(input: Any, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _core.relu(as_tensor(input, op="relu"))


def sigmoid(input: Any) -> Tensor:
    """``1 / (1 + exp(-input))``, without overflow."""
    return _core.sigmoid(as_tensor(input, op="sigmoid"))


def tanh(input: Any) -> Tensor:
    return _core.tanh(as_tensor(input, op="tanh"))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return _core.leaky_relu(as_tensor(input, op="leaky_relu"), negative_slope)


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate="tanh"`` for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _core.gelu(as_tensor(input, op="gelu"), approximate=approximate)


def softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable softmax along ``dim``."""
    return _core.softmax(as_tensor(input, op="softmax"), axis=dim)


def log_softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable log-softmax along ``dim``."""
    return _core.log_softmax(as_tensor(input, op="log_softmax"), axis=dim)


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _core.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.sigmoid(input)


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.tanh(input)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = float(negative_slope), inplace

    def forward(self, input: Tensor) -> Tensor:
        return _core.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Gaussian error linear unit; ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return _core.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Stable softmax along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return _core.softmax(input, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Stable log-softmax along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.log_softmax(input, axis=self.dim)
