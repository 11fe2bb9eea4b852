"""Reductions over ``axis`` (None, int or tuple; ``dim=`` is a synonym) with ``keepdims``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..dispatch import kernel
from ..tensor import Tensor, method
from ._util import norm_axis, pick_axis, to_tensor


def _expand(g: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None,
            keepdims: bool) -> np.ndarray:
    """Reshape a reduced gradient so it broadcasts back over ``shape``."""
    if not keepdims:
        if axes is None:
            g = g.reshape((1,) * len(shape))
        else:
            g = np.expand_dims(g, axes)
    return g


class Sum(Function):
    def forward(self, x, axes=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return np.asarray(kernel("sum", x.dtype)(x, axes, keepdims))

    def backward(self, g):
        return np.broadcast_to(_expand(g, self.shape, self.axes, self.keepdims), self.shape)


class Mean(Sum):
    def forward(self, x, axes=None, keepdims=False):
        out = super().forward(x, axes, keepdims)
        self.count = x.size // max(out.size, 1) if x.size else 0
        return (out / max(self.count, 1)).astype(out.dtype, copy=False)

    def backward(self, g):
        return super().backward(g / max(self.count, 1))


def _reduce(cls, x: Any, axis: Any, dim: Any, keepdims: bool, op: str) -> Tensor:
    x = to_tensor(x, op=op)
    axes = norm_axis(pick_axis(axis, dim, op), x.data.ndim, op)
    return cls.apply(x, axes=axes, keepdims=bool(keepdims))


@method
def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all by default)."""
    return _reduce(Sum, x, axis, dim, keepdims, "sum")


@method
def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    """Mean over ``axis`` (all by default)."""
    x = to_tensor(x, op="mean")
    if x.data.dtype.kind != "f":
        from .. import dtypes
        x = to_tensor(x.data.astype(dtypes.get_default_dtype()))
    return _reduce(Mean, x, axis, dim, keepdims, "mean")

__all__ = ["sum", "mean"]
