"""The linear family: `Linear` (alias `Dense`), `Identity`, the `LinearFunction` node
``y = x @ w.T + b`` (``addmm`` or ``gemm``, and ``sum`` kernels) and `linear`, its functional
form. `_Weighted` is the base of `Linear` and the convolutions."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import Function, ShapeError, Tensor, as_tensor, get_default_dtype
from mnp.core.dispatch import kernel

from . import init
from ._util import check_dtypes
from .module import Module
from .parameter import Parameter

#: the family's own ``numpy`` reference kernels (it runs on core's ``addmm``, ``gemm``, ``sum``)
KERNELS: dict = {}


def same_float(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays cast to one floating dtype (the widest float among them)."""
    dt = None
    for a in arrays:
        if a is not None and a.dtype.kind == "f":
            dt = a.dtype if dt is None else np.promote_types(dt, a.dtype)
    dt = np.dtype(np.float32) if dt is None else dt
    return tuple(a if a is None or a.dtype == dt else a.astype(dt) for a in arrays)


class LinearFunction(Function):
    """``y = x @ w.T + b`` for x (..., in), w (out, in), b (out,) or None."""
    name = "linear"

    def forward(self, x, w, b=None):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w = x, w
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        if b is None:
            y = kernel("gemm", x.dtype)(x2, w, False, True)
        else:                                     # the bias added in the product's pass
            y = kernel("addmm", x.dtype)(b, x2, w, False, True)
        return y if x.ndim == 2 else y.reshape(*x.shape[:-1], w.shape[0])

    def backward(self, g):
        x, w = self.x, self.w
        need = self.needs_input_grad
        gemm = kernel("gemm", g.dtype)
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = gemm(g2, w, False, False)
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if need[1]:
            gw = gemm(g2, x if x.ndim == 2 else x.reshape(-1, x.shape[-1]), True, False)
        if len(need) > 2 and need[2]:
            gb = kernel("sum", g2.dtype)(g2, (0,), False)
        return gx, gw, gb


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """``input @ weight.T + bias`` for input (..., in_features) and weight (out, in).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.linear(mnp.ones((2, 3)), mnp.ones((4, 3)), mnp.zeros(4)).shape
    (2, 4)
    """
    x, w = as_tensor(input, op="linear"), as_tensor(weight, op="linear")
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} and weight of shape {w.shape} do not "
                         f"fit: expected input (..., {w.shape[-1] if w.ndim else '?'}) and a 2-d weight")
    b = None if bias is None else as_tensor(bias, op="linear")
    check_dtypes("linear", x, w, b)
    if b is None:
        return LinearFunction.apply(x, w)
    if b.shape != (w.shape[0],):
        raise ShapeError(f"linear: bias of shape {b.shape} does not fit weight of shape {w.shape}: "
                         f"expected ({w.shape[0]},)")
    return LinearFunction.apply(x, w, b)


class _Weighted(Module):
    """``weight`` of shape (out, in, *kernel) and ``bias`` of shape (out,) or None."""

    def _add_parameters(self, weight_shape: tuple[int, ...], bias: bool) -> None:
        """Register ``weight`` and ``bias`` (or a None ``bias``) in the default dtype, then
        `reset_parameters`."""
        dt = get_default_dtype()
        self.weight = Parameter(np.empty(weight_shape, dt))
        if bias:
            self.bias = Parameter(np.empty(weight_shape[0], dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _input(self, input: Any) -> Tensor:
        """``input`` as a Tensor of the weight's dtype, or a DTypeError naming the layer."""
        x = as_tensor(input, op=type(self).__name__)
        check_dtypes(type(self).__name__, x, self.weight, self.bias)
        return x

    def reset_parameters(self) -> None:
        """kaiming_uniform_ with a=sqrt(5) (U(-1/sqrt(fan_in), 1/sqrt(fan_in))), the bias likewise."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)


class Linear(_Weighted):
    """``y = x @ weight.T + bias``; weight (out_features, in_features), initialised as PyTorch
    does (kaiming_uniform_ with a=sqrt(5): U(-1/sqrt(in), 1/sqrt(in)), the bias likewise).

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Linear(3, 2)(mnp.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._add_parameters((self.out_features, self.in_features), bias)

    def forward(self, input: Any) -> Tensor:
        input = self._input(input)
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise ShapeError(f"Linear: input of shape {shape} does not fit in_features="
                             f"{self.in_features} (weight shape {self.weight.shape}): the last "
                             f"dimension must be {self.in_features}")
        if self.bias is None:
            return LinearFunction.apply(input, self.weight)
        return LinearFunction.apply(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Dense = Linear


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input
