"""Shape ops: reshape, permute and broadcast; views where numpy gives views, gradients
routed back to the input's shape. Joining and splitting are in `join`, padding, flipping,
repeating and tiling in `repeat`.

>>> import mnp.core as mnp
>>> x = mnp.arange(6.0).reshape(2, 3)
>>> x.permute(1, 0).shape, x.flatten().shape, x.unsqueeze(0).expand(4, 2, 3).shape
((3, 2), (6,), (4, 2, 3))
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ._util import axes_in_order, axis_index, pick_axis, shape_arg, to_tensor, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


# -- reshape family -------------------------------------------------------------------------
class Reshape(Function):
    numpy_only = "data movement"

    def forward(self, x, shape=()):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.shape)


def reshape(x: Any, *shape: Any) -> Tensor:
    """Same data, new shape (``-1`` infers one dimension); a view where numpy gives one."""
    return Reshape.apply(to_tensor(x, op="reshape"), shape=shape_arg(shape))


def view(x: Any, *shape: Any) -> Tensor:
    """Alias of `reshape`."""
    return Reshape.apply(to_tensor(x, op="view"), shape=shape_arg(shape, "view"))


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one.

    >>> import mnp.core as mnp
    >>> mnp.zeros(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    x = to_tensor(x, op="flatten")
    shape = x.shape
    s, e = axis_index(start_dim, len(shape), "flatten"), axis_index(end_dim, len(shape), "flatten")
    if not shape:
        return Reshape.apply(x, shape=(1,))
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {shape}")
    new = shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]
    return Reshape.apply(x, shape=new)


def squeeze(x: Any, axis: Any = None, *, dim: Any = None) -> Tensor:
    """Drop size-1 dimensions: all of them, or those in ``axis`` (int or tuple). As in
    PyTorch, a named axis whose size is not 1 is left alone."""
    x = to_tensor(x, op="squeeze")
    axis = pick_axis(axis, dim, "squeeze")
    shape = x.shape
    drop = range(len(shape)) if axis is None else axes_in_order(axis, len(shape), "squeeze")
    new = tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1))
    return Reshape.apply(x, shape=new)


def unsqueeze(x: Any, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim`` (``-1`` appends one)."""
    x = to_tensor(x, op="unsqueeze")
    d = axis_index(dim, x.ndim, "unsqueeze", extra=1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand_dims(x: Any, axis: Any) -> Tensor:
    """numpy's ``expand_dims``: insert size-1 dimensions at ``axis`` (int or tuple), placed in
    the result's numbering."""
    x = to_tensor(x, op="expand_dims")
    n = x.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    where = set(axes_in_order(axis, n, "expand_dims"))
    it = iter(x.shape)
    return Reshape.apply(x, shape=tuple(1 if i in where else next(it) for i in range(n)))


# -- permutations ---------------------------------------------------------------------------
class Transpose(Function):
    numpy_only = "data movement"

    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, g):
        if self.axes is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort(self.axes))


def _permutation(axes: Any, ndim: int, shape: tuple, op: str) -> tuple[int, ...]:
    perm = axes_in_order(axes, ndim, op)
    if sorted(perm) != list(range(ndim)):
        raise ShapeError(f"{op}: {axes!r} is not a permutation of the {ndim} dimensions "
                         f"of shape {shape}")
    return perm


def transpose(x: Any, axes: Any = None, *more: int) -> Tensor:
    """Permute dimensions (reverse them by default). ``transpose(x, 0, 1)`` swaps two axes, as
    PyTorch does; ``transpose(x, (1, 0, 2))`` permutes, as numpy does."""
    x = to_tensor(x, op="transpose")
    nd = x.data.ndim
    if more:
        if len(more) != 1:
            raise TypeError("transpose: give one permutation or two dimensions")
        return swapaxes(x, axes, more[0])
    if axes is not None:
        axes = _permutation(axes, nd, x.shape, "transpose")
    return Transpose.apply(x, axes=axes)


def permute(x: Any, *dims: Any) -> Tensor:
    """Reorder dimensions: ``x.permute(2, 0, 1)`` or ``permute(x, (2, 0, 1))``."""
    x = to_tensor(x, op="permute")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return Transpose.apply(x, axes=_permutation(dims, x.ndim, x.shape, "permute"))


def swapaxes(x: Any, axis0: int, axis1: int) -> Tensor:
    """Exchange two dimensions (alias ``swapdims``)."""
    x = to_tensor(x, op="swapaxes")
    perm = list(range(x.ndim))
    i, j = axis_index(axis0, x.ndim, "swapaxes"), axis_index(axis1, x.ndim, "swapaxes")
    if perm:                      # a 0-d tensor takes axes 0 and -1 and stays as it is
        perm[i], perm[j] = perm[j], perm[i]
    return Transpose.apply(x, axes=tuple(perm))


swapdims = swapaxes


def movedim(x: Any, source: Any, destination: Any) -> Tensor:
    """Move dimensions ``source`` to positions ``destination`` (alias ``moveaxis``)."""
    x = to_tensor(x, op="movedim")
    src, dst = axes_in_order(source, x.ndim, "movedim"), axes_in_order(destination, x.ndim, "movedim")
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {source} and destination {destination} differ in length")
    if x.ndim == 0:
        return Transpose.apply(x, axes=())
    perm: list[int | None] = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    perm = [next(rest) if p is None else p for p in perm]
    return Transpose.apply(x, axes=tuple(perm))


moveaxis = movedim


# -- broadcasting ---------------------------------------------------------------------------
class BroadcastTo(Function):
    name = "broadcast_to"
    numpy_only = "data movement (the backward sums the copies)"

    def forward(self, x, shape=()):
        self.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ShapeError(f"broadcast_to: shape {x.shape} cannot be broadcast to "
                             f"{tuple(shape)}") from None

    def backward(self, g):
        return unbroadcast(g, self.shape)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only broadcast view of ``x`` with ``shape``; backward sums the copies."""
    x = to_tensor(x, op="broadcast_to")
    return BroadcastTo.apply(x, shape=shape_arg((shape,), "broadcast_to"))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """PyTorch's ``Tensor.expand``: broadcast to ``sizes``, where ``-1`` keeps a dimension."""
    sizes = shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}")
    if any(s == -1 for s in sizes[:lead]):
        raise ShapeError(f"expand: -1 is not allowed for the new leading dimensions in {sizes}")
    shape = sizes[:lead] + tuple(n if s == -1 else s for s, n in zip(sizes[lead:], x.shape))
    return BroadcastTo.apply(x, shape=shape)


class ShapeMethods:
    """`Tensor`'s methods of this family: ``x.reshape(2, 3)`` is ``reshape(x, 2, 3)``, and so on."""
    __slots__ = ()
    reshape = reshape
    view = view
    flatten = flatten
    squeeze = squeeze
    unsqueeze = unsqueeze
    transpose = transpose
    permute = permute
    swapaxes = swapaxes
    swapdims = swapdims
    movedim = movedim
    moveaxis = moveaxis
    broadcast_to = broadcast_to
    expand = expand


__all__ = ["reshape", "view", "flatten", "squeeze", "unsqueeze", "expand_dims", "transpose",
           "permute", "swapaxes", "swapdims", "movedim", "moveaxis", "broadcast_to"]
