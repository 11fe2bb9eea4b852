"""Shape ops: views where numpy gives views, gradients routed back to the input's shape."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor, method
from ._util import to_tensor


def _shape_arg(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    def forward(self, x, shape=()):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.shape)


class Transpose(Function):
    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, g):
        if self.axes is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort(self.axes))


@method
def reshape(x: Any, *shape: Any) -> Tensor:
    """Same data, new shape (``-1`` infers one dimension); a view where numpy gives one."""
    return Reshape.apply(to_tensor(x, op="reshape"), shape=_shape_arg(shape))


@method
def view(x: Any, *shape: Any) -> Tensor:
    """Alias of `reshape`."""
    return Reshape.apply(to_tensor(x, op="view"), shape=_shape_arg(shape))


@method
def transpose(x: Any, axes: Any = None, *more: int) -> Tensor:
    """Permute dimensions (reverse them by default). ``transpose(x, 0, 1)`` swaps two axes, as
    PyTorch does; ``transpose(x, (1, 0, 2))`` permutes, as numpy does."""
    x = to_tensor(x, op="transpose")
    nd = x.data.ndim
    if more:
        if len(more) != 1:
            raise TypeError("transpose: give one permutation or two dimensions")
        perm = list(range(nd))
        try:
            i, j = perm[axes], perm[more[0]]
        except IndexError:
            raise ShapeError(f"transpose: dimensions ({axes}, {more[0]}) are out of range for a "
                             f"tensor of {nd} dimensions") from None
        perm[i], perm[j] = perm[j], perm[i]
        axes = tuple(perm)
    elif axes is not None:
        axes = tuple(int(a) % max(nd, 1) for a in axes)
        if sorted(axes) != list(range(nd)):
            raise ShapeError(f"transpose: {axes} is not a permutation of the {nd} dimensions "
                             f"of shape {x.shape}")
    return Transpose.apply(x, axes=axes)

__all__ = ["reshape", "view", "transpose"]
