"""Scans along one dimension, as PyTorch: cumsum, cumprod, cummax, cummin, logcumsumexp.
Integer and bool inputs of cumsum and cumprod give int64; cummax / cummin give the named
tuple ``(values, indices)`` (the index of the last element equal to the running extreme,
NaN included, as PyTorch); each backward beside its forward.

>>> import mnp.core as mnp
>>> x = mnp.tensor([2.0, 0.0, 3.0], requires_grad=True)
>>> y = x.cumprod(0)
>>> y.tolist()
[2.0, 0.0, 0.0]
>>> y.sum().backward()            # exact with a zero in the input
>>> x.grad.tolist()
[1.0, 8.0, 0.0]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import return_types as rt
from ..autograd import Function
from ._util import axis_index, floating, to_tensor
from .order import index_tensor, take_along
from .reduce import _cast
from .shape import reshape

if TYPE_CHECKING:
    from ..tensor import Tensor


def _acc(dt: np.dtype) -> np.dtype:
    return dt if dt.kind == "f" else np.dtype(np.int64)


def _rev_cumsum(g: np.ndarray, axis: int) -> np.ndarray:
    """``out[i] = sum(g[i:])`` along ``axis``."""
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


class CumSum(Function):
    name = "cumsum"
    numpy_only = "no scan kernel yet"

    def forward(self, x, axis=0):
        self.axis = axis
        return np.cumsum(x, axis=axis, dtype=_acc(x.dtype))

    def backward(self, g):
        return _rev_cumsum(g, self.axis)


class CumProd(Function):
    """Running product; the gradient is exact where the input holds zeros: before a slice's
    first zero it is ``rev_cumsum(g * y) / x``, at that zero the product of the elements
    before it times ``sum_j g_j * prod(x[zero+1 : j+1])``, after it 0."""
    name = "cumprod"
    numpy_only = "no scan kernel yet"

    def forward(self, x, axis=0):
        self.x, self.axis = x, axis
        self.y = np.cumprod(x, axis=axis, dtype=_acc(x.dtype))
        return self.y

    def backward(self, g):
        x, y, ax = self.x, self.y, self.axis
        zero = x == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            d = _rev_cumsum(g * y, ax) / np.where(zero, np.ones((), x.dtype), x)
        if not zero.any():
            return d
        n = x.shape[ax]
        xs, gs = np.moveaxis(x, ax, -1).reshape(-1, n), np.moveaxis(g, ax, -1).reshape(-1, n)
        out = np.moveaxis(d, ax, -1).reshape(-1, n).copy()
        zs = np.moveaxis(zero, ax, -1).reshape(-1, n)
        for r in np.flatnonzero(zs.any(axis=1)):
            z = int(np.argmax(zs[r]))                       # the first zero of the row
            before = np.prod(xs[r, :z])
            after = np.cumprod(np.concatenate(([1], xs[r, z + 1:])).astype(x.dtype))
            out[r, z] = before * np.sum(gs[r, z:] * after)
            out[r, z + 1:] = 0
        return np.moveaxis(out.reshape(np.moveaxis(x, ax, -1).shape), -1, ax)


class LogCumSumExp(Function):
    """``log(cumsum(exp(x)))`` by ``logaddexp`` accumulation: no overflow, no underflow of
    small early terms. The backward ``exp(x_k) * sum_{j>=k} g_j exp(-y_j)`` is summed in log
    space, the positive and negative parts of ``g`` apart, as PyTorch; where ``x`` is -inf
    the gradient is 0 (PyTorch's is NaN when a whole prefix is -inf)."""
    name = "logcumsumexp"
    numpy_only = "no scan kernel yet"

    def forward(self, x, axis=0):
        self.x, self.axis = x, axis
        self.y = np.logaddexp.accumulate(x, axis=axis, dtype=x.dtype)
        return self.y

    def backward(self, g):
        x, y, ax = self.x, self.y, self.axis
        out = np.zeros(x.shape, g.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for part, sign in ((np.maximum(g, 0), 1), (np.maximum(-g, 0), -1)):
                s = np.flip(np.logaddexp.accumulate(np.flip(np.log(part) - y, ax), axis=ax), ax)
                term = np.exp(x + s)
                out += sign * np.where(np.isnan(term), 0, term)
        return out.astype(g.dtype, copy=False)


def _scan(fn: type[Function], x: Tensor, dim: Any, op: str) -> Tensor:
    """``fn`` along ``dim`` (a 0-d tensor scans as one element: dim 0 or -1)."""
    ax = axis_index(dim, x.ndim, op)
    if x.ndim:
        return fn.apply(x, axis=ax)
    return reshape(fn.apply(reshape(x, (1,)), axis=0), ())


def cumsum(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integer and bool tensors give int64 (``dtype`` converts
    ``x`` first)."""
    return _scan(CumSum, _cast(x, dtype, "cumsum"), dim, "cumsum")


def cumprod(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``; the gradient is exact with zeros in ``x``."""
    return _scan(CumProd, _cast(x, dtype, "cumprod"), dim, "cumprod")


def logcumsumexp(x: Any, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably.

    >>> import mnp.core as mnp
    >>> [round(v, 3) for v in mnp.logcumsumexp(mnp.tensor([-1000.0, 0.0, 1000.0]), 0).tolist()]
    [-1000.0, 0.0, 1000.0]
    """
    return _scan(LogCumSumExp, floating(x, "logcumsumexp"), dim, "logcumsumexp")


def _running(name: str, x: Any, dim: Any) -> Any:
    x = to_tensor(x, op=name)
    ax = axis_index(dim, x.ndim, name)
    kind = rt.cummax if name == "cummax" else rt.cummin
    if not x.ndim:
        return kind(reshape(x, ()), index_tensor(np.zeros((), np.int64)))
    a = x.data
    values = (np.maximum if name == "cummax" else np.minimum).accumulate(a, axis=ax)
    hit = a == values
    if a.dtype.kind == "f":
        hit |= np.isnan(a)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    pos = np.where(hit, np.arange(a.shape[ax]).reshape(shape), 0)
    idx = np.maximum.accumulate(pos, axis=ax).astype(np.int64) if a.size else pos.astype(np.int64)
    return kind(take_along(x, idx, ax, unique=False), index_tensor(idx))


def cummax(x: Any, dim: int) -> rt.cummax:
    """``(values, indices)``: the running maximum along ``dim`` and where it was found; the
    gradient goes to those positions (summed where one serves many)."""
    return _running("cummax", x, dim)


def cummin(x: Any, dim: int) -> rt.cummin:
    """``(values, indices)``: the running minimum along ``dim`` (see `cummax`)."""
    return _running("cummin", x, dim)


class ScanMethods:
    """`Tensor`'s methods of this family: ``x.cumsum(0)`` is ``cumsum(x, 0)``, and so on."""
    __slots__ = ()
    cumsum = cumsum
    cumprod = cumprod
    logcumsumexp = logcumsumexp
    cummax = cummax
    cummin = cummin


__all__ = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]
