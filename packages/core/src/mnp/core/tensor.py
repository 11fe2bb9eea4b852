"""`Tensor`: an n-d array on numpy storage that records the ops made from it.

>>> import mnp.core as mnp
>>> a = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = (a * a).sum()
>>> y.backward()
>>> a.grad.tolist()
[[2.0, 4.0], [6.0, 8.0]]
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import dtypes as _dt
from .errors import AutogradError, DTypeError, shape_error, ShapeError


def as_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """Convert ``data`` to a numpy array under mnp's dtype rules (no copy when possible)."""
    if isinstance(data, Tensor):
        arr = data.data
        return arr if dtype is None else arr.astype(_dt.to_dtype(dtype, op), copy=False)
    if isinstance(data, np.ndarray):
        arr = data if dtype is not None else _dt.infer(data, from_python=False, op=op)
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
        arr = arr if dtype is not None else _dt.infer(arr, from_python=False, op=op)
    else:
        try:
            arr = np.asarray(data.numpy() if hasattr(data, "numpy") and not isinstance(data, (list, tuple)) else data)
        except ValueError as exc:   # ragged nesting: numpy cannot find one shape
            raise ShapeError(f"{op}: nested sequences of unequal lengths do not make one "
                             f"shape: {exc}") from None
        except TypeError as exc:
            raise DTypeError(f"{op}: cannot make a tensor from {type(data).__name__}: {exc}") from None
        arr = arr if dtype is not None else _dt.infer(arr, from_python=True, op=op)
    if dtype is not None:
        if arr.dtype.kind not in "biuf":
            raise DTypeError(f"{op}: cannot make a tensor from data of dtype {arr.dtype}")
        arr = arr.astype(_dt.to_dtype(dtype, op), copy=False)
    return arr


