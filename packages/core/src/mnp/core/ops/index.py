"""Indexing: ``x[i]``, slices, ``None``, ``...``, integer and boolean index tensors, lists,
and mixed tuples, with PyTorch's rule where it differs from numpy's (integer indices select
before the index arrays apply: ``x[0, :, [0, 1]]`` of a (2, 3, 4) tensor is (3, 2)). Basic
indices give numpy views; advanced ones scatter-add in backward (repeated indices accumulate).

>>> import mnp.core as mnp
>>> x = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> x[[0, 2, 2]].sum().backward()
>>> x.grad.tolist()
[1.0, 0.0, 2.0]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import autograd as _autograd
from ..autograd import Function, bump_version
from ..engine import SliceGrad
from ..errors import DTypeError, ShapeError
from ..tensorbase import TensorBase, as_array
from ._util import to_tensor, unbroadcast
from .inplace import write

if TYPE_CHECKING:
    from ..tensor import Tensor


def _unwrap(i: Any) -> Any:
    if isinstance(i, TensorBase):
        i = i.data
    elif isinstance(i, list):
        arr = np.asarray([j.data if isinstance(j, TensorBase) else j for j in i])
        return arr.astype(np.intp) if arr.size == 0 else arr
    if isinstance(i, (np.ndarray, np.generic)) and i.ndim == 0 and i.dtype.kind in "iu":
        return int(i)    # a 0-d integer index selects, as a Python int does
    if isinstance(i, np.generic) and i.dtype.kind == "b":
        return bool(i)
    return i


def index_key(index: Any) -> Any:
    """Unwrap Tensors and lists inside an index into numpy arrays (0-d integers into ints)."""
    if isinstance(index, tuple):
        return tuple(_unwrap(i) for i in index)
    return _unwrap(index)


def _is_bool_scalar(i: Any) -> bool:
    return isinstance(i, bool) or (isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype == bool)


def split_key(key: Any) -> tuple[Any, Any]:
    """PyTorch's indexing as two numpy steps: ``x[key] == x[key1][key2]`` (``key2`` None when
    one step does).

    PyTorch applies integer indices first, as selections that drop their dimension, and a
    Python bool as a new dimension of length 1 (True) or 0 (False); only the index arrays
    left are advanced. numpy counts integers and bools as advanced indices too, which moves
    the dimensions of ``x[0, :, [0, 1]]`` elsewhere: (2, 3) for numpy, (3, 2) for PyTorch.
    """
    items = key if isinstance(key, tuple) else (key,)
    arrays = any(isinstance(i, np.ndarray) and i.ndim for i in items)
    bools = any(_is_bool_scalar(i) for i in items)
    ints = any(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items)
    if not bools and not (arrays and ints):
        return key, None
    key1: list = []
    key2: list = []
    for i in items:
        if _is_bool_scalar(i):
            key1.append(None)
            key2.append(np.zeros(1 if i else 0, np.intp))
        elif isinstance(i, np.ndarray):
            key1.extend([slice(None)] * (i.ndim if i.dtype == bool else 1))
            key2.append(i)
        elif i is None:
            key1.append(None)
            key2.append(slice(None))
        elif isinstance(i, slice):
            key1.append(i)
            key2.append(slice(None))
        else:                                   # an int, or Ellipsis
            key1.append(i)
            if i is Ellipsis:
                key2.append(i)
    return tuple(key1), tuple(key2)


def _select(x: np.ndarray, key1: Any, key2: Any) -> np.ndarray:
    """``x[key1][key2]``, or ``x[key1]`` when ``key2`` is None."""
    return x[key1] if key2 is None else x[key1][key2]


def _is_basic(items: tuple) -> bool:
    return all(i is None or i is Ellipsis or isinstance(i, slice)
               or (isinstance(i, (int, np.integer)) and not isinstance(i, bool)) for i in items)


def _describe(key: Any) -> str:
    items = key if isinstance(key, tuple) else (key,)
    parts = []
    for i in items:
        if isinstance(i, np.ndarray):
            parts.append(f"{i.dtype.name} array of shape {i.shape}" if i.ndim else repr(i.item()))
        else:
            parts.append("..." if i is Ellipsis else repr(i))
    return ", ".join(parts)


class GetItem(Function):
    name = "getitem"
    numpy_only = "indexing and its scatter-add backward: data movement"

    def forward(self, x, key=None):
        items = key if isinstance(key, tuple) else (key,)
        for i in items:
            if isinstance(i, float) or (isinstance(i, np.ndarray) and i.dtype.kind not in "biu"):
                what = "a float" if isinstance(i, float) else i.dtype.name
                raise DTypeError(f"getitem: indices must be integers or bools, got {what} "
                                 f"(tensor shape {x.shape})")
        self.shape = x.shape
        self.key1, self.key2 = split_key(key)
        self.basic = _is_basic(items)
        # one boolean mask (with basic parts around it) selects each element at most once
        arrays = [i for i in (self.key2 or items) if isinstance(i, np.ndarray)]
        self.assign = self.basic or (len(arrays) == 1 and arrays[0].dtype == bool)
        try:
            out = _select(x, self.key1, self.key2)
        except IndexError as exc:
            raise ShapeError(f"getitem: index [{_describe(key)}] does not fit shape {x.shape}: "
                             f"{exc}") from None
        if not isinstance(out, np.ndarray):      # an element: keep a 0-d view, not a scalar
            out = x[items + (Ellipsis,)] if self.basic and Ellipsis not in items else np.asarray(out)
        return out

    def backward(self, g):
        if self.basic and self.key2 is None:     # a view: the engine writes g into place
            return SliceGrad(self.key1, g)
        out = np.zeros(self.shape, g.dtype)
        if self.key2 is None:
            view, key = out, self.key1
        else:
            view, key = out[self.key1], self.key2
        if self.assign:
            view[key] = g
        else:
            np.add.at(view, key, g)   # repeated indices accumulate
        return out


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with gradient; an index out of range is a ShapeError naming the shape."""
    if not isinstance(x, TensorBase):
        x = to_tensor(x, op="getitem")
    return GetItem.apply(x, key=index_key(index))


