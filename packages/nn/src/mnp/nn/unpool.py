"""Max unpooling: `MaxUnpool1d`, `MaxUnpool2d`, `MaxUnpool3d` and their functional forms, the
partial inverse of max pooling with ``return_indices=True``: each value goes to the flat
position its index names in its (N, C) plane; everything else is zero.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> y, i = F.max_pool1d(mnp.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
>>> F.max_unpool1d(y, i, 2).tolist()
[[[0.0, 3.0, 2.0, 0.0]]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import ArgumentError, Function, ShapeError, Tensor, as_tensor

from ._util import IndexOutOfRangeError, ntuple
from .module import Module


class MaxUnpoolFunction(Function):
    """Scatter each (N, C) plane's values to their flat positions; backward gathers."""
    name = "max_unpool"
    numpy_only = "a scatter by index and its gather backward: data movement"

    def forward(self, x, indices=None, out_shape=(1, 1, 1)):
        self.shape, self.flat = x.shape, indices          # (planes, values per plane)
        plane = int(np.prod(out_shape[2:]))
        rows = np.arange(self.flat.shape[0])[:, None]
        out = np.zeros((self.flat.shape[0], plane), x.dtype)
        out[rows, self.flat] = x.reshape(self.flat.shape)
        self.rows, self.plane = rows, plane
        return out.reshape(out_shape)

    def backward(self, g):
        return g.reshape(-1, self.plane)[self.rows, self.flat].reshape(self.shape)


def _output_size(x: Tensor, ks, st, pd, output_size: Any, op: str) -> tuple[int, ...]:
    dims = len(ks)
    default = [(x.shape[-dims + d] - 1) * st[d] + ks[d] - 2 * pd[d] for d in range(dims)]
    if output_size is None:
        return tuple(default)
    size = [int(s) for s in output_size]
    if len(size) == dims + 2:
        size = size[2:]
    if len(size) != dims:
        raise ArgumentError(f"{op}: output_size should be a sequence containing {dims} or "
                            f"{dims + 2} elements, got {tuple(output_size)}")
    for d, (s, base) in enumerate(zip(size, default)):
        if not base - st[d] < s < base + st[d]:
            raise ArgumentError(f"{op}: invalid output_size {tuple(output_size)} (dim {d} must "
                                f"be between {base - st[d]} and {base + st[d]})")
    return tuple(size)


def _max_unpool(dims: int, input: Any, indices: Any, kernel_size: Any, stride: Any,
                padding: Any, output_size: Any, op: str) -> Tensor:
    x, idx = as_tensor(input, op=op), as_tensor(indices, op=op)
    if x.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected a {dims + 2}-d input or an unbatched {dims + 1}-d one, "
                         f"got shape {x.shape}")
    if idx.shape != x.shape:
        raise ShapeError(f"{op}: indices of shape {idx.shape} must have the input's shape "
                         f"{x.shape}")
    if idx.dtype != np.int64:
        raise ArgumentError(f"{op}: indices must be int64, got {idx.dtype}")
    ks = ntuple(kernel_size, dims, "kernel_size", op, 1)
    st = ks if stride is None else ntuple(stride, dims, "stride", op, 1)
    pd = ntuple(padding, dims, "padding", op, 0)
    out = _output_size(x, ks, st, pd, output_size, op)
    lead = x.shape[:-dims]
    plane = int(np.prod(out))
    flat = idx.data.reshape(int(np.prod(lead)), int(np.prod(x.shape[-dims:])))
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = flat[(flat < 0) | (flat >= plane)][0]
        raise IndexOutOfRangeError(f"{op}: invalid max index {bad} for an output of spatial "
                                   f"size {'x'.join(map(str, out))}")
    return MaxUnpoolFunction.apply(x, indices=flat, out_shape=lead + out)


def max_unpool1d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Undo `max_pool1d` of (N, C, L) or (C, L): values go to their indices, zeros elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool1d")


def max_unpool2d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Undo `max_pool2d` of (N, C, H, W) or (C, H, W); ``output_size`` ((H, W) or
    (N, C, H, W)) picks among the sizes that pool to the input's."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool2d")


def max_unpool3d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Undo `max_pool3d` of (N, C, D, H, W) or (C, D, H, W)."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool3d")


class _MaxUnpool(Module):
    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        name, n = type(self).__name__, self.dims
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else ntuple(stride, n, "stride", name, 1)
        self.padding = ntuple(padding, n, "padding", name, 0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return _max_unpool(self.dims, input, indices, self.kernel_size, self.stride,
                           self.padding, output_size, type(self).__name__)


class MaxUnpool1d(_MaxUnpool):
    """`max_unpool1d` as a layer: ``unpool(input, indices, output_size=None)``."""
    dims = 1


class MaxUnpool2d(_MaxUnpool):
    """`max_unpool2d` as a layer: ``unpool(input, indices, output_size=None)``."""
    dims = 2


class MaxUnpool3d(_MaxUnpool):
    """`max_unpool3d` as a layer: ``unpool(input, indices, output_size=None)``."""
    dims = 3
