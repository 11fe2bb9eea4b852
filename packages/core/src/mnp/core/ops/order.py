"""Order statistics and permutations along one dimension, with PyTorch's names, arguments and
named-tuple results: sort, argsort, topk, kthvalue, median, mode, unique. Sorting is stable
and puts NaN after every number (before them when descending), as PyTorch. The values
carry the gradient back to the positions the indices name.

>>> import mnp.core as mnp
>>> x = mnp.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
>>> v, i = x.sort(descending=True)
>>> v.tolist(), i.tolist()
([[3.0, 2.0, 1.0]], [[0, 2, 1]])
>>> x.topk(2).values.sum().backward()
>>> x.grad.tolist()
[[1.0, 0.0, 1.0]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import return_types as rt
from ..autograd import Function, _make
from ..errors import ArgumentError, ShapeError
from ._util import axis_index, to_tensor
from .shape import reshape

if TYPE_CHECKING:
    from ..tensor import Tensor


class TakeAlong(Function):
    """``x``'s elements at ``index`` along ``axis`` (``index`` has ``x``'s dimensions); the
    backward puts the gradient back at those positions, adding where an index repeats."""
    name = "take_along"
    numpy_only = "a selection by index and its scatter backward: data movement"

    def forward(self, x, index=None, axis=0, keepdims=True, unique=True):
        self.shape, self.index, self.axis = x.shape, index, axis
        self.keepdims, self.unique = keepdims, unique
        out = np.take_along_axis(x, index, axis)
        return out if keepdims else np.squeeze(out, axis)

    def backward(self, g):
        if not self.keepdims:
            g = np.expand_dims(g, self.axis)
        out = np.zeros(self.shape, g.dtype)
        if self.unique:
            np.put_along_axis(out, self.index, g, self.axis)
        else:
            where = list(np.indices(self.index.shape, sparse=True))
            where[self.axis] = self.index
            np.add.at(out, tuple(where), g)
        return out


def take_along(x: Tensor, index: np.ndarray, axis: int, keepdims: bool = True,
               unique: bool = True) -> Tensor:
    """``x`` at the int64 positions ``index`` along ``axis`` (differentiable in ``x``)."""
    return TakeAlong.apply(x, index=index, axis=axis, keepdims=keepdims, unique=unique)


def index_tensor(index: np.ndarray) -> Tensor:
    """An int64 index array as a tensor outside the graph."""
    return _make(np.asarray(index, dtype=np.int64), False, None)


def stable_order(a: np.ndarray, axis: int, descending: bool = False) -> np.ndarray:
    """The int64 positions that sort ``a`` along ``axis``, stably (ties keep their order),
    NaN last; descending reverses the order of values but not of ties (NaN first)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    n = a.shape[axis]
    flipped = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(flipped, axis)).astype(np.int64, copy=False)


def _prepare(x: Any, dim: Any, op: str) -> tuple[Tensor, int, bool]:
    """``x`` as a tensor of at least one dimension, ``dim`` normalized, and whether ``x`` was
    0-d (a 0-d tensor takes dim 0 or -1 and gives 0-d results, as PyTorch)."""
    x = to_tensor(x, op=op)
    ax = axis_index(dim, x.ndim, op)
    scalar = x.ndim == 0
    return (reshape(x, (1,)) if scalar else x), ax, scalar


def _finish(scalar: bool, kind: type, values: Tensor, indices: Tensor) -> Any:
    if scalar:
        values, indices = reshape(values, ()), index_tensor(indices.data.reshape(()))
    return kind(values, indices)


def _check_k(k: Any, n: int, op: str, shape: tuple, low: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ArgumentError(f"{op}: k must be an int, got {k!r}")
    if not low <= k <= n:
        raise ArgumentError(f"{op}: k={k} is out of range [{low}, {n}] for a dimension of "
                            f"size {n} (tensor shape {shape})")
    return int(k)


def sort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False, *,
         axis: int | None = None) -> rt.sort:
    """``(values, indices)`` of ``x`` sorted along ``dim`` (always stable; ``stable`` is
    accepted for PyTorch's signature). NaN sorts as the largest value."""
    x, ax, scalar = _prepare(x, dim if axis is None else axis, "sort")
    idx = stable_order(x.data, ax, bool(descending))
    return _finish(scalar, rt.sort, take_along(x, idx, ax), index_tensor(idx))


def argsort(x: Any, dim: int = -1, descending: bool = False, stable: bool = False, *,
            axis: int | None = None) -> Tensor:
    """The int64 indices that sort ``x`` along ``dim`` (stable; see `sort`)."""
    return sort(x, dim, descending, stable, axis=axis).indices