def _assign(out: np.ndarray, key: Any, v: np.ndarray, shape: tuple) -> None:
    """``out[key] = v`` with PyTorch's indexing; errors name the index and the shapes."""
    key1, key2 = split_key(key)
    try:
        if key2 is None:
            out[key1] = v
        else:
            out[key1][key2] = v
    except IndexError as exc:
        raise ShapeError(f"setitem: index [{_describe(key)}] does not fit shape {shape}: "
                         f"{exc}") from None
    except ValueError as exc:
        raise ShapeError(f"setitem: a value of shape {v.shape} does not fit index "
                         f"[{_describe(key)}] of shape {shape}: {exc}") from None


class SetItem(Function):
    """``x`` with ``x[key] = v``: gradient to ``x`` outside the written places, and to ``v``
    the gradient of the places it was written to (summed over its broadcast)."""
    name = "setitem"
    numpy_only = "indexed assignment and its gather backward: data movement"
    saved = ()

    def forward(self, x, v, key=None):
        self.key, self.v_shape = key, v.shape
        out = x.copy()
        _assign(out, key, v, x.shape)
        return out

    def backward(self, g):
        gx = g.copy()
        _assign(gx, self.key, np.zeros((), g.dtype), g.shape)
        gv = None
        if self.needs_input_grad[1]:
            key1, key2 = split_key(self.key)
            sel = _select(g, key1, key2)
            gv = unbroadcast(np.asarray(sel), self.v_shape) if sel.shape != self.v_shape else sel
        return gx, gv


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value`` in place, recorded by autograd as PyTorch's (see
    `mnp.core.ops.inplace`); an index out of range or a value that does not broadcast to the
    selection is a ShapeError naming the shapes."""
    if not isinstance(x, TensorBase):
        raise DTypeError(f"setitem: expected a Tensor to write into, got {type(x).__name__}")
    key = index_key(index)
    if isinstance(value, TensorBase) and value.requires_grad and _autograd._grad.enabled \
            or x.requires_grad and _autograd._grad.enabled:
        v = value if isinstance(value, TensorBase) else to_tensor(value, x, "setitem")
        write(x, "__setitem__", lambda old: SetItem.apply(old, v, key=key), (v,))
        return
    _assign(x.data, key, as_array(value, op="setitem"), x.shape)
    bump_version(x.data, "__setitem__")


__all__: list[str] = []
