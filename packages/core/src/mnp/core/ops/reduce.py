"""Reductions over ``axis`` (None = all, an int, or a tuple; negatives count from the end;
``dim=`` is a synonym) with ``keepdims`` (``keepdim=`` is a synonym); each backward beside
its forward. ``max`` / ``min`` over one dimension give ``(values, indices)`` as PyTorch;
`amax` / `amin` give the values only.

>>> import mnp.core as mnp
>>> x = mnp.tensor([[1.0, 5.0], [5.0, 2.0]], requires_grad=True)
>>> x.max().backward()            # ties share the gradient
>>> x.grad.tolist()
[[0.0, 0.5], [0.5, 0.0]]
>>> values, indices = x.max(dim=1)
>>> values.tolist(), indices.tolist()
([5.0, 5.0], [1, 0])
>>> round(mnp.var(mnp.tensor([1.0, 2.0, 3.0, 4.0]), ddof=1).item(), 4)
1.6667
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import return_types as rt
from ..autograd import Function, _make
from ..dispatch import kernel
from ..dtypes import to_dtype
from ..errors import ArgumentError, ShapeError
from ..tensorbase import TensorBase
from ._util import (axis_index, count, expand_reduced, floating, keep, norm_axis, pick_axis,
                    squeeze_reduced, to_tensor)
from .binary import div, maximum, minimum, where
from .order import index_tensor, take_along
from .shape import reshape
from .unary import astype

if TYPE_CHECKING:
    from ..tensor import Tensor


class Sum(Function):
    def forward(self, x, axes=None, keepdims=False):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        return np.asarray(kernel("sum", x.dtype)(x, axes, keepdims))

    def backward(self, g):
        out = np.empty(self.shape, g.dtype)   # owned memory: cheaper than broadcast_to + copy
        out[...] = expand_reduced(g, self.axes, self.keepdims)
        return out


class Mean(Sum):
    numpy_only = "the division by the count: no kernel yet"

    def forward(self, x, axes=None, keepdims=False):
        out = super().forward(x, axes, keepdims)
        self.count = count(x.shape, axes)
        if self.count == 0:
            return np.full(out.shape, np.nan, out.dtype)
        return (out / self.count).astype(out.dtype, copy=False)

    def backward(self, g):
        return super().backward(g / builtins.max(self.count, 1))


class Max(Function):
    """Values only; the gradient is split evenly among tied maxima (as ``torch.amax``)."""
    kernel_name = "max"
    numpy_only = "backward (the tie split): no kernel yet"

    def forward(self, x, axes=None, keepdims=False):
        self.x, self.axes, self.keepdims = x, axes, keepdims
        self.out = np.asarray(kernel(self.kernel_name, x.dtype)(x, axes, keepdims))
        return self.out

    def backward(self, g):
        x, axes, keepdims = self.x, self.axes, self.keepdims
        mask = x == expand_reduced(self.out, axes, keepdims)
        ties = np.sum(mask, axis=axes, keepdims=True, dtype=g.dtype)
        return mask * (expand_reduced(g, axes, keepdims) / ties)


class Min(Max):
    kernel_name = "min"


class Prod(Function):
    """Product; the gradient is exact where the input holds zeros (no division by zero)."""
    numpy_only = "backward: no kernel yet"

    def forward(self, x, axes=None, keepdims=False):
        self.x, self.axes, self.keepdims = x, axes, keepdims
        self.out = np.asarray(kernel("prod", x.dtype)(x, axes, keepdims))
        return self.out

    def backward(self, g):
        x, axes, keepdims = self.x, self.axes, self.keepdims
        g = expand_reduced(g, axes, keepdims)
        zero = x == 0
        if not zero.any():
            return g * (expand_reduced(self.out, axes, keepdims) / x)
        # d prod / d x_i = product of the others: with one zero in the slice only the zero
        # gets a gradient (the product of the rest); with two or more, nothing does
        safe = np.where(zero, np.ones((), x.dtype), x)
        rest = kernel("prod", x.dtype)(safe, axes, True)
        zeros = np.sum(zero, axis=axes, keepdims=True)
        d = np.where(zeros == 0, rest / safe, np.where((zeros == 1) & zero, rest, 0))
        return g * d.astype(g.dtype, copy=False)


class Var(Function):
    """Variance with ``ddof`` (Bessel's correction when 1); two-pass for accuracy."""
    numpy_only = "the deviations and their scaling around the sum kernel: no kernel yet"

    def forward(self, x, axes=None, keepdims=False, ddof=0):
        self.shape, self.axes, self.keepdims = x.shape, axes, keepdims
        n = count(x.shape, axes)
        ksum = kernel("sum", x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = ksum(x, axes, True) / x.dtype.type(n)
            self.d = x - mean
            self.denom = x.dtype.type(builtins.max(n - ddof, 0))
            return np.asarray(ksum(self.d * self.d, axes, keepdims) / self.denom)

    def backward(self, g):
        g = expand_reduced(g, self.axes, self.keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):
            return g * (2 / self.denom) * self.d


class Std(Var):
    """``sqrt(var)``; where the deviation is 0 the gradient is 0 (as PyTorch)."""

    def forward(self, x, axes=None, keepdims=False, ddof=0):
        self.std = np.sqrt(super().forward(x, axes, keepdims, ddof))
        return self.std

    def backward(self, g):
        g = expand_reduced(g, self.axes, self.keepdims)
        std = expand_reduced(self.std, self.axes, self.keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(std == 0, 0, g / (self.denom * std))
        return (scale * self.d).astype(g.dtype, copy=False)


class LogSumExp(Function):
    """``log(sum(exp(x)))`` shifted by the max: no overflow. An all ``-inf`` slice (or an
    empty one) gives ``-inf`` and a zero gradient."""
    numpy_only = "the shift, log and backward around its max, exp and sum kernels: no kernel yet"

    def forward(self, x, axes=None, keepdims=False):
        self.axes, self.keepdims = axes, keepdims
        dt = x.dtype
        if count(x.shape, axes) and x.size:
            m = np.asarray(kernel("max", dt)(x, axes, True))
            if not np.isfinite(m).all():
                m = np.where(np.isfinite(m), m, np.zeros((), dt))
        else:
            m = np.zeros((), dt)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.e = kernel("exp", dt)(x - m)
            self.s = kernel("sum", dt)(self.e, axes, True)
            out = (np.log(self.s) + m).astype(dt, copy=False)
        return squeeze_reduced(out, axes, keepdims)

    def backward(self, g):
        # the softmax of x: exp(x - m) / sum(exp(x - m)), exact even where the output rounds
        s = np.where(self.s == 0, np.ones((), self.s.dtype), self.s)
        with np.errstate(invalid="ignore"):
            return expand_reduced(g, self.axes, self.keepdims) * (self.e / s)


# -- the functions --------------------------------------------------------------------------
def _axes(x: Tensor, axis: Any, dim: Any, op: str) -> tuple[int, ...] | None:
    axes = norm_axis(pick_axis(axis, dim, op), x.data.ndim, op)
    return None if x.data.ndim == 0 else axes


def _nonempty(x: Tensor, axes: tuple[int, ...] | None, op: str) -> None:
    if count(x.data.shape, axes) == 0:
        where = "the tensor" if axes is None else f"axis {axes}"
        raise ShapeError(f"{op}: cannot reduce over {where} of a tensor of shape {x.data.shape}: "
                         f"it has no elements (this reduction has no identity)")


def _cast(x: Any, dtype: Any, op: str) -> Tensor:
    """``x`` as a tensor, converted to ``dtype`` first when given (PyTorch's ``dtype=``)."""
    x = x if isinstance(x, TensorBase) else to_tensor(x, op=op)
    if dtype is None or to_dtype(dtype, op) == x.data.dtype:
        return x
    return astype(x, dtype)


def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """Sum over ``axis`` (all by default); integer and bool tensors sum to int64. ``dtype``
    converts ``x`` before summing, as PyTorch.

    >>> import mnp.core as mnp
    >>> mnp.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).tolist()
    [4.0, 6.0]
    """
    if dtype is not None or not isinstance(x, TensorBase):
        x = _cast(x, dtype, "sum")
    axes = None if axis is None and dim is None else _axes(x, axis, dim, "sum")
    return Sum.apply(x, axes=axes, keepdims=keep(keepdims, keepdim))


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """Mean over ``axis`` (all by default); integer tensors give the default float dtype.
    ``dtype`` converts ``x`` first."""
    x = floating(_cast(x, dtype, "mean"), "mean")
    return Mean.apply(x, axes=_axes(x, axis, dim, "mean"), keepdims=keep(keepdims, keepdim))


def _values(fn: type[Function], op: str, x: Any, axis: Any, dim: Any, keepdims: bool,
            keepdim: bool | None) -> Tensor:
    x = to_tensor(x, op=op)
    axes = _axes(x, axis, dim, op)
    _nonempty(x, axes, op)
    return fn.apply(x, axes=axes, keepdims=keep(keepdims, keepdim))


def amax(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Tensor:
    """Largest value over ``axis`` (all by default; an int or a tuple), values only, as
    ``torch.amax``; tied maxima share the gradient evenly."""
    return _values(Max, "amax", x, axis, dim, keepdims, keepdim)


def amin(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Tensor:
    """Smallest value over ``axis``, values only, as ``torch.amin``; tied minima share the
    gradient evenly."""
    return _values(Min, "amin", x, axis, dim, keepdims, keepdim)


def _with_index(name: str, x: Any, axis: Any, keepdims: bool) -> Any:
    """``(values, indices)`` of the max / min along one axis: the first of tied elements (a
    NaN counts as the extreme), which alone receives the gradient, as PyTorch."""
    x = to_tensor(x, op=name)
    ax = axis_index(axis, x.data.ndim, name)
    kind = rt.max if name == "max" else rt.min
    if x.data.ndim == 0:
        return kind(reshape(x, ()), index_tensor(np.zeros((), np.int64)))
    _nonempty(x, (ax,), name)
    idx = np.asarray(kernel("arg" + name, x.data.dtype)(x.data, ax, True), dtype=np.int64)
    return kind(take_along(x, idx, ax, keepdims=keepdims),
                index_tensor(idx if keepdims else np.squeeze(idx, ax)))


def _extreme(name: str, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Any:
    if isinstance(axis, TensorBase):     # x.max(other): the elementwise maximum
        if dim is not None or keepdim is not None or keepdims:
            raise ArgumentError(f"{name}: with a tensor as second argument (the elementwise "
                                f"{name}imum) dim and keepdim do not apply")
        return (maximum if name == "max" else minimum)(x, axis)
    axis = pick_axis(axis, dim, name)
    if isinstance(axis, bool) or not (axis is None or isinstance(axis, (int, np.integer, tuple, list))):
        raise ArgumentError(f"{name}: dim must be an int, a tuple of ints or a tensor, "
                            f"got {axis!r}")
    if isinstance(axis, (int, np.integer)):
        return _with_index(name, x, axis, keep(keepdims, keepdim))
    return _values(Max if name == "max" else Min, name, x, axis, None, keepdims, keepdim)


def max(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None) -> Any:
    """The largest value, as ``torch.max``: of all elements (a 0-d tensor) when no ``axis``
    is given; along one ``axis`` (an int) the named tuple ``(values, indices)``, the index
    of the first maximum, which alone gets the gradient; ``max(x, other)`` with a tensor is
    the elementwise `maximum`. A tuple of axes (an extension) gives the values, as `amax`.

    >>> import mnp.core as mnp
    >>> x = mnp.tensor([[1.0, 9.0], [7.0, 3.0]])
    >>> x.max().item(), x.max(dim=1).indices.tolist(), x.max((0, 1)).item()
    (9.0, [1, 0], 9.0)
    """
    return _extreme("max", x, axis, keepdims, dim, keepdim)


def min(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None) -> Any:
    """The smallest value, as ``torch.min``: see `max` (``(values, indices)`` along one
    axis, the elementwise `minimum` with a tensor, the values for a tuple of axes)."""
    return _extreme("min", x, axis, keepdims, dim, keepdim)


def aminmax(x: Any, *, dim: int | None = None, keepdim: bool = False) -> rt.aminmax:
    """The named tuple ``(min, max)`` of `amin` and `amax` over ``dim`` (all by default)."""
    return rt.aminmax(amin(x, dim=dim, keepdim=keepdim), amax(x, dim=dim, keepdim=keepdim))


def prod(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """Product over ``axis``; the gradient is exact with zeros in the input.

    >>> import mnp.core as mnp
    >>> x = mnp.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> x.prod().backward()
    >>> x.grad.tolist()
    [0.0, 6.0, 0.0]
    """
    x = _cast(x, dtype, "prod")
    return Prod.apply(x, axes=_axes(x, axis, dim, "prod"), keepdims=keep(keepdims, keepdim))


def _ddof(ddof: Any, correction: Any, unbiased: Any, op: str) -> int:
    """The divisor's ``n - ddof`` from numpy's ``ddof`` or PyTorch's ``correction`` or
    ``unbiased`` (at most one of them given)."""
    if unbiased is not None:
        if correction is not None:
            raise ArgumentError(f"{op}: pass unbiased or correction, not both")
        correction = 1 if unbiased else 0
    if correction is not None:
        if ddof not in (0, False):
            raise ArgumentError(f"{op}: pass ddof or correction, not both "
                                f"(got ddof={ddof!r}, correction={correction!r})")
        ddof = correction
    return int(ddof)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, *, dim: Any = None,
        keepdim: bool | None = None, correction: int | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Variance over ``axis``: ``sum((x - mean)**2) / (n - ddof)``. ``ddof=0`` (the default,
    as numpy) is the population variance; ``ddof=1`` (or ``correction=1``, PyTorch's
    default; ``unbiased=True`` too) the unbiased estimate. ``n - ddof <= 0`` gives inf or
    NaN, as PyTorch."""
    x = floating(x, "var")
    return Var.apply(x, axes=_axes(x, axis, dim, "var"), keepdims=keep(keepdims, keepdim),
                     ddof=_ddof(ddof, correction, unbiased, "var"))


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False, *, dim: Any = None,
        keepdim: bool | None = None, correction: int | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Standard deviation, ``sqrt(var(x, axis, ddof))``; zero gradient where it is 0."""
    x = floating(x, "std")
    return Std.apply(x, axes=_axes(x, axis, dim, "std"), keepdims=keep(keepdims, keepdim),
                     ddof=_ddof(ddof, correction, unbiased, "std"))


def _moments(op: str, fn: Any, x: Any, dim: Any, unbiased: Any, keepdim: bool,
             correction: Any) -> tuple[Tensor, Tensor]:
    if isinstance(dim, bool):            # var_mean(x, unbiased), PyTorch's short form
        dim, unbiased = None, dim
    if unbiased is None and correction is None:
        correction = 1
    ddof = _ddof(0, correction, unbiased, op)
    return fn(x, dim, ddof, keepdim), mean(x, dim, keepdim)


def var_mean(x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, as ``torch.var_mean``: the correction is PyTorch's
    default 1 (Bessel's) unless ``correction`` or ``unbiased`` says otherwise (`var` itself
    defaults to ``ddof=0``)."""
    return _moments("var_mean", var, x, dim, unbiased, keepdim, correction)


def std_mean(x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, as ``torch.std_mean`` (correction 1 by default)."""
    return _moments("std_mean", std, x, dim, unbiased, keepdim, correction)


def _nonzero_count(x: Tensor, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """How many elements of ``x`` are not 0 (NaN counts) over ``axes``, as int64."""
    return np.asarray(kernel("sum", np.dtype(bool))(x.data != 0, axes, keepdims))


def count_nonzero(x: Any, dim: Any = None) -> Tensor:
    """The int64 count of non-zero elements over ``dim`` (an int or a tuple; all by default)."""
    x = to_tensor(x, op="count_nonzero")
    return _make(_nonzero_count(x, _axes(x, None, dim, "count_nonzero"), False), False, None)


def any(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor:
    """Whether any element over ``axis`` is non-zero (NaN is), a bool tensor; False for an
    empty slice."""
    x = to_tensor(x, op="any")
    n = _nonzero_count(x, _axes(x, axis, dim, "any"), keep(keepdims, keepdim))
    return _make(n > 0, False, None)


def all(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,  # noqa: A001
        keepdim: bool | None = None) -> Tensor:
    """Whether every element over ``axis`` is non-zero, a bool tensor; True for an empty
    slice."""
    x = to_tensor(x, op="all")
    axes = _axes(x, axis, dim, "all")
    n = _nonzero_count(x, axes, keep(keepdims, keepdim))
    return _make(n == count(x.data.shape, axes), False, None)


def _not_nan(x: Tensor) -> Tensor:
    return _make(~np.isnan(x.data), False, None)


def nansum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
           keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """`sum` counting NaN as 0 (their gradient is 0)."""
    x = _cast(x, dtype, "nansum")
    if x.data.dtype.kind == "f":
        x = where(_not_nan(x), x, 0.0)
    return sum(x, axis, keepdims, dim=dim, keepdim=keepdim)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """`mean` of the elements that are not NaN: NaN where all are, with a zero gradient
    (PyTorch's is NaN there)."""
    x = floating(_cast(x, dtype, "nanmean"), "nanmean")
    n = sum(_not_nan(x), axis, keepdims, dim=dim, keepdim=keepdim).data
    n = np.where(n > 0, n, np.nan).astype(x.dtype)     # 0 / NaN: NaN without a warning
    return div(nansum(x, axis, keepdims, dim=dim, keepdim=keepdim), _make(n, False, None))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
              keepdim: bool | None = None) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably (no overflow for large ``x``).

    >>> import mnp.core as mnp
    >>> round(mnp.logsumexp(mnp.tensor([1000.0, 1000.0])).item(), 2)
    1000.69
    """
    x = floating(x, "logsumexp")
    return LogSumExp.apply(x, axes=_axes(x, axis, dim, "logsumexp"),
                           keepdims=keep(keepdims, keepdim))


def _arg(name: str, x: Any, axis: Any, dim: Any, keepdims: bool) -> Tensor:
    x = to_tensor(x, op=name)
    axis = pick_axis(axis, dim, name)
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise ArgumentError(f"{name}: axis must be an int or None, got {axis!r}")
    axes = _axes(x, axis, None, name)
    _nonempty(x, axes, name)
    ax = None if axes is None else axes[0]
    out = np.asarray(kernel(name, x.data.dtype)(x.data, ax, bool(keepdims)), dtype=np.int64)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.data.ndim)
    return _make(out, False, None)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index (int64) of the largest value along ``axis``, or into the flattened tensor when
    ``axis`` is None; the first one among ties. No gradient.

    >>> import mnp.core as mnp
    >>> mnp.tensor([[1.0, 9.0], [7.0, 3.0]]).argmax(axis=1).tolist()
    [1, 0]
    """
    return _arg("argmax", x, axis, dim, keep(keepdims, keepdim))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Tensor:
    """Index (int64) of the smallest value along ``axis`` (flattened when None); no gradient."""
    return _arg("argmin", x, axis, dim, keep(keepdims, keepdim))


class ReduceMethods:
    """`Tensor`'s methods of this family: ``x.sum(0)`` is ``sum(x, 0)``, and so on."""
    __slots__ = ()
    sum = sum
    mean = mean
    max = max
    min = min
    amax = amax
    amin = amin
    aminmax = aminmax
    prod = prod
    var = var
    std = std
    logsumexp = logsumexp
    argmax = argmax
    argmin = argmin
    any = any
    all = all
    count_nonzero = count_nonzero
    nansum = nansum
    nanmean = nanmean


__all__ = ["sum", "mean", "max", "min", "amax", "amin", "aminmax", "prod", "var", "std",
           "var_mean", "std_mean", "logsumexp", "argmax", "argmin", "any", "all",
           "count_nonzero", "nansum", "nanmean"]
