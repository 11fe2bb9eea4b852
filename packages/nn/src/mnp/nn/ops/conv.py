"""Convolution ops: forward calls kernel ``conv2d_forward``, backward ``conv2d_backward``;
Conv1d runs the same kernels with H = 1."""
from __future__ import annotations

from typing import Any

import mnp.core as mnp
from mnp.core import Function, ShapeError, Tensor
from mnp.core.dispatch import kernel

from .._util import ArgumentError, as_tensor, batched, check_dtypes, ntuple
from ..kernels.conv import out_size
from .linear import same_float


class Conv2d(Function):
    name = "conv2d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w, self.args = x, w, (stride, padding, dilation)
        return kernel("conv2d_forward", x.dtype)(x, w, b, stride, padding, dilation)

    def backward(self, g):
        need = self.needs_input_grad
        return kernel("conv2d_backward", g.dtype)(g, self.x, self.w, *self.args, need[0], need[1],
                                                  len(need) > 2 and need[2])


class Conv1d(Conv2d):
    name = "conv1d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        return super().forward(x[:, :, None, :], w[:, :, None, :], b, stride, padding,
                               dilation)[:, :, 0, :]

    def backward(self, g):
        dx, dw, db = super().backward(g[:, :, None, :])
        return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db


def _same_padding(kernel_size, dilation, stride, op: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Padding that keeps the input size: ``(per side, extra after)`` per spatial axis. An odd
    total puts the extra element after the input, as PyTorch does."""
    if any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return tuple(t // 2 for t in totals), tuple(t % 2 for t in totals)


def _conv(fn, dims: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
          dilation: Any, op: str) -> Tensor:
    x, w = as_tensor(input, op), as_tensor(weight, op)
    check_dtypes(op, x, w, None if bias is None else as_tensor(bias, op))
    if w.ndim != dims + 2:
        raise ShapeError(f"{op}: weight must be {dims + 2}-d (out_channels, in_channels, "
                         f"{'kernel' if dims == 1 else 'kH, kW'}), got shape {w.shape}")
    x, unbatched = batched(x, dims, op)
    if x.shape[1] != w.shape[1]:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of "
                         f"shape {w.shape} expects {w.shape[1]}")
    ks = w.shape[2:]
    stride_ = ntuple(stride, dims, "stride", op, 1)
    dilation_ = ntuple(dilation, dims, "dilation", op, 1)
    if isinstance(padding, str):
        if padding == "valid":
            padding_ = (0,) * dims
        elif padding == "same":
            padding_, extra = _same_padding(ks, dilation_, stride_, op)
            if any(extra):      # an odd total: the one uneven element goes after the input
                x = mnp.pad(x, ((0, 0), (0, 0)) + tuple((0, e) for e in extra))
        else:
            raise ArgumentError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                                f"got {padding!r}")
    else:
        padding_ = ntuple(padding, dims, "padding", op, 0)
    for size, k, s, p, d in zip(x.shape[2:], ks, stride_, padding_, dilation_):
        if out_size(size, k, s, p, d) < 1:
            raise ShapeError(f"{op}: input of shape {x.shape} is too small for kernel {tuple(ks)} "
                             f"with padding {padding_} and dilation {dilation_}")
    if dims == 1:
        stride_, padding_, dilation_ = (1,) + stride_, (0,) + padding_, (1,) + dilation_
    if bias is None:
        y = fn.apply(x, w, stride=stride_, padding=padding_, dilation=dilation_)
    else:
        b = as_tensor(bias, op)
        if b.shape != (w.shape[0],):
            raise ShapeError(f"{op}: bias of shape {b.shape} does not fit weight of shape "
                             f"{w.shape}: expected ({w.shape[0]},)")
        y = fn.apply(x, w, b, stride=stride_, padding=padding_, dilation=dilation_)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """2-d convolution (cross-correlation) of input (N, C, H, W) with weight (OC, C, KH, KW).

    ``stride``, ``padding``, ``dilation``: int or pair; ``padding`` may be ``"valid"`` or
    ``"same"`` (stride 1).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.conv2d(mnp.ones((1, 2, 5, 5)), mnp.ones((3, 2, 3, 3)), padding=1).shape
    (1, 3, 5, 5)
    """
    return _conv(Conv2d, 2, input, weight, bias, stride, padding, dilation, "conv2d")


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """1-d convolution of input (N, C, L) with weight (OC, C, K); arguments as `conv2d`."""
    return _conv(Conv1d, 1, input, weight, bias, stride, padding, dilation, "conv1d")
