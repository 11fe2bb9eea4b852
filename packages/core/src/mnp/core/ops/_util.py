"""Helpers every op shares: turning operands into tensors, int-to-float promotion,
unbroadcasting, axis handling and the shapes of reduced results."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import math
import operator

import numpy as np

from .. import dtypes as _dt
from ..autograd import _make
from ..creation import as_tensor
from ..errors import ArgumentError, DTypeError, ShapeError, axis_error, shape_error
from ..tensorbase import TensorBase

if TYPE_CHECKING:
    from ..tensor import Tensor


def to_tensor(x: Any, like: Tensor | None = None, op: str = "op") -> Tensor:
    """``x`` as a Tensor; a Python scalar takes ``like``'s floating dtype (as PyTorch does)."""
    if isinstance(x, TensorBase):
        return x
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        if like is not None:
            lk = like.data.dtype
            if isinstance(x, bool):
                dt = lk
            elif isinstance(x, int):
                dt = lk if lk.kind in "fiu" else _dt.int64
            else:
                dt = lk if lk.kind == "f" else _dt.get_default_dtype()
            return _make(np.asarray(x, dtype=dt), False, None)
    return as_tensor(x, op=op)


def pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors."""
    if isinstance(a, TensorBase):
        if isinstance(b, TensorBase):
            return a, b
        return a, to_tensor(b, a, op)
    if isinstance(b, TensorBase):
        return to_tensor(a, b, op), b
    a = to_tensor(a, op=op)
    return a, to_tensor(b, a, op)


def as_float(x: TensorBase) -> Tensor:
    """``x`` itself when floating, else its values in the default float dtype (PyTorch's
    promotion of integer and bool inputs to float ops; such a tensor never needs grad)."""
    if x.data.dtype.kind == "f":
        return x
    return _make(x.data.astype(_dt.get_default_dtype()), False, None)


def floating(x: Any, op: str) -> Tensor:
    """``x`` as a floating tensor (see `as_float`), for the ops that only compute in floats."""
    return as_float(to_tensor(x, op=op))


def floating_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors (`pair`), the first one promoted to float when neither is
    floating: the result of the op is then floating too."""
    a, b = pair(a, b, op)
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        a = as_float(a)
    return a, b


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's promotion: a float operand wins over an int/bool one (int64 + float16 is
    float16), and a 0-d operand beside an n-d one counts only when its category (bool < int <
    float) is higher: float32 n-d with float64 0-d is float32, int32 with a 0-d int64 stays
    int32, int32 with a 0-d float64 is float64. Python scalars arrive as 0-d arrays."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    if (a.ndim == 0) != (b.ndim == 0):
        dims, zero = (da, db) if b.ndim == 0 else (db, da)
        if dims.kind == "f" or (dims.kind != "b" and zero.kind != "f"):
            return dims
    fa, fb = da.kind == "f", db.kind == "f"
    if fa != fb:
        return da if fa else db
    return np.promote_types(da, db)


def promote(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dt = result_dtype(a, b)
    return (a if a.dtype == dt else a.astype(dt)), (b if b.dtype == dt else b.astype(dt))


def check_broadcast(op: str, a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    """The broadcast shape of ``a`` and ``b``, or a ShapeError naming ``op`` and both shapes."""
    if a.shape == b.shape:
        return a.shape
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise shape_error(op, a.shape, b.shape, why="cannot be broadcast together") from None


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of every broadcasting op."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def keep(keepdims: bool, keepdim: bool | None) -> bool:
    """``keepdims``, or PyTorch's spelling ``keepdim`` when given."""
    return bool(keepdims if keepdim is None else keepdim)


def count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements each output element of a reduction over ``axes`` reduces over."""
    if axes is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axes)


def expand_reduced(g: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """A reduced gradient (or output) reshaped so it broadcasts back over the input: the
    reduced axes put back with size 1 (a full reduction is 0-d and broadcasts as it is)."""
    if keepdims or axes is None:
        return g
    return np.expand_dims(g, axes)


def squeeze_reduced(y: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Drop the reduced axes of a result computed with keepdims, unless ``keepdims``."""
    if keepdims:
        return y
    return y.reshape(()) if axes is None else np.squeeze(y, axis=axes)


def norm_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Normalize ``axis`` (None, int or sequence; negatives allowed) to a sorted tuple."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        ax = int(ax)
        if not -max(ndim, 1) <= ax < max(ndim, 1):
            raise axis_error(op, ax, ndim)
        out.append(ax % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axes}")
    return tuple(sorted(out))


def int_arg(v: Any, what: str, op: str) -> int:
    """``v`` as a Python int (an int, numpy integer or one-element integer tensor), else an
    `ArgumentError` naming ``op`` and ``what``."""
    try:
        return operator.index(v)
    except TypeError:
        raise ArgumentError(f"{op}: {what} must be an integer, got {v!r}") from None


def shape_arg(shape: tuple, op: str = "reshape") -> tuple[int, ...]:
    """``f(x, 2, 3)``, ``f(x, (2, 3))`` and ``f(x, [2, 3])`` all mean shape ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, np.ndarray)):
        shape = tuple(shape[0])
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise ShapeError(f"{op}: shape entries must be integers, got {shape}") from None


def axis_index(axis: Any, ndim: int, op: str, extra: int = 0) -> int:
    """One axis in ``[-(ndim+extra), ndim+extra)`` as a non-negative int."""
    n = ndim + extra
    try:
        ax = operator.index(axis)
    except TypeError:
        raise ShapeError(f"{op}: axis must be an integer, got {axis!r}") from None
    if not -max(n, 1) <= ax < max(n, 1):
        raise axis_error(op, ax, ndim, extra)
    return ax % max(n, 1)


def axes_in_order(axis: Any, ndim: int, op: str, extra: int = 0) -> tuple[int, ...]:
    """An int or a sequence of ints, normalized, no repeats, in the given order."""
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(axis_index(a, ndim, op, extra) for a in items)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {tuple(items)}")
    return out


def pick_axis(axis: Any, dim: Any, op: str) -> Any:
    """Accept ``dim=`` as a synonym of ``axis=``."""
    if dim is not None:
        if axis is not None:
            from ..errors import ArgumentError
            raise ArgumentError(f"{op}: pass axis or dim, not both")
        return dim
    return axis


def require_float(op: str, *tensors: Tensor) -> None:
    from ..errors import DTypeError
    for t in tensors:
        if t.data.dtype.kind != "f":
            raise DTypeError(f"{op}: expected a floating point tensor, got dtype {t.data.dtype.name}")


def shapes(*xs: Sequence) -> str:
    return " and ".join(str(tuple(x)) for x in xs)


def float_only_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands (`pair`) of an op PyTorch defines only when one of them is floating."""
    a, b = pair(a, b, op)
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating point operand, got dtypes "
                         f"{a.data.dtype.name} and {b.data.dtype.name}")
    return a, b
