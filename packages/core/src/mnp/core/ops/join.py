"""Joining and splitting: concat (cat), stack, split, chunk; each backward routes the
gradient to the pieces.

>>> import mnp.core as mnp
>>> x = mnp.arange(6.0).reshape(2, 3)
>>> mnp.concat([x, x], axis=1).shape, mnp.stack([x, x]).shape, [p.shape for p in x.split(1)]
((2, 6), (2, 2, 3), [(1, 3), (1, 3)])
"""
from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..autograd import Function
from ..engine import SliceGrad
from ..errors import ShapeError
from ..tensorbase import TensorBase
from ._util import axis_index, result_dtype, to_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


def _joinable(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, TensorBase) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    return [to_tensor(t, op=op) for t in tensors]


def _common(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    dt = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != dt:
            dt = result_dtype(np.empty(0, dt), a)
    return [a if a.dtype == dt else a.astype(dt) for a in arrays]


class Concat(Function):
    name = "concat"
    numpy_only = "data movement"

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.bounds = list(itertools.accumulate(x.shape[axis] for x in xs[:-1]))
        return np.concatenate(_common(xs), axis=axis)

    def backward(self, g):
        parts = np.split(g, self.bounds, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


def concat(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing ``axis`` (alias ``cat``; ``dim=`` accepted).

    >>> import mnp.core as mnp
    >>> mnp.cat([mnp.zeros(2, 3), mnp.ones(1, 3)]).shape
    (3, 3)
    """
    ts = _joinable(tensors, "concat")
    axis = axis if dim is None else dim
    first = ts[0].shape
    if not first:
        raise ShapeError("concat: zero-dimensional tensors (shape ()) cannot be concatenated")
    ax = axis_index(axis, len(first), "concat")
    for t in ts[1:]:
        s = t.shape
        if len(s) != len(first) or s[:ax] + s[ax + 1:] != first[:ax] + first[ax + 1:]:
            raise ShapeError(f"concat: shapes {first} and {s} do not match outside axis {ax}")
    return Concat.apply(*ts, axis=ax)


cat = concat
concatenate = concat


class Stack(Function):
    numpy_only = "data movement"

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.stack(_common(xs), axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] if need else None
                     for i, need in enumerate(self.needs_input_grad))


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join equal-shaped tensors along a new ``axis`` (``dim=`` accepted)."""
    ts = _joinable(tensors, "stack")
    axis = axis if dim is None else dim
    first = ts[0].shape
    for t in ts[1:]:
        if t.shape != first:
            raise ShapeError(f"stack: shapes {first} and {t.shape} must be equal")
    return Stack.apply(*ts, axis=axis_index(axis, len(first), "stack", extra=1))


class SplitPiece(Function):
    """One piece of a split or unbind (a basic index of the input); its gradient is that
    piece of the input's gradient (`SliceGrad`), so the pieces share one buffer."""
    name = "split"
    numpy_only = "data movement"

    def forward(self, x, key=()):
        self.key = key
        return x[key]

    def backward(self, g):
        return SliceGrad(self.key, g)


def _pieces(x: Tensor, sizes: Sequence[int], ax: int) -> tuple[Tensor, ...]:
    lead = (slice(None),) * ax
    out, start = [], 0
    for n in sizes:
        out.append(SplitPiece.apply(x, key=lead + (slice(start, start + n),)))
        start += n
    return tuple(out)


def split(x: Any, split_size_or_sections: Any, axis: int = 0, *,
          dim: int | None = None) -> tuple[Tensor, ...]:
    """PyTorch's split: chunks of ``split_size_or_sections`` along ``axis`` (the last one
    smaller if needed), or pieces of the listed sizes, which must add up to the axis length.

    >>> import mnp.core as mnp
    >>> [p.shape for p in mnp.arange(5.0).split(2)]
    [(2,), (2,), (1,)]
    """
    x = to_tensor(x, op="split")
    axis = axis if dim is None else dim
    if not x.shape:
        raise ShapeError("split: a zero-dimensional tensor (shape ()) cannot be split")
    ax = axis_index(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ShapeError(f"split: split size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [operator.index(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sizes {tuple(sizes)} do not add up to {n}, the length of "
                             f"axis {ax} of shape {x.shape}")
    return _pieces(x, sizes, ax)


def chunk(x: Any, chunks: int, axis: int = 0, *, dim: int | None = None) -> tuple[Tensor, ...]:
    """PyTorch's chunk: split into at most ``chunks`` pieces of ``ceil(n / chunks)``."""
    x = to_tensor(x, op="chunk")
    if operator.index(chunks) <= 0:
        raise ShapeError(f"chunk: chunks must be positive, got {chunks}")
    if not x.shape:
        raise ShapeError("chunk: a zero-dimensional tensor (shape ()) cannot be chunked")
    ax = axis_index(axis if dim is None else dim, x.ndim, "chunk")
    return split(x, max(-(-x.shape[ax] // chunks), 1), ax)


def unbind(x: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's unbind: the slices of ``x`` along ``dim``, each without that dimension.
    ``for row in x`` and ``q, k, v = x`` go through it.

    >>> import mnp.core as mnp
    >>> [p.tolist() for p in mnp.tensor([[1.0, 2.0], [3.0, 4.0]]).unbind(1)]
    [[1.0, 3.0], [2.0, 4.0]]
    """
    x = to_tensor(x, op="unbind")
    if not x.shape:
        raise ShapeError("unbind: a zero-dimensional tensor (shape ()) cannot be unbound")
    ax = axis_index(dim, x.ndim, "unbind")
    lead = (slice(None),) * ax
    return tuple(SplitPiece.apply(x, key=lead + (i,)) for i in range(x.shape[ax]))


class JoinMethods:
    """`Tensor`'s methods of this family: ``x.split(2)`` is ``split(x, 2)``, and so on."""
    __slots__ = ()
    split = split
    chunk = chunk
    unbind = unbind


__all__ = ["concat", "cat", "concatenate", "stack", "split", "chunk", "unbind"]
