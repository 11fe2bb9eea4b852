"""Adaptive pooling: `AdaptiveAvgPool1d/2d/3d`, `AdaptiveMaxPool1d/2d/3d` and their functional
forms, for any output size (PyTorch's windows: output ``o`` of an axis of length ``L`` pooled
to ``O`` covers ``[floor(o * L / O), ceil((o + 1) * L / O))``; windows may overlap).

Fast paths: average pooling to an output of 1 everywhere is a mean over the spatial axes on
core's reduction kernels; a 1-d or 2-d output that divides the input runs the fixed-window
pooling kernels. Otherwise average pooling is, axis by axis, a sum of a few gathers (composed
core ops, so autograd gives the backward) and max pooling is `AdaptiveMaxPoolFunction`.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.adaptive_avg_pool1d(mnp.arange(5.0).reshape(1, 1, 5), 3).tolist()
[[[0.5, 2.0, 3.5]]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import Function, ShapeError, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._util import ArgumentError, batched
from .module import Module
from .pool import avg_pool2d, max_pool2d


def windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows of an axis of length ``size``: ``(starts, ends)``."""
    o = np.arange(out, dtype=np.int64)
    return (o * size) // out, -((-(o + 1) * size) // out)


def output_size_arg(output_size: Any, x: Tensor, dims: int, op: str) -> tuple[int, ...]:
    """``output_size`` (an int or a ``dims``-tuple, None keeping the input's size) as ints."""
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        sizes = (int(output_size),) * dims
    elif isinstance(output_size, (tuple, list)):
        if len(output_size) != dims:
            raise ArgumentError(f"{op}: output_size must be an int or a tuple of {dims}, got "
                                f"{output_size!r}")
        sizes = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(output_size))
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise ArgumentError(f"{op}: output_size entries must be ints or None, got "
                                f"{output_size!r}")
        sizes = tuple(int(s) for s in sizes)
    else:
        raise ArgumentError(f"{op}: output_size must be an int or a tuple of {dims} ints or None, "
                            f"got {output_size!r}")
    if any(s < 0 for s in sizes):
        raise ArgumentError(f"{op}: output_size must be >= 0, got {output_size!r}")
    if any(s == 0 for s in x.shape[2:]):
        raise ShapeError(f"{op}: input of shape {x.shape} has an empty spatial dimension")
    return sizes


def _prepare(input: Any, output_size: Any, dims: int, op: str):
    x, unbatched = batched(as_tensor(input, op=op), dims, op)
    return x, unbatched, output_size_arg(output_size, x, dims, op)


def _axis_key(idx: np.ndarray, axis: int, ndim: int) -> tuple:
    return (slice(None),) * axis + (idx,) + (slice(None),) * (ndim - axis - 1)


def _avg_axis(x: Tensor, axis: int, out: int) -> Tensor:
    """Adaptive mean along ``axis``: the sum of ``max window`` gathers, each masked to its
    window, over the window lengths."""
    size = x.shape[axis]
    starts, ends = windows(size, out)
    if out == size:
        return x
    if out == 0:
        return x[_axis_key(starts, axis, x.ndim)]
    shape = [1] * x.ndim
    shape[axis] = out
    total = None
    for t in range(int((ends - starts).max())):
        valid = starts + t < ends
        part = x[_axis_key(np.minimum(starts + t, ends - 1), axis, x.ndim)]
        if not valid.all():
            part = mnp.where(mnp.tensor(valid.reshape(shape)), part, mnp.zeros((), dtype=x.dtype))
        total = part if total is None else total + part
    return total / mnp.tensor((ends - starts).reshape(shape).astype(x.data.dtype))


