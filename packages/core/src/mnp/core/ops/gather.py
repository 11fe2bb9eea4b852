"""Gathering and scattering along a dimension with index tensors: gather, scatter (and its
add and reduce forms), index_select / index_add / index_copy / index_fill, the masked ops,
take, take_along_dim and nonzero; PyTorch's semantics, index tensors int64 (int32 where
PyTorch takes it), out-of-range indices an error naming the op, the index and the size.

>>> import mnp.core as mnp
>>> x = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = x.gather(1, mnp.tensor([[1, 1], [0, 1]]))
>>> y.tolist()
[[2.0, 2.0], [3.0, 4.0]]
>>> y.sum().backward()
>>> x.grad.tolist()
[[0.0, 2.0], [1.0, 1.0]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function, _make
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensorbase import TensorBase
from ._util import axis_index, check_broadcast, to_tensor, unbroadcast
from .binary import where
from .index import getitem
from .inplace import write
from .shape import broadcast_to, reshape

if TYPE_CHECKING:
    from ..tensor import Tensor

_LONG = ("int64",)
_INT = ("int64", "int32")


# -- helpers --------------------------------------------------------------------------------
def _index(index: Any, op: str, allowed: tuple[str, ...] = _INT, name: str = "index") -> np.ndarray:
    """The array of an index tensor, or a DTypeError naming ``op`` and the dtype at fault."""
    if not isinstance(index, TensorBase):
        raise DTypeError(f"{op}: {name} must be a Tensor of dtype {' or '.join(allowed)}, got "
                         f"{type(index).__name__}")
    a = index.data
    if a.dtype.name not in allowed:
        raise DTypeError(f"{op}: {name} must have dtype {' or '.join(allowed)}, got {a.dtype.name}")
    return a


def _check_range(idx: np.ndarray, size: int, op: str, dim: int, negative: bool = False) -> None:
    """Every index in ``[0, size)`` (``[-size, size)`` when ``negative``)."""
    if idx.size == 0:
        return
    lo = -size if negative else 0
    bad = idx[(idx < lo) | (idx >= size)]
    if bad.size:
        raise ShapeError(f"{op}: index {int(bad.reshape(-1)[0])} is out of bounds for dimension "
                         f"{dim} with size {size}")


def _key(index: np.ndarray, dim: int) -> tuple:
    """The full numpy key addressing ``out[..., index[i], ...]`` at every position of
    ``index`` (its own position everywhere but ``dim``)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _prefix(shape: tuple[int, ...]) -> tuple:
    return tuple(slice(0, n) for n in shape)


def _dim(x: Tensor, dim: Any, op: str) -> int:
    return axis_index(dim, x.ndim, op)


def _check_index_shape(op: str, x: Tensor, dim: int, index: np.ndarray,
                       src: Tensor | None = None) -> None:
    """PyTorch's rule: ``index`` has the input's number of dimensions, is no larger than
    ``src`` anywhere, and no larger than the input outside ``dim``."""
    if index.ndim != max(x.ndim, 1) and not (index.ndim == 0 and x.ndim == 0):
        raise ShapeError(f"{op}: index {index.shape} and input {x.shape} must have the same "
                         f"number of dimensions")
    for d, n in enumerate(index.shape):
        if d != dim and n > (x.shape[d] if x.ndim else 1):
            raise ShapeError(f"{op}: index {index.shape} is larger than input {x.shape} "
                             f"at dimension {d}")
        if src is not None and n > (src.shape[d] if src.ndim else 1):
            raise ShapeError(f"{op}: index {index.shape} is larger than src {src.shape} "
                             f"at dimension {d}")


def _as_1d(x: np.ndarray) -> np.ndarray:
    return x.reshape(1) if x.ndim == 0 else x


# -- gather ---------------------------------------------------------------------------------
class Gather(Function):
    numpy_only = "selects elements along a dimension; the backward scatter-adds"

    def forward(self, x, index=None, dim=0):
        self.shape, self.dtype = x.shape, x.dtype
        self.key = _key(_as_1d(index), dim)
        out = _as_1d(x)[self.key]
        return out.reshape(index.shape)

    def backward(self, g):
        out = np.zeros(self.shape or (1,), g.dtype)
        np.add.at(out, self.key, _as_1d(g))
        return out.reshape(self.shape)


