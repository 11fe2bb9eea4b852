"""Creating tensors: from data, filled and ranges (random ones are in `mnp.core.random`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import dtypes as _dt
from .autograd import _make
from .errors import ArgumentError, DTypeError, ShapeError
from .tensorbase import TensorBase, as_array

if TYPE_CHECKING:
    from .tensor import Tensor

def _shape(shape: tuple, op: str) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ShapeError(f"{op}: shape must be integers, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ShapeError(f"{op}: negative dimension in shape {dims}")
    return dims


def _new(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float(dtype: Any, op: str) -> np.dtype:
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype, op)


def _numeric(dtype: Any, op: str) -> np.dtype:
    """``dtype`` for a range (arange, linspace): any supported dtype but bool, as in PyTorch."""
    dt = _dt.to_dtype(dtype, op)
    if dt == _dt.bool_:
        raise DTypeError(f"{op}: dtype bool is not supported; use an integer or floating dtype")
    return dt


def _random_dtype(dtype: Any, op: str) -> np.dtype:
    """``dtype`` for random floats (rand, randn): a floating dtype, as in PyTorch."""
    dt = _float(dtype, op)
    if dt.kind != "f":
        raise DTypeError(f"{op}: expected a floating dtype, got {dt.name}")
    return dt


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor holding a copy of ``data`` (Python floats become float32).

    >>> import mnp.core as mnp
    >>> mnp.tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    arr = as_array(data, dtype)
    if isinstance(data, (np.ndarray, TensorBase)) and np.shares_memory(arr, np.asarray(data)):
        arr = arr.copy()
    return _new(arr, requires_grad)


def as_tensor(data: Any, dtype: Any = None, *, op: str = "as_tensor") -> Tensor:
    """``data`` as a tensor, sharing memory when it can (PyTorch's ``as_tensor``): a Tensor
    comes back as it is (converted, in the graph, if ``dtype`` differs), a numpy array of a
    supported dtype is wrapped without a copy; anything `tensor` takes is accepted. ``op``
    names the caller in errors. Ops and layers turn their inputs into tensors with this.

    >>> import numpy as np, mnp.core as mnp
    >>> a = np.zeros(3, np.float32)
    >>> mnp.as_tensor(a).numpy() is a
    True
    """
    if isinstance(data, TensorBase):
        if dtype is None or data.data.dtype == _dt.to_dtype(dtype, op):
            return data
        return data.astype(dtype)
    return _make(as_array(data, dtype, op=op), False, None)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with numpy array ``a`` (its dtype is kept when supported)."""
    if not isinstance(a, np.ndarray):
        raise DTypeError(f"from_numpy: expected a numpy.ndarray, got {type(a).__name__}")
    return _make(_dt.infer(a, from_python=False, op="from_numpy"), False, None)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_shape(shape, "zeros"), _float(dtype, "zeros")), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_shape(shape, "ones"), _float(dtype, "ones")), requires_grad)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.empty(_shape(shape, "empty"), _float(dtype, "empty")), requires_grad)


def full(shape: Any, value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``value`` (dtype inferred from ``value``)."""
    shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape), "full")
    if dtype is None:
        dtype = as_array(value, op="full").dtype
    return _new(np.full(shape, value, _dt.to_dtype(dtype, "full")), requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = as_array(x, op="zeros_like")
    return _new(np.zeros(arr.shape, arr.dtype if dtype is None else _dt.to_dtype(dtype)), requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = as_array(x, op="ones_like")
    return _new(np.ones(arr.shape, arr.dtype if dtype is None else _dt.to_dtype(dtype)), requires_grad)


def empty_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of ``x``'s shape and dtype."""
    arr = as_array(x, op="empty_like")
    return _new(np.empty(arr.shape, arr.dtype if dtype is None else _dt.to_dtype(dtype)),
                requires_grad)


def full_like(x: Any, value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = as_array(x, op="full_like")
    return _new(np.full(arr.shape, value, arr.dtype if dtype is None else _dt.to_dtype(dtype)),
                requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``[start, stop)`` by ``step``; int64 for integer arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ArgumentError("arange: step must not be zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dt = _numeric(dtype, "arange") if dtype is not None else (_dt.int64 if ints else _dt.get_default_dtype())
    return _new(np.arange(start, stop, step).astype(dt), requires_grad)


def linspace(start: float, stop: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``stop`` inclusive."""
    if int(steps) < 0:
        raise ArgumentError(f"linspace: steps must be non-negative, got {steps}")
    dt = _dt.get_default_dtype() if dtype is None else _numeric(dtype, "linspace")
    return _new(np.linspace(start, stop, int(steps)).astype(dt), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(int(n), None if m is None else int(m), dtype=_float(dtype, "eye")), requires_grad)
