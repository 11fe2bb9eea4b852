"""Rearranging and windowing: roll, rot90, fliplr, flipud, narrow, unflatten, meshgrid and
``Tensor.unfold`` (sliding windows), PyTorch's semantics; each backward routes the gradient
back to the input's elements.

>>> import mnp.core as mnp
>>> x = mnp.arange(4.0)
>>> x.roll(1).tolist(), x.unfold(0, 2, 2).tolist(), x.narrow(0, 1, 2).tolist()
([3.0, 0.0, 1.0, 2.0], [[0.0, 1.0], [2.0, 3.0]], [1.0, 2.0])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..errors import ArgumentError, ShapeError
from ._util import axes_in_order, axis_index, int_arg, shape_arg, to_tensor
from .index import getitem
from .repeat import flip
from .shape import broadcast_to, reshape

if TYPE_CHECKING:
    from ..tensor import Tensor


class Roll(Function):
    numpy_only = "data movement"

    def forward(self, x, shifts=0, axes=None):
        self.shifts, self.axes = shifts, axes
        return np.roll(x, shifts, axes)

    def backward(self, g):
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return np.roll(g, neg, self.axes)


def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """Shift elements circularly by ``shifts`` along ``dims`` (ints or tuples of equal
    length); with ``dims`` None the tensor is rolled as if flattened."""
    x = to_tensor(input, op="roll")
    many = isinstance(shifts, (tuple, list))
    sh = tuple(int_arg(s, "shifts", "roll") for s in (shifts if many else (shifts,)))
    if dims is None:
        if len(sh) != 1:
            raise ShapeError(f"roll: {len(sh)} shifts {sh} need as many dims, got dims=None")
        return Roll.apply(x, shifts=sh[0], axes=None)
    axes = axes_in_order(dims, x.ndim, "roll") if x.ndim else ()
    if len(axes) != len(sh) or not axes:
        raise ShapeError(f"roll: shifts {sh} and dims {dims} must have the same length")
    return Roll.apply(x, shifts=sh, axes=axes)


class Rot90(Function):
    numpy_only = "data movement"

    def forward(self, x, k=1, axes=(0, 1)):
        self.k, self.axes = k, axes
        return np.rot90(x, k, axes)

    def backward(self, g):
        return np.rot90(g, -self.k, self.axes)


def rot90(input: Any, k: int = 1, dims: Any = (0, 1)) -> Tensor:  # noqa: A002
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first toward the
    second dimension."""
    x = to_tensor(input, op="rot90")
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must hold 2 dimensions, got {dims}")
    if x.ndim < 2:
        raise ShapeError(f"rot90: input must have at least 2 dimensions, got shape {x.shape}")
    d0, d1 = (axis_index(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise ShapeError(f"rot90: the rotation dims must differ, got {dims}")
    return Rot90.apply(x, k=int_arg(k, "k", "rot90") % 4, axes=(d0, d1))


def fliplr(input: Any) -> Tensor:  # noqa: A002
    """Reverse the order of dimension 1 (left/right); needs at least 2 dimensions."""
    x = to_tensor(input, op="fliplr")
    if x.ndim < 2:
        raise ShapeError(f"fliplr: input must have at least 2 dimensions, got shape {x.shape}")
    return flip(x, 1)


def flipud(input: Any) -> Tensor:  # noqa: A002
    """Reverse the order of dimension 0 (up/down); needs at least 1 dimension."""
    x = to_tensor(input, op="flipud")
    if x.ndim < 1:
        raise ShapeError("flipud: input must have at least 1 dimension, got shape ()")
    return flip(x, 0)


def narrow(input: Any, dim: int, start: Any, length: int) -> Tensor:  # noqa: A002
    """The ``length`` elements from ``start`` (negative counts from the end) along ``dim``:
    a view, as ``x[..., start:start + length, ...]``."""
    x = to_tensor(input, op="narrow")
    if x.ndim == 0:
        raise ShapeError("narrow: input must have at least 1 dimension, got shape ()")
    d = axis_index(dim, x.ndim, "narrow")
    size = x.shape[d]
    s, n = int_arg(start, "start", "narrow"), int_arg(length, "length", "narrow")
    if not -size <= s <= size:
        raise ShapeError(f"narrow: start {s} is out of range for dimension {d} of size {size}")
    if s < 0:
        s += size
    if n < 0 or s + n > size:
        raise ShapeError(f"narrow: start ({s}) + length ({n}) exceeds dimension {d} of size {size}")
    return getitem(x, (slice(None),) * d + (slice(s, s + n),))


def unflatten(input: Any, dim: int, sizes: Any) -> Tensor:  # noqa: A002
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1); the inverse of
    `flatten`."""
    x = to_tensor(input, op="unflatten")
    if x.ndim == 0:
        raise ShapeError("unflatten: input must have at least 1 dimension, got shape ()")
    d = axis_index(dim, x.ndim, "unflatten")
    sz = shape_arg((sizes,), "unflatten")
    n = x.shape[d]
    known = int(np.prod([s for s in sz if s != -1]))
    if not sz or sz.count(-1) > 1 or (-1 not in sz and known != n) \
            or (-1 in sz and (known == 0 or n % known)):
        raise ShapeError(f"unflatten: sizes {sz} do not multiply up to the size {n} of "
                         f"dimension {d} of shape {x.shape}")
    sz = tuple(n // known if s == -1 else s for s in sz)
    return reshape(x, x.shape[:d] + sz + x.shape[d + 1:])


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d (or 0-d) tensors: with ``indexing='ij'`` output ``i`` varies
    along dimension ``i``; ``'xy'`` swaps the first two dimensions (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [to_tensor(t, op="meshgrid") for t in tensors]
    if not ts:
        raise ArgumentError("meshgrid: expected at least one tensor")
    for t in ts:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-d or 1-d tensors, got shape {t.shape}")
    sizes = [t.numel() for t in ts]
    swap = indexing == "xy" and len(ts) > 1
    order = list(range(len(ts)))
    if swap:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    out = []
    for i, t in enumerate(ts):
        at = order.index(i)
        view = tuple(sizes[i] if j == at else 1 for j in range(len(ts)))
        out.append(broadcast_to(reshape(t, view), shape))
    return tuple(out)


class Unfold(Function):
    numpy_only = "sliding windows: a strided view; the backward adds the overlaps"

    def forward(self, x, dim=0, size=1, step=1):
        self.shape, self.dim, self.size, self.step = x.shape, dim, size, step
        self.n = (x.shape[dim] - size) // step + 1
        windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        return windows[(slice(None),) * dim + (slice(None, None, step),)]

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        d, size, step, n = self.dim, self.size, self.step, self.n
        lead = (slice(None),) * d
        if size <= n:                     # one pass per offset inside the window
            for j in range(size):
                out[lead + (slice(j, j + step * (n - 1) + 1, step),)] += g[..., j]
        else:                             # one pass per window
            for w in range(n):
                out[lead + (slice(w * step, w * step + size),)] += np.moveaxis(g[lead + (w,)], -1, d)
        return out


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """PyTorch's ``Tensor.unfold``: every window of ``size`` elements along ``dimension``,
    ``step`` apart, as a new last dimension (``dimension`` becomes the window count)."""
    if x.ndim == 0:
        axis_index(dimension, 0, "unfold")
        if size > 1 or size < 0:
            raise ShapeError(f"unfold: size {size} is larger than the 1 element of a 0-d tensor")
        return reshape(x, (size,))
    d = axis_index(dimension, x.ndim, "unfold")
    size, step = int_arg(size, "size", "unfold"), int_arg(step, "step", "unfold")
    if step <= 0:
        raise ShapeError(f"unfold: step must be positive, got {step}")
    if not 0 <= size <= x.shape[d]:
        raise ShapeError(f"unfold: size {size} does not fit dimension {d} of size {x.shape[d]} "
                         f"(shape {x.shape})")
    return Unfold.apply(x, dim=d, size=size, step=step)


class ArrangeMethods:
    """`Tensor`'s methods of this family: ``x.roll(1, 0)`` is ``roll(x, 1, 0)``, and so on."""
    __slots__ = ()
    roll = roll
    rot90 = rot90
    fliplr = fliplr
    flipud = flipud
    narrow = narrow
    unflatten = unflatten
    unfold = unfold


__all__ = ["roll", "rot90", "fliplr", "flipud", "narrow", "unflatten", "meshgrid"]
