"""Shape ops: views where numpy gives views, gradients routed back to the input's shape.

>>> import mnp.core as mnp
>>> x = mnp.arange(6.0).reshape(2, 3)
>>> mnp.concat([x, x], axis=1).shape, mnp.stack([x, x]).shape, x.permute(1, 0).shape
((2, 6), (2, 2, 3), (3, 2))
"""
from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..autograd import Function
from ..errors import ShapeError, axis_error
from ..tensorbase import TensorBase
from ._util import pick_axis, result_dtype, to_tensor, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


# -- argument helpers -----------------------------------------------------------------------
def _shape_arg(shape: tuple, op: str = "reshape") -> tuple[int, ...]:
    """``f(x, 2, 3)``, ``f(x, (2, 3))`` and ``f(x, [2, 3])`` all mean shape ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise ShapeError(f"{op}: shape entries must be integers, got {shape}") from None


def _axis(axis: Any, ndim: int, op: str, extra: int = 0) -> int:
    """One axis in ``[-(ndim+extra), ndim+extra)`` as a non-negative int."""
    n = ndim + extra
    try:
        ax = operator.index(axis)
    except TypeError:
        raise ShapeError(f"{op}: axis must be an integer, got {axis!r}") from None
    if not -max(n, 1) <= ax < max(n, 1):
        raise axis_error(op, ax, ndim, extra)
    return ax % max(n, 1)


def _axes(axis: Any, ndim: int, op: str, extra: int = 0) -> tuple[int, ...]:
    """An int or a sequence of ints, normalized, no repeats, in the given order."""
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(_axis(a, ndim, op, extra) for a in items)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {tuple(items)}")
    return out


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
    return Reshape.apply(to_tensor(x, op="reshape"), shape=_shape_arg(shape))


def view(x: Any, *shape: Any) -> Tensor:
    """Alias of `reshape`."""
    return Reshape.apply(to_tensor(x, op="view"), shape=_shape_arg(shape, "view"))


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one.

    >>> import mnp.core as mnp
    >>> mnp.zeros(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    x = to_tensor(x, op="flatten")
    shape = x.shape
    s, e = _axis(start_dim, len(shape), "flatten"), _axis(end_dim, len(shape), "flatten")
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
    drop = range(len(shape)) if axis is None else _axes(axis, len(shape), "squeeze")
    new = tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1))
    return Reshape.apply(x, shape=new)


def unsqueeze(x: Any, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim`` (``-1`` appends one)."""
    x = to_tensor(x, op="unsqueeze")
    d = _axis(dim, x.ndim, "unsqueeze", extra=1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand_dims(x: Any, axis: Any) -> Tensor:
    """numpy's ``expand_dims``: insert size-1 dimensions at ``axis`` (int or tuple), placed in
    the result's numbering."""
    x = to_tensor(x, op="expand_dims")
    n = x.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    where = set(_axes(axis, n, "expand_dims"))
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
    perm = _axes(axes, ndim, op)
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
    i, j = _axis(axis0, x.ndim, "swapaxes"), _axis(axis1, x.ndim, "swapaxes")
    if perm:                      # a 0-d tensor takes axes 0 and -1 and stays as it is
        perm[i], perm[j] = perm[j], perm[i]
    return Transpose.apply(x, axes=tuple(perm))


swapdims = swapaxes


def movedim(x: Any, source: Any, destination: Any) -> Tensor:
    """Move dimensions ``source`` to positions ``destination`` (alias ``moveaxis``)."""
    x = to_tensor(x, op="movedim")
    src, dst = _axes(source, x.ndim, "movedim"), _axes(destination, x.ndim, "movedim")
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
    numpy_only = "data movement"

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
    return BroadcastTo.apply(x, shape=_shape_arg((shape,), "broadcast_to"))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """PyTorch's ``Tensor.expand``: broadcast to ``sizes``, where ``-1`` keeps a dimension."""
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}")
    if any(s == -1 for s in sizes[:lead]):
        raise ShapeError(f"expand: -1 is not allowed for the new leading dimensions in {sizes}")
    shape = sizes[:lead] + tuple(n if s == -1 else s for s, n in zip(sizes[lead:], x.shape))
    return BroadcastTo.apply(x, shape=shape)


# -- joining and splitting ------------------------------------------------------------------
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
        self.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
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
    ax = _axis(axis, len(first), "concat")
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
    return Stack.apply(*ts, axis=_axis(axis, len(first), "stack", extra=1))


class SplitPiece(Function):
    """One slice of a split; backward places its gradient in a zero tensor of the input."""
    name = "split"
    numpy_only = "data movement"

    def forward(self, x, key=()):
        self.shape, self.key = x.shape, key
        return x[key]

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        out[self.key] = g
        return out


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
    ax = _axis(axis, x.ndim, "split")
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
    ax = _axis(axis if dim is None else dim, x.ndim, "chunk")
    return split(x, max(-(-x.shape[ax] // chunks), 1), ax)


# -- padding, flipping, repeating -----------------------------------------------------------
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
    axes = None if axis is None else _axes(axis, x.ndim, "flip")[:x.ndim]   # 0-d: nothing to flip
    return Flip.apply(x, axes=axes)


class Repeat(Function):
    numpy_only = "data movement"
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
    ax = None if axis is None else _axis(axis, x.ndim, "repeat")
    n = x.size if ax is None else x.shape[ax]
    r = np.asarray(repeats.data if isinstance(repeats, TensorBase) else repeats)
    if r.dtype.kind not in "iu" or r.ndim > 1 or (r.size != 1 and r.size != n) or (r < 0).any():
        raise ShapeError(f"repeat: repeats must be a non-negative int or one count per element "
                         f"({n}) of shape {x.shape} along axis {ax}, got {repeats!r}")
    return Repeat.apply(x, repeats=r.astype(np.int64), axis=ax)


repeat_interleave = repeat


class Tile(Function):
    numpy_only = "data movement"
    def forward(self, x, reps=()):
        self.shape = (1,) * (len(reps) - x.ndim) + x.shape
        self.reps = reps
        return np.tile(x, reps)

    def backward(self, g):
        pairs = [d for r, n in zip(self.reps, self.shape) for d in (r, n)]
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2)))


def _tile_reps(reps: tuple, op: str) -> tuple[int, ...]:
    reps = _shape_arg(reps, op)
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


class ShapeMethods:
    """`Tensor`'s methods of this family: ``x.reshape(2, 3)`` is ``reshape(x, 2, 3)``, and so
    on; ``x.repeat(*sizes)`` alone differs from its function (it tiles, as in PyTorch)."""
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
    split = split
    chunk = chunk
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


__all__ = ["reshape", "view", "flatten", "squeeze", "unsqueeze", "expand_dims", "transpose",
           "permute", "swapaxes", "swapdims", "movedim", "moveaxis", "broadcast_to", "concat",
           "cat", "concatenate", "stack", "split", "chunk", "pad", "flip", "repeat",
           "repeat_interleave", "tile"]
