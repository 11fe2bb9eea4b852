"""Unary elementwise ops and activations; each backward beside its forward."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..autograd import Function
from ..dispatch import kernel
from ..errors import ArgumentError, DTypeError
from ..tensorbase import TensorBase
from ._util import as_float, check_broadcast, result_dtype, to_tensor, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


class _Unary(Function):
    kernel_name = ""

    def forward(self, x):
        return kernel(self.kernel_name, x.dtype)(x)


class _KeepsInput(_Unary):
    """A unary op whose backward reads its input, ``self.x``."""
    def forward(self, x):
        self.x = x
        return kernel(self.kernel_name, x.dtype)(x)


class _KeepsOutput(_Unary):
    """A unary op whose backward reads its output, ``self.y``."""
    def forward(self, x):
        self.y = kernel(self.kernel_name, x.dtype)(x)
        return self.y


class _OnInput(_KeepsInput):
    """Backward ``<name>_backward(g, x)``."""

    def backward(self, g):
        return kernel(self.kernel_name + "_backward", g.dtype)(g, self.x)


class _OnOutput(_KeepsOutput):
    """Backward ``<name>_backward(g, y)``."""

    def backward(self, g):
        return kernel(self.kernel_name + "_backward", g.dtype)(g, self.y)


class Neg(_Unary):
    kernel_name = "neg"

    def backward(self, g):
        return kernel("neg", g.dtype)(g)


class Abs(_KeepsInput):
    kernel_name = "abs"

    def backward(self, g):
        return kernel("abs_backward", g.dtype)(g, self.x)


class Sign(_Unary):
    kernel_name = "sign"

    def backward(self, g):
        return np.zeros_like(g)


class Exp(_KeepsOutput):
    kernel_name = "exp"

    def backward(self, g):
        return kernel("mul", g.dtype)(g, self.y)


class Log(_KeepsInput):
    kernel_name = "log"

    def backward(self, g):
        return kernel("log_backward", g.dtype)(g, self.x)


class Log1p(_KeepsInput):
    kernel_name = "log1p"

    def backward(self, g):
        return kernel("log1p_backward", g.dtype)(g, self.x)


class Expm1(_KeepsOutput):
    kernel_name = "expm1"

    def backward(self, g):                  # g * (y + 1), as g * y + g
        return kernel("add", g.dtype)(kernel("mul", g.dtype)(g, self.y), g)


class Sqrt(_KeepsOutput):
    kernel_name = "sqrt"

    def backward(self, g):
        return kernel("sqrt_backward", g.dtype)(g, self.y)


class Sin(_KeepsInput):
    kernel_name = "sin"

    def backward(self, g):
        return kernel("sin_backward", g.dtype)(g, self.x)


class Cos(_KeepsInput):
    kernel_name = "cos"

    def backward(self, g):
        return kernel("cos_backward", g.dtype)(g, self.x)


class Tanh(_KeepsOutput):
    kernel_name = "tanh"

    def backward(self, g):
        return kernel("tanh_backward", g.dtype)(g, self.y)


class Sigmoid(_KeepsOutput):
    kernel_name = "sigmoid"

    def backward(self, g):
        return kernel("sigmoid_backward", g.dtype)(g, self.y)


class ReLU(_KeepsInput):
    kernel_name = "relu"
    name = "relu"

    def backward(self, g):
        return kernel("relu_backward", g.dtype)(g, self.x)


class LeakyReLU(Function):
    name = "leaky_relu"

    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        return kernel("leaky_relu", x.dtype)(x, negative_slope)

    def backward(self, g):
        return kernel("leaky_relu_backward", g.dtype)(g, self.x, self.slope)


class GELU(Function):
    name = "gelu"

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        return kernel("gelu", x.dtype)(x, approximate)

    def backward(self, g):
        return kernel("gelu_backward", g.dtype)(g, self.x, self.approximate)


class Softplus(Function):
    def forward(self, x, beta=1.0, threshold=20.0):
        self.x, self.beta, self.threshold = x, beta, threshold
        return kernel("softplus", x.dtype)(x, beta, threshold)

    def backward(self, g):
        return kernel("softplus_backward", g.dtype)(g, self.x, self.beta, self.threshold)


class Clip(Function):
    def forward(self, x, lo=None, hi=None):
        self.x, self.lo, self.hi = x, lo, hi
        return kernel("clip", x.dtype)(x, lo, hi)

    def backward(self, g):
        return kernel("clip_backward", g.dtype)(g, self.x, self.lo, self.hi)


class ClampTensor(Function):
    """`clip` with tensor bounds (``has`` tells which of min and max are given): PyTorch's
    gradients, ``x`` where ``min <= x <= max``, ``min`` where ``x < min < max``, ``max``
    where ``x > max`` or ``max < min``."""
    name = "clamp"

    def forward(self, x, *bounds, has=(True, True)):
        it = iter(bounds)
        lo, hi = (next(it) if h else None for h in has)
        for b in bounds:
            check_broadcast("clamp", x, b)
        if len(bounds) == 2:
            check_broadcast("clamp", *bounds)
        self.x, self.lo, self.hi = x, lo, hi
        return kernel("clamp_tensor", x.dtype)(x, lo, hi)

    def backward(self, g):
        need = iter(self.needs_input_grad)
        nx = next(need)
        nlo = self.lo is not None and next(need)
        nhi = self.hi is not None and next(need)
        gx, glo, ghi = kernel("clamp_tensor_backward", g.dtype)(g, self.x, self.lo, self.hi,
                                                                nx, nlo, nhi)
        grads = [unbroadcast(gx, self.x.shape) if nx else None]
        if self.lo is not None:
            grads.append(unbroadcast(glo, self.lo.shape) if nlo else None)
        if self.hi is not None:
            grads.append(unbroadcast(ghi, self.hi.shape) if nhi else None)
        return tuple(grads)


class Cast(Function):
    name = "astype"
    numpy_only = "a dtype conversion: data movement"

    def forward(self, x, dtype=None):
        self.src = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.src)


class Clone(Function):
    numpy_only = "a copy: data movement"

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def _unary(cls: type[Function], x: Any, op: str, floating: bool = True, **kw: Any) -> Tensor:
    """``cls`` applied to ``x`` as a tensor, promoted to float first when ``floating``."""
    if not isinstance(x, TensorBase):
        x = to_tensor(x, op=op)
    if floating and x.data.dtype.kind != "f":
        x = as_float(x)
    return cls.apply(x, **kw)


def _elementwise(cls: type[_Unary], doc: str, floating: bool = True) -> Callable[[Any], Tensor]:
    """The function ``cls.kernel_name(x)`` (and so the Tensor method): ``x`` as a tensor,
    integers and bools promoted to the default float dtype when ``floating``, then ``cls``."""
    name = cls.kernel_name

    if floating:
        def op(x: Any) -> Tensor:
            if not isinstance(x, TensorBase):
                x = to_tensor(x, op=name)
            if x.data.dtype.kind != "f":
                x = as_float(x)
            return cls.apply(x)
    else:
        def op(x: Any) -> Tensor:
            if not isinstance(x, TensorBase):
                x = to_tensor(x, op=name)
            return cls.apply(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def neg(x: Any) -> Tensor:
    """``-x`` (not defined for bool tensors)."""
    x = to_tensor(x, op="neg")
    if x.data.dtype.kind == "b":
        raise DTypeError("neg: negating a bool tensor is not supported; use logical not "
                         "or convert to an integer dtype first")
    return Neg.apply(x)


abs = _elementwise(Abs, "``|x|``; the gradient at 0 is 0.", floating=False)  # noqa: A001


def sign(input: Any) -> Tensor:  # noqa: A002
    """-1, 0 or 1 by sign, in ``x``'s dtype (a bool tensor is its own sign); zero gradient
    (alias `sgn`).

    >>> import mnp.core as mnp
    >>> mnp.sgn(mnp.tensor([-2, 0, 5])).tolist()
    [-1, 0, 1]
    """
    x = to_tensor(input, op="sign")
    if x.data.dtype.kind == "b":
        from ..autograd import _make
        return _make(x.data.copy(), False, None)
    return Sign.apply(x)


sgn = sign
exp = _elementwise(Exp, "``e ** x``.")
log = _elementwise(Log, "Natural log (``-inf`` at 0, NaN below; see `safe_log`).")
log1p = _elementwise(Log1p, "``log(1 + x)``, accurate for small ``x``.")
expm1 = _elementwise(Expm1, "``exp(x) - 1``, accurate for small ``x``.")
sqrt = _elementwise(Sqrt, "Square root (NaN below 0).")
sin = _elementwise(Sin, "Sine (radians).")
cos = _elementwise(Cos, "Cosine (radians).")
tanh = _elementwise(Tanh, "Hyperbolic tangent.")
sigmoid = _elementwise(Sigmoid, "``1 / (1 + exp(-x))``, computed without overflow.")
relu = _elementwise(ReLU, "``max(x, 0)``.")


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, else ``negative_slope * x``."""
    return _unary(LeakyReLU, x, "leaky_relu", negative_slope=float(negative_slope))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, ``x * Phi(x)``; ``approximate="tanh"`` for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(GELU, x, "gelu", approximate=approximate)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _unary(Softplus, x, "softplus", beta=float(beta), threshold=float(threshold))


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]`` (alias `clamp`); the gradient passes only inside the range.
    The bounds are numbers or tensors (broadcast with ``x``, and differentiable: PyTorch's
    gradients); where ``min > max`` the result is ``max``.

    >>> import mnp.core as mnp
    >>> mnp.clamp(mnp.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0).tolist()
    [0.0, 0.5, 1.0]
    >>> mnp.clamp(mnp.tensor([1.0, 5.0]), max=mnp.tensor([2.0, 4.0])).tolist()
    [1.0, 4.0]
    """
    if min is None and max is None:
        raise ArgumentError("clip: at least one of min and max must be given")
    if isinstance(min, TensorBase) or isinstance(max, TensorBase):
        return _clamp_tensor(x, min, max)
    bounds_float = any(isinstance(v, float) for v in (min, max))
    return _unary(Clip, x, "clip", floating=bounds_float, lo=min, hi=max)


def _clamp_tensor(x: Any, lo: Any, hi: Any) -> Tensor:
    x = to_tensor(x, op="clamp")
    bounds = [to_tensor(b, x, op="clamp") for b in (lo, hi) if b is not None]
    dt = x.data.dtype
    for b in bounds:
        if b.data.dtype.kind == "b" and dt.kind == "b":
            continue
        dt = result_dtype(np.empty(x.shape, dt), b.data)
    if dt.kind == "b":
        raise DTypeError("clamp: not defined for bool tensors")
    x, *bounds = (t if t.data.dtype == dt else astype(t, dt) for t in (x, *bounds))
    return ClampTensor.apply(x, *bounds, has=(lo is not None, hi is not None))


clamp = clip


def clamp_min(x: Any, min: Any) -> Tensor:  # noqa: A002
    """`clamp` with only a lower bound.

    >>> import mnp.core as mnp
    >>> mnp.clamp_min(mnp.tensor([-1.0, 2.0]), 0.0).tolist()
    [0.0, 2.0]
    """
    return clip(x, min=min)


def clamp_max(x: Any, max: Any) -> Tensor:  # noqa: A002
    """`clamp` with only an upper bound.

    >>> import mnp.core as mnp
    >>> mnp.clamp_max(mnp.tensor([-1.0, 2.0]), 0.0).tolist()
    [-1.0, 0.0]
    """
    return clip(x, max=max)


def astype(x: Any, dtype: Any) -> Tensor:
    """A copy as ``dtype``; differentiable between floating dtypes."""
    from ..dtypes import to_dtype
    x = to_tensor(x, op="astype")
    dt = to_dtype(dtype, "astype")
    if dt.kind != "f" and x.requires_grad:
        from ..autograd import _make
        return _make(x.data.astype(dt), False, None)
    return Cast.apply(x, dtype=dt)


def clone(x: Any) -> Tensor:
    """A copy that stays in the graph."""
    return Clone.apply(to_tensor(x, op="clone"))


class UnaryMethods:
    """`Tensor`'s methods of this family: ``x.exp()`` is ``exp(x)``, and so on."""
    __slots__ = ()
    neg = neg
    abs = abs
    sign = sign
    sgn = sgn
    exp = exp
    log = log
    log1p = log1p
    expm1 = expm1
    sqrt = sqrt
    sin = sin
    cos = cos
    tanh = tanh
    sigmoid = sigmoid
    relu = relu
    leaky_relu = leaky_relu
    gelu = gelu
    softplus = softplus
    clip = clip
    clamp = clamp
    clamp_min = clamp_min
    clamp_max = clamp_max


__all__ = ["neg", "abs", "sign", "sgn", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos",
           "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "softplus", "clip", "clamp",
           "clamp_min", "clamp_max", "astype", "clone"]