def gather(input: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for ``dim=0`` (and so on), PyTorch's
    ``gather``; gradients scatter-add back to ``input``."""
    x = to_tensor(input, op="gather")
    d = _dim(x, dim, "gather")
    idx = _index(index, "gather")
    _check_index_shape("gather", x, d, idx)
    _check_range(idx, x.shape[d] if x.ndim else 1, "gather", d)
    return Gather.apply(x, index=idx, dim=d)


# -- scatter --------------------------------------------------------------------------------
class Scatter(Function):
    numpy_only = "writes elements into a copy along a dimension: data movement"

    def forward(self, x, src, index=None, dim=0):
        self.src_shape, self.region = src.shape, _prefix(index.shape)
        self.key = _key(_as_1d(index), dim)
        out = _as_1d(x).copy()
        out[self.key] = _as_1d(src)[self.region or (slice(None),)].astype(x.dtype, copy=False)
        return out.reshape(x.shape)

    def backward(self, g):
        g1 = _as_1d(g)
        gx = g1.copy()
        gx[self.key] = 0
        gsrc = np.zeros(self.src_shape or (1,), g.dtype)
        gsrc[self.region or (slice(None),)] = g1[self.key]
        return gx.reshape(g.shape), gsrc.reshape(self.src_shape)


_REDUCE_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}


class ScatterReduce(Function):
    name = "scatter_reduce"
    numpy_only = "unbuffered reductions into scattered positions (np.ufunc.at)"

    def forward(self, x, src, index=None, dim=0, reduce="sum", include_self=True):
        self.reduce, self.include = reduce, include_self
        self.src_shape, self.region = src.shape, _prefix(index.shape)
        self.key = key = _key(_as_1d(index), dim)
        x1 = _as_1d(x)
        s = _as_1d(src)[self.region or (slice(None),)].astype(x.dtype, copy=False)
        self.x, self.s = x1, s
        self.count = count = np.zeros(x1.shape, np.int64)
        np.add.at(count, key, 1)
        out = x1.copy()
        if not include_self:
            out[key] = _REDUCE_IDENTITY.get(reduce, _extreme(x.dtype, reduce))
        if reduce in ("sum", "mean"):
            np.add.at(out, key, s)
            if reduce == "mean":
                n = np.maximum(count + (1 if include_self else 0), 1).astype(out.dtype)
                out = np.where(count > 0, out // n if out.dtype.kind in "iu" else out / n, x1)
        elif reduce == "prod":
            np.multiply.at(out, key, s)
        else:
            (np.maximum if reduce == "amax" else np.minimum).at(out, key, s)
        self.out = out
        return out.reshape(x.shape)

    def backward(self, g):
        g1, key, touched = _as_1d(g), self.key, self.count > 0
        inc = 1 if self.include else 0
        if self.reduce == "sum":
            gx = np.where(touched, g1 * inc, g1)
            gs = g1[key]
        elif self.reduce == "mean":
            n = np.maximum(self.count + inc, 1).astype(g.dtype)
            gx = np.where(touched, g1 * inc / n, g1)
            gs = (g1 / n)[key]
        elif self.reduce == "prod":
            gx, gs = self._prod_grads(g1, touched, inc)
        else:
            ties = self.s == self.out[key]
            n = np.zeros(g1.shape, np.int64)
            np.add.at(n, key, ties)
            tie_x = touched & (self.x == self.out) & bool(inc)
            n = np.maximum(n + tie_x, 1).astype(g.dtype)
            gx = np.where(touched, np.where(tie_x, g1 / n, 0), g1)
            gs = np.where(ties, (g1 / n)[key], 0)
        gsrc = np.zeros(self.src_shape or (1,), g.dtype)
        gsrc[self.region or (slice(None),)] = gs
        return gx.reshape(g.shape).astype(g.dtype, copy=False), gsrc.reshape(self.src_shape)

    def _prod_grads(self, g1, touched, inc):
        """The product of the other factors at each position, exact with zeros among them."""
        key, x, s = self.key, self.x, self.s
        zeros = np.zeros(x.shape, np.int64)
        np.add.at(zeros, key, s == 0)
        nonzero = np.ones(x.shape, x.dtype)
        np.multiply.at(nonzero, key, np.where(s == 0, 1, s))
        if inc:
            zeros = zeros + (touched & (x == 0))
            nonzero = nonzero * np.where(touched & (x != 0), x, 1)

        def others(v, z, p):   # d(prod)/d(v) for a factor v of a product p (zero factors z)
            safe = np.where(v == 0, 1, v)
            return np.where(v != 0, np.where(z == 0, p / safe, 0), np.where(z == 1, p, 0))

        gx = np.where(touched, g1 * others(x, zeros, nonzero) * inc, g1)
        gs = g1[key] * others(s, zeros[key], nonzero[key])
        return gx, gs


def _extreme(dtype: np.dtype, reduce: str) -> Any:
    """The identity of amax (the lowest value) or amin (the highest) in ``dtype``."""
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _scatter_args(op: str, input: Any, dim: Any, index: Any, src: Any,  # noqa: A002
                  value: Any) -> tuple[Tensor, int, np.ndarray, Tensor]:
    x = to_tensor(input, op=op)
    d = _dim(x, dim, op)
    idx = _index(index, op)
    if (src is None) == (value is None):
        raise ArgumentError(f"{op}: pass exactly one of src and value")
    if src is None or not isinstance(src, TensorBase):
        v = src if src is not None else value
        if isinstance(v, TensorBase):
            v = v.item()
        src = _make(np.full(idx.shape, v, dtype=x.data.dtype), False, None)
    _check_index_shape(op, x, d, idx, src)
    _check_range(idx, x.shape[d] if x.ndim else 1, op, d)
    return x, d, idx, src


def scatter(input: Any, dim: int, index: Any, src: Any = None, *, value: Any = None,  # noqa: A002
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at
    ``index`` along ``dim``: ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``. With
    ``reduce='add'`` or ``'multiply'`` the values accumulate instead (as `scatter_reduce`
    with ``'sum'`` / ``'prod'``). Which of two values written to one place wins is unspecified,
    as in PyTorch."""
    x, d, idx, s = _scatter_args("scatter", input, dim, index, src, value)
    if reduce is None:
        return Scatter.apply(x, s, index=idx, dim=d)
    if reduce not in ("add", "multiply"):
        raise ArgumentError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    return ScatterReduce.apply(x, s, index=idx, dim=d, reduce="sum" if reduce == "add" else "prod")


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    """``input`` plus ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    x, d, idx, s = _scatter_args("scatter_add", input, dim, index, src, None)
    return ScatterReduce.apply(x, s, index=idx, dim=d, reduce="sum")


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` in
    ``'sum' 'prod' 'mean' 'amax' 'amin'``; ``include_self=False`` leaves ``input``'s values out
    where something is scattered. Gradients as PyTorch's (ties of amax/amin share evenly)."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ArgumentError(f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', "
                            f"'amax', 'amin', got {reduce!r}")
    x, d, idx, s = _scatter_args("scatter_reduce", input, dim, index, src, None)
    return ScatterReduce.apply(x, s, index=idx, dim=d, reduce=reduce,
                               include_self=bool(include_self))


# -- index_* along one dimension ------------------------------------------------------------
class IndexSelect(Function):
    name = "index_select"
    numpy_only = "selects slices along a dimension; the backward scatter-adds"

    def forward(self, x, index=None, dim=0):
        self.shape, self.dim, self.index = x.shape, dim, index
        return np.take(_as_1d(x), index, axis=dim)

    def backward(self, g):
        out = np.zeros(self.shape or (1,), g.dtype)
        np.add.at(np.moveaxis(out, self.dim, 0), self.index, np.moveaxis(g, self.dim, 0))
        return out.reshape(self.shape)


class IndexPut(Function):
    name = "index_add"
    numpy_only = "adds or writes slices along a dimension (np.add.at): data movement"

    def forward(self, x, src, index=None, dim=0, alpha=1, accumulate=True):
        self.dim, self.index, self.alpha, self.accumulate = dim, index, alpha, accumulate
        out = _as_1d(x).copy()
        moved = np.moveaxis(out, dim, 0)
        s = np.moveaxis(_as_1d(src), dim, 0).astype(x.dtype, copy=False)
        if accumulate:
            np.add.at(moved, index, s if alpha == 1 else s * np.asarray(alpha, x.dtype))
        else:
            moved[index] = s
        return out.reshape(x.shape)

    def backward(self, g):
        g1 = _as_1d(g)
        gs = np.take(g1, self.index, axis=self.dim)
        if self.accumulate:
            return g, (gs if self.alpha == 1 else gs * np.asarray(self.alpha, g.dtype))
        gx = g1.copy()
        np.moveaxis(gx, self.dim, 0)[self.index] = 0
        return gx.reshape(g.shape), gs


class IndexCopy(IndexPut):
    name = "index_copy"


def _index_1d(op: str, x: Tensor, dim: Any, index: Any,
              allowed: tuple[str, ...] = _INT, negative: bool = False) -> tuple[int, np.ndarray]:
    d = _dim(x, dim, op)
    idx = _index(index, op, allowed)
    if idx.ndim > 1:
        raise ShapeError(f"{op}: index must be a vector (0-d or 1-d), got shape {idx.shape}")
    size = x.shape[d] if x.ndim else 1
    _check_range(idx, size, op, d, negative)
    return d, _as_1d(idx) % max(size, 1) if negative else _as_1d(idx)


def index_select(input: Any, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The slices ``index`` (a vector) of ``input`` along ``dim``, in that order."""
    x = to_tensor(input, op="index_select")
    d, idx = _index_1d("index_select", x, dim, index)
    out = IndexSelect.apply(x, index=idx, dim=d)
    return reshape(out, ()) if x.ndim == 0 else out


def _index_put(op: str, input: Any, dim: Any, index: Any, source: Any, alpha: Any,  # noqa: A002
               accumulate: bool, allowed: tuple[str, ...]) -> Tensor:
    x = to_tensor(input, op=op)
    src = to_tensor(source, like=x, op=op)
    d, idx = _index_1d(op, x, dim, index, allowed)
    want = (x.shape[:d] + (idx.size,) + x.shape[d + 1:]) if x.ndim else (idx.size,)
    if (src.shape or (1,)) != want:
        raise ShapeError(f"{op}: source {src.shape} does not fit input {x.shape} with "
                         f"{idx.size} indices along dimension {d} (expected {want})")
    fn = IndexPut if accumulate else IndexCopy
    return fn.apply(x, src, index=idx, dim=d, alpha=alpha, accumulate=accumulate)


def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """``input`` with ``alpha * source[i]`` added to slice ``index[i]`` along ``dim``
    (repeated indices accumulate)."""
    return _index_put("index_add", input, dim, index, source, alpha, True, _INT)


def index_copy(input: Any, dim: int, index: Any, source: Any) -> Tensor:  # noqa: A002
    """``input`` with slice ``index[i]`` along ``dim`` replaced by ``source[i]`` (index int64)."""
    return _index_put("index_copy", input, dim, index, source, 1, False, _LONG)


def index_fill(input: Any, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    """``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a 0-d
    tensor, which gets the gradient of those places); index int64, negatives count from the
    end, as in PyTorch."""
    x = to_tensor(input, op="index_fill")
    d, idx = _index_1d("index_fill", x, dim, index, _LONG, negative=True)
    mask = np.zeros(x.shape[d] if x.ndim else 1, bool)
    mask[idx] = True
    mask = mask.reshape((-1,) + (1,) * (x.ndim - d - 1)) if x.ndim else mask.reshape(())
    return _masked_fill(x, _make(mask, False, None), value, "index_fill")


# -- masks ----------------------------------------------------------------------------------
def _mask(mask: Any, op: str) -> Tensor:
    if not isinstance(mask, TensorBase):
        mask = to_tensor(mask, op=op)
    if mask.data.dtype != np.bool_:
        raise DTypeError(f"{op}: mask must have dtype bool, got {mask.data.dtype.name}")
    return mask


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``input`` with ``value`` (a number or a 0-d tensor) where the bool ``mask`` is true;
    ``mask`` and ``input`` broadcast together. The result keeps ``input``'s dtype."""
    return _masked_fill(input, mask, value, "masked_fill")


def _masked_fill(input: Any, mask: Any, value: Any, op: str) -> Tensor:  # noqa: A002
    x = to_tensor(input, op=op)
    m = _mask(mask, op)
    check_broadcast(op, x.data, m.data)
    if isinstance(value, TensorBase):
        if value.ndim:
            raise ShapeError(f"{op}: value must be a number or a 0-d tensor, got shape {value.shape}")
        v = value if value.data.dtype == x.data.dtype else value.astype(x.data.dtype)
    else:
        v = _make(np.asarray(value).astype(x.data.dtype), False, None)
    return where(m, v, x)


def masked_select(input: Any, mask: Any) -> Tensor:  # noqa: A002
    """The elements of ``input`` where the bool ``mask`` is true, as a 1-d tensor (the two
    broadcast together first)."""
    x = to_tensor(input, op="masked_select")
    m = _mask(mask, "masked_select")
    shape = check_broadcast("masked_select", x.data, m.data)
    if x.shape != shape:
        x = broadcast_to(x, shape)
    return getitem(x, np.broadcast_to(m.data, shape))


class MaskedScatter(Function):
    name = "masked_scatter"
    numpy_only = "writes elements into a copy where a mask holds: data movement"

    def forward(self, x, src, mask=None):
        self.shape, self.src_shape = x.shape, src.shape
        self.mask = np.broadcast_to(mask, np.broadcast_shapes(x.shape, mask.shape))
        self.n = int(self.mask.sum())
        out = np.broadcast_to(x, self.mask.shape).copy()
        out[self.mask] = src.reshape(-1)[:self.n].astype(x.dtype, copy=False)
        return out

    def backward(self, g):
        gx = unbroadcast(np.where(self.mask, 0, g).astype(g.dtype, copy=False), self.shape)
        gs = np.zeros(int(np.prod(self.src_shape)), g.dtype)
        gs[:self.n] = g[self.mask]
        return gx, gs.reshape(self.src_shape)


def masked_scatter(input: Any, mask: Any, source: Any) -> Tensor:  # noqa: A002
    """``input`` with the elements where ``mask`` is true replaced, in order, by the first
    elements of ``source`` (``mask`` and ``input`` broadcast together)."""
    x = to_tensor(input, op="masked_scatter")
    m = _mask(mask, "masked_scatter")
    src = to_tensor(source, like=x, op="masked_scatter")
    check_broadcast("masked_scatter", x.data, m.data)
    n = int(np.broadcast_to(m.data, np.broadcast_shapes(x.shape, m.shape)).sum())
    if src.numel() < n:
        raise ShapeError(f"masked_scatter: source has {src.numel()} elements, fewer than the "
                         f"{n} true elements of the mask {m.shape}")
    return MaskedScatter.apply(x, src, mask=m.data)


# -- take -----------------------------------------------------------------------------------
def take(input: Any, index: Any) -> Tensor:  # noqa: A002
    """``input`` read as 1-d at ``index`` (int64, any shape; negatives count from the end)."""
    x = to_tensor(input, op="take")
    idx = _index(index, "take", _LONG)
    _check_range(idx, x.numel(), "take", 0, negative=True)
    return getitem(reshape(x, -1), idx)


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """`gather` with ``input`` and ``indices`` broadcast against each other outside ``dim``
    (both read as 1-d when ``dim`` is None); negative indices count from the end."""
    x = to_tensor(input, op="take_along_dim")
    idx = _index(indices, "take_along_dim", _LONG, "indices")
    if dim is None:
        x, idx = reshape(x, -1), idx.reshape(-1)
        d = 0
    else:
        d = _dim(x, dim, "take_along_dim")
        if idx.ndim != x.ndim:
            raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} must "
                             f"have the same number of dimensions")
        try:
            xs = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                     idx.shape[:d] + (1,) + idx.shape[d + 1:])
        except ValueError:
            raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} do not "
                             f"broadcast outside dimension {d}") from None
        shape_x = xs[:d] + x.shape[d:d + 1] + xs[d + 1:]
        if x.shape != shape_x:
            x = broadcast_to(x, shape_x)
        idx = np.broadcast_to(idx, xs[:d] + idx.shape[d:d + 1] + xs[d + 1:])
    size = x.shape[d] if x.ndim else 1
    _check_range(idx, size, "take_along_dim", d, negative=True)
    return Gather.apply(x, index=idx % max(size, 1), dim=d)