def _adaptive_avg(dims: int, input: Any, output_size: Any, op: str) -> Tensor:
    x, unbatched, out = _prepare(input, output_size, dims, op)
    spatial = x.shape[2:]
    axes = tuple(range(2, 2 + dims))
    if all(o == 1 for o in out):                                # global average pooling
        y = x.mean(axis=axes, keepdims=True)
    elif dims <= 2 and all(o > 0 and s % o == 0 for s, o in zip(spatial, out)):
        k = tuple(s // o for s, o in zip(spatial, out))
        y = avg_pool2d(x if dims == 2 else x.reshape(x.shape[:2] + (1,) + spatial),
                       k if dims == 2 else (1,) + k)
        y = y if dims == 2 else y.reshape(y.shape[:2] + (y.shape[3],))
    else:
        y = x
        for axis, o in zip(reversed(axes), reversed(out)):
            y = _avg_axis(y, axis, o)
    return y.reshape(y.shape[1:]) if unbatched else y


# -- max ---------------------------------------------------------------------------------------
def _max_axis(x: np.ndarray, axis: int, out: int):
    """Adaptive max along ``axis``: values and positions along the axis (a strictly greater
    value or a NaN takes over, so the first maximum and the last NaN win, as in PyTorch)."""
    starts, ends = windows(x.shape[axis], out)
    shape = [1] * x.ndim
    shape[axis] = out
    pos = np.broadcast_to(starts.reshape(shape), x.shape[:axis] + (out,) + x.shape[axis + 1:])
    y = np.take(x, starts, axis=axis)
    pos = pos.copy()
    for t in range(1, int((ends - starts).max()) if out else 0):
        idx = np.minimum(starts + t, ends - 1)
        s = np.take(x, idx, axis=axis)
        wins = (s > y) | np.isnan(s) if x.dtype.kind == "f" else s > y
        wins &= (starts + t < ends).reshape(shape)
        np.copyto(y, s, where=wins)
        np.copyto(pos, np.broadcast_to(idx.reshape(shape), pos.shape), where=wins)
    return y, pos


def adaptive_max_forward(x: np.ndarray, out: tuple[int, ...]):
    """``(y, indices)`` of adaptive max pooling of x (N, C, *spatial): indices are flat
    positions in each (*spatial) plane, as PyTorch gives them."""
    y, flat, inner = x, None, 1
    for axis in range(x.ndim - 1, 1, -1):                       # last axis first
        y, pos = _max_axis(y, axis, out[axis - 2])
        flat = pos if flat is None else pos * inner + np.take_along_axis(flat, pos, axis=axis)
        inner *= x.shape[axis]
    return y, flat.astype(np.int64, copy=False)


class AdaptiveMaxPoolFunction(Function):
    """Adaptive max pooling for sizes that do not divide: an argmax per window."""
    name = "adaptive_max_pool"
    numpy_only = "windowed argmax over gathered numpy slices (selection); backward scatters " \
                 "on the max_pool2d_backward kernel"

    def forward(self, x, output_size=(1,), indices=None):
        self.shape = x.shape
        y, self.indices = adaptive_max_forward(x, output_size)
        if indices is not None:
            indices.append(self.indices)
        return y

    def backward(self, g):
        n, c = self.shape[:2]
        plane, per_plane = int(np.prod(self.shape[2:])), int(np.prod(g.shape[2:]))
        dx = kernel("max_pool2d_backward", g.dtype)(
            g.reshape(n, c, 1, per_plane), self.indices.reshape(n, c, 1, per_plane),
            (n, c, 1, plane))
        return dx.reshape(self.shape)


def _adaptive_max(dims: int, input: Any, output_size: Any, return_indices: bool, op: str):
    x, unbatched, out = _prepare(input, output_size, dims, op)
    spatial = x.shape[2:]
    if dims <= 2 and all(o > 0 and s % o == 0 for s, o in zip(spatial, out)):
        k = tuple(s // o for s, o in zip(spatial, out))
        x2 = x if dims == 2 else x.reshape(x.shape[:2] + (1,) + spatial)
        y, idx = max_pool2d(x2, k if dims == 2 else (1,) + k, return_indices=True)
        if dims == 1:
            y, idx = y[:, :, 0], idx[:, :, 0]
    else:
        holder: list = []
        y = AdaptiveMaxPoolFunction.apply(x, output_size=out, indices=holder)
        idx = mnp.from_numpy(holder[0])
    if unbatched:
        y, idx = y.reshape(y.shape[1:]), idx.reshape(idx.shape[1:])
    return (y, idx) if return_indices else y


# -- functional --------------------------------------------------------------------------------
def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:
    """Mean over PyTorch's adaptive windows of (N, C, L) or (C, L) to length ``output_size``."""
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """Mean over adaptive windows of (N, C, H, W) or (C, H, W); ``output_size`` is an int or
    an (H, W) pair whose None entries keep the input's size.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.adaptive_avg_pool2d(mnp.ones((2, 3, 5, 7)), (2, None)).shape
    (2, 3, 2, 7)
    """
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Tensor:
    """Mean over adaptive windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows of (N, C, L) or (C, L); ``return_indices=True`` also returns
    the positions along L (int64)."""
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows of (N, C, H, W) or (C, H, W); indices are flat positions in
    each (H, W) plane.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> y, i = F.adaptive_max_pool2d(mnp.arange(9.0).reshape(1, 3, 3), 2, return_indices=True)
    >>> y.tolist(), i.tolist()
    ([[[4.0, 5.0], [7.0, 8.0]]], [[[4, 5], [7, 8]]])
    """
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows of (N, C, D, H, W) or (C, D, H, W); indices are flat
    positions in each (D, H, W) volume."""
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


# -- the layers --------------------------------------------------------------------------------
class _AdaptivePool(Module):
    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size: Any, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = bool(return_indices)


class AdaptiveAvgPool1d(_AdaptivePool):
    """`adaptive_avg_pool1d` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """`adaptive_avg_pool2d` as a layer; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.AdaptiveAvgPool2d(1)(mnp.ones((2, 3, 5, 5))).shape
    (2, 3, 1, 1)
    """

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """`adaptive_avg_pool3d` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """`adaptive_max_pool1d` as a layer."""

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """`adaptive_max_pool2d` as a layer."""

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """`adaptive_max_pool3d` as a layer."""

    def forward(self, input: Tensor) -> Any:
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)

