"""Transposed convolutions: `ConvTranspose1d`, `ConvTranspose2d`, `ConvTranspose3d`, their
nodes and the functional `conv_transpose1d`/`2d`/`3d`.

A transposed convolution is the adjoint of a convolution with the same weight: its output is
that convolution's input gradient (the ``conv2d_backward`` kernel, the ``col2im`` side), and
its gradients are a convolution (``conv2d_forward``) and a weight gradient. The weight is
(in_channels, out_channels / groups, *kernel_size), as in PyTorch; the output size is
``(size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.conv_transpose2d(mnp.ones((1, 1, 2, 2)), mnp.ones((1, 1, 2, 2)), stride=2).tolist()
[[[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Function, ShapeError, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._util import ArgumentError, batched, check_dtypes, ntuple
from .conv import _ConvNd, check_groups, conv_backward, conv_forward
from .conv3d import conv3d_arrays, conv3d_grads
from .linear import same_float

#: the family's own ``numpy`` reference kernels (it runs on conv's)
KERNELS: dict = {}


class ConvTranspose2dFunction(Function):
    """The transposed 2-d convolution of x (N, Cin, H, W) with w (Cin, Cout / G, KH, KW) into
    an output of spatial size ``size``, plus an optional bias."""
    name = "conv_transpose2d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                size=(1, 1)):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w, self.args, self.groups = x, w, (stride, padding, dilation), groups
        shape = (x.shape[0], w.shape[1] * groups) + tuple(size)
        y, _, _ = self._grads(x, np.empty(shape, x.dtype), w, groups, stride, padding, dilation,
                              True, False, False)
        if b is not None:
            y = kernel("add", y.dtype)(y, b.reshape((-1,) + (1,) * (y.ndim - 2)))
        return y

    def backward(self, g):
        need = self.needs_input_grad
        x, w, groups = self.x, self.w, self.groups
        dx = self._conv(g, w, None, groups, *self.args) if need[0] else None
        dw = self._grads(x, g, w, groups, *self.args, False, True, False)[1] if need[1] else None
        db = kernel("sum", g.dtype)(g, tuple(i for i in range(g.ndim) if i != 1), False) \
            if len(need) > 2 and need[2] else None
        return dx, dw, db

    _conv = staticmethod(conv_forward)
    _grads = staticmethod(conv_backward)


class ConvTranspose1dFunction(ConvTranspose2dFunction):
    """`ConvTranspose2dFunction` on (N, C, L) as (N, C, 1, L)."""
    name = "conv_transpose1d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                size=(1, 1)):
        return super().forward(x[:, :, None, :], w[:, :, None, :], b, stride, padding, dilation,
                               groups, size)[:, :, 0, :]

    def backward(self, g):
        dx, dw, db = super().backward(g[:, :, None, :])
        return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db


class ConvTranspose3dFunction(ConvTranspose2dFunction):
    """The transposed 3-d convolution, on `conv3d_arrays` and `conv3d_grads`."""
    name = "conv_transpose3d"
    _conv = staticmethod(conv3d_arrays)
    _grads = staticmethod(conv3d_grads)


def _conv_transpose(fn, dims: int, input: Any, weight: Any, bias: Any, stride: Any,
                    padding: Any, output_padding: Any, groups: Any, dilation: Any,
                    op: str) -> Tensor:
    x, w = as_tensor(input, op=op), as_tensor(weight, op=op)
    check_dtypes(op, x, w, None if bias is None else as_tensor(bias, op=op))
    if w.ndim != dims + 2:
        raise ShapeError(f"{op}: weight must be {dims + 2}-d (in_channels, out_channels / groups, "
                         f"*kernel_size), got shape {w.shape}")
    x, unbatched = batched(x, dims, op)
    groups = check_groups(groups, w.shape[0], w.shape[0], op)
    if x.shape[1] != w.shape[0]:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of "
                         f"shape {w.shape} expects {w.shape[0]}")
    if isinstance(padding, str):
        raise ArgumentError(f"{op}: padding must be an int or a tuple of {dims} ints, got "
                            f"{padding!r}")
    stride_ = ntuple(stride, dims, "stride", op, 1)
    padding_ = ntuple(padding, dims, "padding", op, 0)
    out_pad = ntuple(output_padding, dims, "output_padding", op, 0)
    dilation_ = ntuple(dilation, dims, "dilation", op, 1)
    for o, s, d in zip(out_pad, stride_, dilation_):
        if o >= s and o >= d:
            raise ArgumentError(f"{op}: output_padding {out_pad} must be smaller than either the "
                                f"stride {stride_} or the dilation {dilation_}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, o, d in
                 zip(x.shape[2:], w.shape[2:], stride_, padding_, out_pad, dilation_))
    if min(size) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} with kernel {tuple(w.shape[2:])}, "
                         f"stride {stride_}, padding {padding_} and dilation {dilation_} gives an "
                         f"empty output of size {size}")
    if dims == 1:
        stride_, padding_, dilation_, size = ((1,) + stride_, (0,) + padding_, (1,) + dilation_,
                                              (1,) + size)
    kw = {"stride": stride_, "padding": padding_, "dilation": dilation_, "groups": groups,
          "size": size}
    if bias is None:
        y = fn.apply(x, w, **kw)
    else:
        b = as_tensor(bias, op=op)
        if b.shape != (w.shape[1] * groups,):
            raise ShapeError(f"{op}: bias of shape {b.shape} does not fit weight of shape "
                             f"{w.shape} with groups={groups}: expected ({w.shape[1] * groups},)")
        y = fn.apply(x, w, b, **kw)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 2-d convolution of input (N, Cin, H, W) with weight
    (Cin, Cout / groups, KH, KW); ``output_padding`` adds to one side of the output (to pick
    among the sizes a strided convolution maps to the same size).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.conv_transpose2d(mnp.ones((1, 4, 5, 5)), mnp.ones((4, 2, 3, 3)), stride=2,
    ...                    padding=1, output_padding=1).shape
    (1, 2, 10, 10)
    """
    return _conv_transpose(ConvTranspose2dFunction, 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, "conv_transpose2d")


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 1-d convolution of input (N, Cin, L) with weight (Cin, Cout / groups, K);
    arguments as `conv_transpose2d`."""
    return _conv_transpose(ConvTranspose1dFunction, 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, "conv_transpose1d")


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 3-d convolution of input (N, Cin, D, H, W) with weight
    (Cin, Cout / groups, KD, KH, KW); arguments as `conv_transpose2d` (ints or triples).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.conv_transpose3d(mnp.ones((1, 2, 2, 3, 3)), mnp.ones((2, 4, 2, 2, 2)), stride=2).shape
    (1, 4, 4, 6, 6)
    """
    return _conv_transpose(ConvTranspose3dFunction, 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation, "conv_transpose3d")


