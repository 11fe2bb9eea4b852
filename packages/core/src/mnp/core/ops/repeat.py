"""Padding, flipping, repeating and tiling; each backward gathers the gradient back to the
input's elements.

>>> import mnp.core as mnp
>>> x = mnp.tensor([1.0, 2.0])
>>> mnp.pad(x, 1).tolist(), x.flip().tolist(), x.repeat_interleave(2).tolist(), x.tile(2).tolist()
([0.0, 1.0, 2.0, 0.0], [2.0, 1.0], [1.0, 1.0, 2.0, 2.0], [1.0, 2.0, 1.0, 2.0])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensorbase import TensorBase
from ._util import axes_in_order, axis_index, pick_axis, shape_arg, to_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


class Pad(Function):
    numpy_only = "data movement"

    def forward(self, x, widths=(), value=0):
        self.key = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.key]


def _pad_widths(pad_width: Any, shape: tuple) -> tuple[tuple[int, int], ...]:
    arr = np.asarray(pad_width)
    if arr.dtype.kind not in "iu" and arr.size:
        raise ShapeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    try:
        pairs = np.broadcast_to(arr.astype(np.int64), (len(shape), 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape "
                         f"{shape}: give an int, (before, after), or one pair per axis") from None
    if (pairs < 0).any():
        raise ShapeError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return tuple((int(b), int(a)) for b, a in pairs)


def pad(x: Any, pad_width: Any, value: float = 0) -> Tensor:
    """Constant padding with numpy's ``pad_width``: an int (every side), ``(before, after)``
    (every axis), or one ``(before, after)`` pair per axis.

    >>> import mnp.core as mnp
    >>> mnp.pad(mnp.ones(2, 3), ((0, 0), (1, 2))).shape
    (2, 6)
    """
    x = to_tensor(x, op="pad")
    return Pad.apply(x, widths=_pad_widths(pad_width, x.shape), value=value)


class Flip(Function):
    numpy_only = "data movement"

    def forward(self, x, axes=None):
        self.axes = axes
        return np.flip(x, axes)

    def backward(self, g):
        return np.flip(g, self.axes)


def flip(x: Any, axis: Any = None, *, dim: Any = None, dims: Any = None) -> Tensor:
    """Reverse the order along ``axis`` (int or tuple; all axes by default); a view."""
    x = to_tensor(x, op="flip")
    given = [a for a in (axis, dim, dims) if a is not None]
    if len(given) > 1:
        raise TypeError("flip: pass one of axis, dim and dims")
    axis = given[0] if given else None
    axes = None if axis is None else axes_in_order(axis, x.ndim, "flip")[:x.ndim]   # 0-d: nothing to flip
    return Flip.apply(x, axes=axes)


class Repeat(Function):
    numpy_only = "data movement (the backward sums the copies)"

    def forward(self, x, repeats=None, axis=None):
        self.shape, self.axis = x.shape, axis
        self.repeats = repeats
        return np.repeat(x, repeats, axis=axis)

    def backward(self, g):
        shape, axis, r = self.shape, self.axis, self.repeats
        flat = axis is None
        n = int(np.prod(shape)) if flat else shape[axis]
        ax = 0 if flat else axis
        if r.size == 1:                       # every element the same number of times
            k = int(r.reshape(-1)[0])
            gs = g.shape
            out = g.reshape(gs[:ax] + (n, k) + gs[ax + 1:]).sum(axis=ax + 1)
        else:                                  # per-element counts: sum the runs
            owner = np.repeat(np.arange(n), r)
            moved = np.moveaxis(g, ax, 0)
            acc = np.zeros((n,) + moved.shape[1:], g.dtype)
            np.add.at(acc, owner, moved)
            out = np.moveaxis(acc, 0, ax)
        return out.reshape(shape)


def repeat(x: Any, repeats: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """numpy's ``repeat``: repeat each element ``repeats`` times (an int or one count per
    element) along ``axis``, or over the flattened tensor when ``axis`` is None. Alias
    ``repeat_interleave``. (The method ``Tensor.repeat(*sizes)`` tiles, as in PyTorch.)

    >>> import mnp.core as mnp
    >>> mnp.repeat(mnp.tensor([1.0, 2.0]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    x = to_tensor(x, op="repeat")
    axis = pick_axis(axis, dim, "repeat")
    ax = None if axis is None else axis_index(axis, x.ndim, "repeat")
    n = x.numel() if ax is None else x.shape[ax]
    r = np.asarray(repeats.data if isinstance(repeats, TensorBase) else repeats)
    if r.dtype.kind not in "iu" or r.ndim > 1 or (r.size != 1 and r.size != n) or (r < 0).any():
        raise ShapeError(f"repeat: repeats must be a non-negative int or one count per element "
                         f"({n}) of shape {x.shape} along axis {ax}, got {repeats!r}")
    return Repeat.apply(x, repeats=r.astype(np.int64), axis=ax)


repeat_interleave = repeat


class Tile(Function):
    numpy_only = "data movement (the backward sums the copies)"

    def forward(self, x, reps=()):
        self.shape = (1,) * (len(reps) - x.ndim) + x.shape
        self.reps = reps
        return np.tile(x, reps)

    def backward(self, g):
        pairs = [d for r, n in zip(self.reps, self.shape) for d in (r, n)]
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2)))


def _tile_reps(reps: tuple, op: str) -> tuple[int, ...]:
    reps = shape_arg(reps, op)
    if any(r < 0 for r in reps):
        raise ShapeError(f"{op}: repeat counts must be non-negative, got {reps}")
    return reps


def tile(x: Any, reps: Any, *more: int) -> Tensor:
    """Tile ``x`` ``reps`` times per axis (numpy's and PyTorch's ``tile``); ``reps`` shorter
    than ``x.ndim`` is padded with 1s in front."""
    x = to_tensor(x, op="tile")
    reps = _tile_reps((reps,) + more, "tile")
    reps = (1,) * (x.ndim - len(reps)) + reps
    return Tile.apply(x, reps=reps)


class RepeatMethods:
    """`Tensor`'s methods of this family: ``x.flip(0)`` is ``flip(x, 0)``, and so on;
    ``x.repeat(*sizes)`` alone differs from its function (it tiles, as in PyTorch)."""
    __slots__ = ()
    flip = flip
    repeat_interleave = repeat_interleave
    tile = tile

    def repeat(self, *sizes: Any) -> Tensor:
        """PyTorch's ``Tensor.repeat``: tile by ``sizes``, one per dimension (extra ones lead).
        For numpy's element repeat use `repeat_interleave`."""
        reps = _tile_reps(sizes, "repeat")
        if len(reps) < self.ndim:
            raise ShapeError(f"repeat: {len(reps)} sizes {reps} for a tensor of shape "
                             f"{self.shape}; give at least one per dimension")
        return Tile.apply(self, reps=reps)


__all__ = ["pad", "flip", "repeat", "repeat_interleave", "tile"]
