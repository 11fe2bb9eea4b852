"""Indexing: ``x[i]``, slices, ``None``, ``...``, integer and boolean index tensors, lists,
and mixed tuples. Basic indices give numpy views; advanced ones scatter-add in backward
(repeated indices accumulate).

>>> import mnp.core as mnp
>>> x = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> x[[0, 2, 2]].sum().backward()
>>> x.grad.tolist()
[1.0, 0.0, 2.0]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, as_array


def _unwrap(i: Any) -> Any:
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, list):
        arr = np.asarray([j.data if isinstance(j, Tensor) else j for j in i])
        return arr.astype(np.intp) if arr.size == 0 else arr
    return i


def index_key(index: Any) -> Any:
    """Unwrap Tensors and lists inside an index into numpy arrays."""
    if isinstance(index, tuple):
        return tuple(_unwrap(i) for i in index)
    return _unwrap(index)


def _is_basic(items: tuple) -> bool:
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items)


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

    def forward(self, x, key=None):
        items = key if isinstance(key, tuple) else (key,)
        for i in items:
            if isinstance(i, float) or (isinstance(i, np.ndarray) and i.dtype.kind not in "biu"):
                what = "a float" if isinstance(i, float) else i.dtype.name
                raise DTypeError(f"getitem: indices must be integers or bools, got {what} "
                                 f"(tensor shape {x.shape})")
        self.shape, self.key = x.shape, key
        self.basic = _is_basic(items)
        # one boolean mask (with basic parts around it) selects each element at most once
        arrays = [i for i in items if isinstance(i, np.ndarray)]
        self.assign = self.basic or (len(arrays) == 1 and arrays[0].dtype == bool)
        try:
            out = x[key]
        except IndexError as exc:
            raise ShapeError(f"getitem: index [{_describe(key)}] does not fit shape {x.shape}: "
                             f"{exc}") from None
        if not isinstance(out, np.ndarray):      # an element: keep a 0-d view, not a scalar
            out = x[items + (Ellipsis,)] if self.basic and Ellipsis not in items else np.asarray(out)
        return out

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        if self.assign:
            out[self.key] = g
        else:
            np.add.at(out, self.key, g)   # repeated indices accumulate
        return out


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with gradient; an index out of range is a ShapeError naming the shape."""
    return GetItem.apply(x, key=index_key(index))


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """Write ``value`` into ``x.data[index]`` (not recorded by autograd); an index out of range
    or a value that does not broadcast to the selection is a ShapeError naming the shapes."""
    key = index_key(index)
    v = as_array(value, op="setitem")
    try:
        x.data[key] = v
    except IndexError as exc:
        raise ShapeError(f"setitem: index [{_describe(key)}] does not fit shape {x.shape}: "
                         f"{exc}") from None
    except ValueError as exc:
        raise ShapeError(f"setitem: a value of shape {v.shape} does not fit index "
                         f"[{_describe(key)}] of shape {x.shape}: {exc}") from None


__all__: list[str] = []