class _ConvTransposeNd(_ConvNd):
    transposed = True
    _functional: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None):
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ArgumentError(f"{name}: only padding_mode 'zeros' is supported, got "
                                f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ArgumentError(f"{name}: padding must be an int or a tuple of {self.dims} ints, "
                                f"got {padding!r}")
        self.output_padding = ntuple(output_padding, self.dims, "output_padding", name, 0)
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, device, dtype)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output padding that gives ``output_size`` (PyTorch's rule), or the layer's."""
        if output_size is None:
            return self.output_padding
        name, n = type(self).__name__, self.dims
        size = ntuple(output_size, n if isinstance(output_size, (int, np.integer))
                      else len(output_size), "output_size", name, 0)
        if len(size) == input.ndim:        # (N, C, *spatial) or (C, *spatial) given
            size = size[input.ndim - n:]
        if len(size) != n:
            raise ArgumentError(f"{name}: output_size must have {n} or {input.ndim} elements, "
                                f"got {output_size!r}")
        out = []
        for i, want in enumerate(size):
            least = ((input.shape[i - n] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not least <= want < least + self.stride[i]:
                raise ShapeError(f"{name}: output_size {tuple(size)} is not reachable from input "
                                 f"of shape {input.shape}: dimension {i} must be in "
                                 f"[{least}, {least + self.stride[i] - 1}]")
            out.append(want - least)
        return tuple(out)

    def forward(self, input: Any, output_size: Any = None) -> Tensor:
        input = self._input(input)
        self._check(input)
        return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding,
                                      self._output_padding(input, output_size), self.groups,
                                      self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution over (N, C, H, W) (or unbatched (C, H, W)); weight
    (in_channels, out_channels / groups, KH, KW); ``forward(input, output_size=None)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)(mnp.zeros((1, 4, 5, 5)),
    ...                                                  output_size=(10, 10)).shape
    (1, 2, 10, 10)
    """
    dims = 2
    _functional = staticmethod(conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution over (N, C, L) (or unbatched (C, L)); weight
    (in_channels, out_channels / groups, K)."""
    dims = 1
    _functional = staticmethod(conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-d convolution over (N, C, D, H, W) (or unbatched (C, D, H, W)); weight
    (in_channels, out_channels / groups, KD, KH, KW)."""
    dims = 3
    _functional = staticmethod(conv_transpose3d)