class Tensor:
    """An n-d array with autograd. Build with `mnp.tensor`, `mnp.zeros`, `mnp.randn`, ...

    ``.data`` is the numpy array itself (shared); ``.grad`` is a Tensor or None.
    """
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False):
        self.data = as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- properties ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def T(self) -> "Tensor":
        return _ops.transpose(self)

    # -- autograd -----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self.data.dtype.kind != "f":
            raise DTypeError(f"requires_grad: only floating point tensors can require "
                             f"gradients, got dtype {self.data.dtype.name}")
        if not requires_grad and self._ctx is not None:
            raise AutogradError("requires_grad_: cannot turn off gradients of a non-leaf "
                                "tensor; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise AutogradError("retain_grad: the tensor does not require grad")
        self._retains_grad = True
        return self

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate gradients into the leaves' ``.grad``.

        A non-scalar output needs ``gradient`` (same shape). The graph is freed afterwards
        unless ``retain_graph=True``.
        """
        _autograd.backward(self, gradient, retain_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` during each backward as soon as this leaf's ``.grad`` holds its
        whole gradient of that backward; returns a handle whose ``remove()`` unregisters it."""
        return _autograd.register_post_accumulate_grad_hook(self, hook)

    def detach(self) -> "Tensor":
        """A tensor sharing this data, cut from the graph."""
        return _autograd._make(self.data, False, None)

    # -- conversion ---------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shared)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self.data.astype(dtype, copy=False)
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ShapeError(f"item: only one-element tensors can be converted to a Python "
                             f"scalar, got shape {self.data.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def astype(self, dtype: Any) -> "Tensor":
        """A copy of this tensor as ``dtype`` (differentiable between floating dtypes)."""
        return _ops.astype(self, dtype)

    to = astype

    def float(self) -> "Tensor":
        return _ops.astype(self, _dt.float32)

    def double(self) -> "Tensor":
        return _ops.astype(self, _dt.float64)

    def half(self) -> "Tensor":
        return _ops.astype(self, _dt.float16)

    def long(self) -> "Tensor":
        return _ops.astype(self, _dt.int64)

    def clone(self) -> "Tensor":
        return _ops.clone(self)

    def copy_(self, src: Any) -> "Tensor":
        """Copy ``src`` into this tensor's data in place (not recorded)."""
        self._check_inplace("copy_")
        np.copyto(self.data, as_array(src), casting="same_kind")
        return self

    # -- python protocol ----------------------------------------------------------------
    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self.data.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ShapeError(f"bool: the truth value of a tensor of shape {self.data.shape} "
                             f"({self.data.size} elements) is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be an index")
        return int(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extra = f", dtype={self.data.dtype.name}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __getstate__(self):
        return {"data": self.data, "requires_grad": self.requires_grad}

    def __setstate__(self, state):
        self.data = state["data"]
        self.grad, self._ctx, self._retains_grad = None, None, False
        self.requires_grad = state["requires_grad"]

    # -- operators ----------------------------------------------------------------------
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        self._check_inplace("__setitem__")
        _ops.setitem(self, index, value)

    def __eq__(self, other): return _ops.compare("eq", self, other)  # type: ignore[override]
    def __ne__(self, other): return _ops.compare("ne", self, other)  # type: ignore[override]
    def __lt__(self, other): return _ops.compare("lt", self, other)
    def __le__(self, other): return _ops.compare("le", self, other)
    def __gt__(self, other): return _ops.compare("gt", self, other)
    def __ge__(self, other): return _ops.compare("ge", self, other)

    def _check_inplace(self, op: str) -> None:
        if self.requires_grad and _autograd._grad.enabled:
            raise AutogradError(f"{op}: in-place change of a tensor that requires grad; "
                                f"do it under mnp.no_grad() or on .data")

    def _inplace(self, op: str, other: Any, ufunc) -> "Tensor":
        self._check_inplace(op)
        if isinstance(other, Tensor) and other.requires_grad and _autograd._grad.enabled:
            raise AutogradError(f"{op}: the operand requires grad; an in-place update cannot "
                                f"record it (use the out-of-place form)")
        value = other if isinstance(other, (int, float)) else as_array(other, op=op)
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except TypeError:
            raise DTypeError(f"{op}: cannot write a {np.result_type(value).name} result into a "
                             f"{self.data.dtype.name} tensor in place") from None
        except ValueError:
            raise shape_error(op, self.data.shape, np.shape(value),
                              why="do not fit an in-place update") from None
        return self

    def _augmented(self, op: str, other: Any, ufunc, out_of_place) -> "Tensor":
        # ``a += b`` with ``b`` in the graph records ``a + b`` (Python rebinds ``a``)
        if isinstance(other, Tensor) and other.requires_grad and _autograd._grad.enabled \
                and not self.requires_grad:
            return out_of_place(self, other)
        return self._inplace(op, other, ufunc)

    def __iadd__(self, other): return self._augmented("__iadd__", other, np.add, _ops.add)
    def __isub__(self, other): return self._augmented("__isub__", other, np.subtract, _ops.sub)
    def __imul__(self, other): return self._augmented("__imul__", other, np.multiply, _ops.mul)
    def __itruediv__(self, other):
        return self._augmented("__itruediv__", other, np.true_divide, _ops.div)

    def add_(self, other): return self._inplace("add_", other, np.add)
    def sub_(self, other): return self._inplace("sub_", other, np.subtract)
    def mul_(self, other): return self._inplace("mul_", other, np.multiply)
    def div_(self, other): return self._inplace("div_", other, np.true_divide)

    def fill_(self, value: float) -> "Tensor":
        self._check_inplace("fill_")
        self.data.fill(value)
        return self

    def zero_(self) -> "Tensor":
        return self.fill_(0)



def method(fn=None, *, name: str | None = None):
    """Make an op function a Tensor method too (``x.exp()``); never replaces a defined one."""
    def attach(f):
        key = name or f.__name__
        if key not in Tensor.__dict__:
            setattr(Tensor, key, f)
        return f
    return attach(fn) if fn is not None else attach


from . import autograd as _autograd  # noqa: E402
from . import ops as _ops  # noqa: E402