# -- nonzero --------------------------------------------------------------------------------
def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the non-zero elements: an int64 ``(n, ndim)`` tensor, or with
    ``as_tuple=True`` one 1-d tensor per dimension (a 0-d input counts as 1-d). No gradient."""
    x = to_tensor(input, op="nonzero")
    a = x.data
    if as_tuple:
        return tuple(_make(i.astype(np.int64), False, None) for i in np.nonzero(_as_1d(a)))
    return _make(np.argwhere(a).astype(np.int64), False, None)


def where_condition(condition: Any, a: Any = None, b: Any = None) -> tuple[Tensor, ...]:
    """``where(condition)``: ``nonzero(condition, as_tuple=True)``; one of ``a`` and ``b``
    without the other is an error."""
    if a is not None or b is not None:
        raise ArgumentError("where: pass both values to choose from, or neither (where(cond) "
                            "gives the indices of the true elements)")
    return nonzero(condition, as_tuple=True)


def argwhere(input: Any) -> Tensor:  # noqa: A002
    """`nonzero`: the ``(n, ndim)`` int64 indices of the non-zero elements."""
    return nonzero(input)


def _in_place(op: str, fn: Any, self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``self`` set to ``fn(self, ...)`` in place, recorded by autograd as every in-place op
    is (`mnp.core.ops.inplace.write`)."""
    operands = tuple(a for a in args if isinstance(a, TensorBase))
    return write(self, op, lambda old: fn(old, *args, **kwargs), operands)


