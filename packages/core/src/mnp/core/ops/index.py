"""Indexing: basic slices are views; advanced indices scatter-add in backward."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor


def index_key(index: Any) -> Any:
    """Unwrap Tensors inside an index into numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(key: Any) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class GetItem(Function):
    name = "getitem"

    def forward(self, x, key=None):
        self.shape, self.key, self.dtype = x.shape, key, x.dtype
        self.basic = _is_basic(key)
        try:
            return x[key]
        except IndexError as exc:
            raise ShapeError(f"getitem: index {key!r} does not fit shape {x.shape}: {exc}") from None

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        if self.basic:
            out[self.key] = g
        else:
            np.add.at(out, self.key, g)   # repeated indices accumulate
        return out


def getitem(x: Tensor, index: Any) -> Tensor:
    return GetItem.apply(x, key=index_key(index))

__all__: list[str] = []