def topk(x: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> rt.topk:  # noqa: A002
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements
    along ``dim``, in sorted order (also when ``sorted=False``); ties keep index order."""
    x, ax, scalar = _prepare(x, dim, "topk")
    k = _check_k(k, x.shape[ax], "topk", x.shape, 0)
    idx = np.take(stable_order(x.data, ax, bool(largest)), np.arange(k), axis=ax)
    return _finish(scalar, rt.topk, take_along(x, idx, ax), index_tensor(idx))


def _pick(x: Tensor, ax: int, pos: np.ndarray | int, keepdim: bool, scalar: bool,
          kind: type) -> Any:
    """The element at sorted position ``pos`` (per slice, or one for all) along ``ax``."""
    order = stable_order(x.data, ax)
    pos = np.broadcast_to(np.asarray(pos, np.int64),
                          order.shape[:ax] + (1,) + order.shape[ax + 1:])
    idx = np.take_along_axis(order, pos, ax)
    values = take_along(x, idx, ax, keepdims=keepdim)
    return _finish(scalar, kind, values, index_tensor(idx if keepdim else np.squeeze(idx, ax)))


def kthvalue(x: Any, k: int, dim: int = -1, keepdim: bool = False) -> rt.kthvalue:
    """``(values, indices)`` of the ``k``-th smallest element (1-based) along ``dim``."""
    x, ax, scalar = _prepare(x, dim, "kthvalue")
    k = _check_k(k, x.shape[ax], "kthvalue", x.shape, 1)
    return _pick(x, ax, k - 1, keepdim, scalar, rt.kthvalue)


class _EvenSplit(Function):
    """One element chosen by value (the median of all elements): ties of that value share the
    gradient evenly, as PyTorch's ``median()``."""
    name = "median"
    numpy_only = "the order statistic and its tie split: selection"

    def forward(self, x, value=None):
        self.mask = (x == value) | (np.isnan(x) & np.isnan(value))
        return np.asarray(value, dtype=x.dtype)

    def backward(self, g):
        return self.mask * (g / max(int(self.mask.sum()), 1)).astype(g.dtype)


def median(x: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """Without ``dim``: the lower median of all elements (a 0-d tensor; tied elements share
    the gradient). With ``dim``: ``(values, indices)`` of the lower median along it. A slice
    holding NaN gives NaN (the index of its first NaN), as PyTorch.

    >>> import mnp.core as mnp
    >>> mnp.tensor([4.0, 1.0, 3.0, 2.0]).median().item()
    2.0
    """
    t = to_tensor(x, op="median")
    if dim is None:
        flat = t.data.reshape(-1)
        if flat.size == 0:
            raise ShapeError(f"median: cannot take the median of an empty tensor "
                             f"(shape {t.shape})")
        nan = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
        value = flat[nan][0] if nan.any() else np.sort(flat)[(flat.size - 1) // 2]
        return _EvenSplit.apply(t, value=value)
    t, ax, scalar = _prepare(t, dim, "median")
    n = t.shape[ax]
    if n == 0:
        raise ShapeError(f"median: dimension {dim} of shape {t.shape} is empty")
    pos = np.full(t.shape[:ax] + (1,) + t.shape[ax + 1:], (n - 1) // 2, np.int64)
    if t.data.dtype.kind == "f":
        nan = np.isnan(t.data)
        has = nan.any(axis=ax, keepdims=True)
        if has.any():   # NaN sorts last: the slice's first NaN sits at n - (its NaN count)
            pos = np.where(has, n - nan.sum(axis=ax, keepdims=True), pos)
    return _pick(t, ax, pos, keepdim, scalar, rt.median)


def mode(x: Any, dim: int = -1, keepdim: bool = False) -> rt.mode:
    """``(values, indices)`` of the most frequent value along ``dim`` (the smallest among
    equally frequent ones) and the index of its last occurrence, as PyTorch."""
    x, ax, scalar = _prepare(x, dim, "mode")
    n = x.shape[ax]
    if n == 0:
        raise ShapeError(f"mode: dimension {dim} of shape {x.shape} is empty")
    a = np.moveaxis(x.data, ax, -1).reshape(-1, n)
    order = np.argsort(a, axis=-1, kind="stable")
    s = np.take_along_axis(a, order, -1)
    new = np.ones(s.shape, bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]                 # a run of equal values starts here
    run = np.cumsum(new, axis=-1) - 1                  # run number of each sorted element
    rows = np.arange(a.shape[0])[:, None]
    length = np.zeros(s.shape, np.int64)
    np.add.at(length, (rows, run), 1)
    best = np.argmax(length, axis=-1)                  # the first longest run: smallest value
    last = np.where(run == best[:, None], np.arange(n), -1).max(axis=-1)
    idx = order[np.arange(a.shape[0]), last]           # stable: the run's last original index
    idx = np.moveaxis(idx.reshape(np.moveaxis(x.data, ax, -1).shape[:-1] + (1,)), -1, ax)
    values = take_along(x, idx, ax, keepdims=keepdim)
    return _finish(scalar, rt.mode, values, index_tensor(idx if keepdim else np.squeeze(idx, ax)))


def unique(x: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values of ``x`` (flattened), or its distinct slices along ``dim``, sorted
    (also with ``sorted=False``, as PyTorch on the CPU); with ``return_inverse`` the index of each element (or slice) in them, with
    ``return_counts`` how often each occurs. Not differentiable, as in PyTorch.

    >>> import mnp.core as mnp
    >>> u, inv, cnt = mnp.unique(mnp.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    >>> u.tolist(), inv.tolist(), cnt.tolist()
    ([1, 2, 3], [2, 0, 2, 1], [1, 1, 2])
    """
    t = to_tensor(x, op="unique")
    a = t.data
    if dim is None:
        u, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        if a.ndim == 0:
            raise ShapeError(f"unique: a 0-d tensor has no dimension {dim}")
        ax = axis_index(dim, a.ndim, "unique")
        u, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=ax)
        inv = inv.reshape(-1)
    out = [_make(u, False, None)]
    if return_inverse:
        out.append(index_tensor(inv))
    if return_counts:
        out.append(index_tensor(cnt))
    return out[0] if len(out) == 1 else tuple(out)


class OrderMethods:
    """`Tensor`'s methods of this family: ``x.sort()`` is ``sort(x)``, and so on."""
    __slots__ = ()
    sort = sort
    argsort = argsort
    topk = topk
    kthvalue = kthvalue
    median = median
    mode = mode
    unique = unique


__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "mode", "unique"]