class GatherMethods:
    """`Tensor`'s methods of this family: ``x.gather(1, idx)`` is ``gather(x, 1, idx)``, and so on."""
    __slots__ = ()
    gather = gather
    scatter = scatter
    scatter_add = scatter_add
    scatter_reduce = scatter_reduce
    index_select = index_select
    index_add = index_add
    index_copy = index_copy
    index_fill = index_fill
    masked_select = masked_select
    masked_scatter = masked_scatter
    take = take
    take_along_dim = take_along_dim
    nonzero = nonzero
    argwhere = argwhere

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``masked_fill(self, mask, value)``."""
        return masked_fill(self, mask, value)

    # in place, recorded by autograd (masked_fill_ is with the other in-place ops)
    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        return _in_place("scatter_", scatter, self, dim, index, src, value=value, reduce=reduce)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        return _in_place("scatter_add_", scatter_add, self, dim, index, src)

    def scatter_reduce_(self, dim: int, index: Any, src: Any, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        return _in_place("scatter_reduce_", scatter_reduce, self, dim, index, src, reduce,
                         include_self=include_self)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
        return _in_place("index_add_", index_add, self, dim, index, source, alpha=alpha)

    def index_copy_(self, dim: int, index: Any, source: Any) -> Tensor:
        return _in_place("index_copy_", index_copy, self, dim, index, source)

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        return _in_place("index_fill_", index_fill, self, dim, index, value)

    def masked_scatter_(self, mask: Any, source: Any) -> Tensor:
        return _in_place("masked_scatter_", masked_scatter, self, mask, source)


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "masked_fill", "masked_select", "masked_scatter", "take",
           "take_along_dim", "nonzero", "argwhere"]
