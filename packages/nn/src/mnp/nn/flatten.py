"""The flatten family: `Flatten` and `flatten`, on core's ``flatten`` (a view when possible)."""
from __future__ import annotations

from typing import Any

import mnp.core as _core
from mnp.core import Tensor, as_tensor

from .module import Module


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible); a dimension
    out of range is an `AxisError`, as PyTorch's IndexError."""
    return _core.flatten(as_tensor(input, op="flatten"), start_dim, end_dim)


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (by default all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
