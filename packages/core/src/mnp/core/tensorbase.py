"""`TensorBase`: a tensor's storage and what can be read off it without running an op.

The bottom of mnp.core's layering (see `mnp.core.tensor`): it imports no op and no autograd,
so `autograd` and every module of `ops` can build on it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import dtypes as _dt
from .devices import CPU, device
from .errors import ArgumentError, AutogradError, AxisError, DTypeError, ShapeError, axis_error

if TYPE_CHECKING:
    from .tensor import Tensor


def as_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """Convert ``data`` to a numpy array under mnp's dtype rules (no copy when possible)."""
    if isinstance(data, TensorBase):
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


class Size(tuple):
    """The shape of a tensor as `Tensor.size()` returns it: a tuple of ints (as ``torch.Size``).

    >>> import mnp.core as mnp
    >>> mnp.zeros(2, 3).size()
    mnp.Size([2, 3])
    """
    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"mnp.Size({list(self)})"

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        out = tuple.__add__(self, other)
        return out if out is NotImplemented else Size(out)


class TensorBase:
    """The storage of a `Tensor`: ``.data`` (the numpy array itself, shared), ``.grad`` (a
    Tensor or None), ``requires_grad`` and the node that made it; its properties and the
    Python protocol that needs no op. Every tensor is a `mnp.core.Tensor`, which adds the ops
    as methods."""
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

    def size(self, dim: int | None = None) -> "Size | int":
        """The shape as a `Size` (a tuple), or the length of dimension ``dim`` (negative
        counts from the end), as PyTorch; `numel()` counts the elements."""
        shape = self.data.shape
        if dim is None:
            return Size(shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise ArgumentError(f"size: dim must be an int, got {type(dim).__name__} {dim!r}")
        n = len(shape)
        if n == 0:
            raise AxisError(f"size: dimension {dim} specified but the tensor has no dimensions "
                            f"(shape ())")
        if not -n <= dim < n:
            raise axis_error("size", dim, n, shape=shape)
        return shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def device(self) -> "device":
        """The device of the data: always ``device("cpu")``."""
        return CPU

    def dim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    ndimension = dim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    # -- autograd state -----------------------------------------------------------------
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

    def zero_grad(self) -> None:
        self.grad = None

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

    def cpu(self) -> "Tensor":
        """This tensor (its data is already in host memory)."""
        return self  # type: ignore[return-value]

    # -- python protocol ----------------------------------------------------------------
    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

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
