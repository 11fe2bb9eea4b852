"""The activation family: `ReLU`, `Sigmoid`, `Tanh`, `LeakyReLU`, `GELU`, `Softmax`,
`LogSoftmax`, `SiLU`, `Mish`, `ELU`, `SELU`, `CELU`, `Softplus`, `Softsign`, `Hardswish`,
`Hardsigmoid`, `Hardtanh`, `ReLU6`, `LogSigmoid`, `PReLU`, `GLU`, `Softmin`, `Threshold` and
their functional forms.

The smooth ones compose core's differentiable ops; the piecewise ones run on this family's
kernels (``elu``, ``hardtanh``, ``hardswish``, ``hardsigmoid``, ``threshold``,
``log_sigmoid``, each ``*_forward`` and ``*_backward``), whose gradients at the kinks are PyTorch's:
``hardtanh`` (so ``relu6``) passes none at its bounds, ``hardswish`` is 0 at -3 and 1 at 3,
``hardsigmoid`` is 0 at +-3, ``threshold`` passes none at the threshold, the ``elu`` family
takes the exponential branch at 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as _core
from mnp.core import Function, Tensor, as_tensor, get_default_dtype
from mnp.core.dispatch import kernel
from mnp.core.dtypes import to_dtype

from ._util import ArgumentError, ShapeError, check_dtypes
from .module import Module
from .parameter import Parameter


# -- numpy reference kernels ----------------------------------------------------------------
def elu_forward(x: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    """``scale * x`` where ``x > 0``, else ``alpha * scale * (exp(input_scale * x) - 1)``."""
    neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, neg).astype(x.dtype, copy=False)


def elu_backward(g: np.ndarray, x: np.ndarray, alpha: float, scale: float,
                 input_scale: float) -> np.ndarray:
    neg = np.exp(np.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
    d = np.where(x > 0, scale, neg)
    return (g * d).astype(g.dtype, copy=False)


def hardtanh_forward(x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
    return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)


def hardtanh_backward(g: np.ndarray, x: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
    """``g`` strictly inside ``(min_val, max_val)``, else 0."""
    return g * ((x > min_val) & (x < max_val))


def hardswish_forward(x: np.ndarray) -> np.ndarray:
    return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)


def hardswish_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    d = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
    return (g * d).astype(g.dtype, copy=False)


def hardsigmoid_forward(x: np.ndarray) -> np.ndarray:
    return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)


def hardsigmoid_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (g * (((x > -3) & (x < 3)) / 6)).astype(g.dtype, copy=False)


def threshold_forward(x: np.ndarray, threshold: float, value: float) -> np.ndarray:
    return np.where(x > threshold, x, np.asarray(value, x.dtype))


def threshold_backward(g: np.ndarray, x: np.ndarray, threshold: float, value: float) -> np.ndarray:
    return g * (x > threshold)


def log_sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``min(x, 0) - log1p(exp(-|x|))``: no overflow for any ``x``."""
    return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def log_sigmoid_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``g * sigmoid(-x)``, from ``exp(-|x|)`` (no overflow)."""
    e = np.exp(-np.abs(x))
    return (g * np.where(x >= 0, e, 1) / (1 + e)).astype(g.dtype, copy=False)


KERNELS = {f.__name__: f for f in (
    elu_forward, elu_backward, hardtanh_forward, hardtanh_backward, hardswish_forward,
    hardswish_backward, hardsigmoid_forward, hardsigmoid_backward, threshold_forward,
    threshold_backward, log_sigmoid_forward, log_sigmoid_backward)}


# -- the autograd nodes ----------------------------------------------------------------------
class _PiecewiseFunction(Function):
    """The ``<kernel_name>_forward(x, *args)`` kernel; ``<kernel_name>_backward(g, x, *args)``."""
    kernel_name = ""

    def forward(self, x, args=()):
        self.x, self.args = x, args
        return kernel(self.kernel_name + "_forward", x.dtype)(x, *args)

    def backward(self, g):
        return kernel(self.kernel_name + "_backward", g.dtype)(g, self.x, *self.args)


class ELUFunction(_PiecewiseFunction):
    name = kernel_name = "elu"


class HardtanhFunction(_PiecewiseFunction):
    name = kernel_name = "hardtanh"


class HardswishFunction(_PiecewiseFunction):
    name = kernel_name = "hardswish"


class HardsigmoidFunction(_PiecewiseFunction):
    name = kernel_name = "hardsigmoid"


class ThresholdFunction(_PiecewiseFunction):
    name = kernel_name = "threshold"


class LogSigmoidFunction(_PiecewiseFunction):
    name = kernel_name = "log_sigmoid"


def _float(input: Any, op: str) -> Tensor:
    x = as_tensor(input, op=op)
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


def _piecewise(cls: type[_PiecewiseFunction], input: Any, op: str, *args: float) -> Tensor:
    return cls.apply(_float(input, op), args=tuple(float(a) for a in args))


def relu(input: Any, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _core.relu(as_tensor(input, op="relu"))


def sigmoid(input: Any) -> Tensor:
    """``1 / (1 + exp(-input))``, without overflow."""
    return _core.sigmoid(as_tensor(input, op="sigmoid"))


def tanh(input: Any) -> Tensor:
    return _core.tanh(as_tensor(input, op="tanh"))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return _core.leaky_relu(as_tensor(input, op="leaky_relu"), negative_slope)


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate="tanh"`` for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _core.gelu(as_tensor(input, op="gelu"), approximate=approximate)


def softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable softmax along ``dim``."""
    return _core.softmax(as_tensor(input, op="softmax"), axis=dim)


def log_softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable log-softmax along ``dim``."""
    return _core.log_softmax(as_tensor(input, op="log_softmax"), axis=dim)


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _core.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.sigmoid(input)


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.tanh(input)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = float(negative_slope), inplace

    def forward(self, input: Tensor) -> Tensor:
        return _core.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Gaussian error linear unit; ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return _core.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Stable softmax along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return _core.softmax(input, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Stable log-softmax along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return _core.log_softmax(input, axis=self.dim)


# -- the functional forms of the added activations ---------------------------------------------
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def silu(input: Any, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` (swish)."""
    x = _float(input, "silu")
    return x * _core.sigmoid(x)


def mish(input: Any, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    x = _float(input, "mish")
    return x * _core.tanh(_core.softplus(x))


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.elu(mnp.tensor([-1.0, 0.0, 2.0]), alpha=2.0).tolist()
    [-1.26424..., 0.0, 2.0]
    """
    return _piecewise(ELUFunction, input, "elu", alpha, 1.0, 1.0)


def selu(input: Any, inplace: bool = False) -> Tensor:
    """``SELU_SCALE * elu(input, SELU_ALPHA)``, self-normalising."""
    return _piecewise(ELUFunction, input, "selu", SELU_ALPHA, SELU_SCALE, 1.0)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``; ``alpha`` must not be 0."""
    if alpha == 0:
        raise ArgumentError("celu: alpha cannot be 0")
    return _piecewise(ELUFunction, input, "celu", alpha, 1.0, 1.0 / alpha)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, ``x`` itself where ``beta * x > threshold``."""
    return _core.softplus(_float(input, "softplus"), beta, threshold)


def softsign(input: Any) -> Tensor:
    """``input / (1 + |input|)``."""
    x = _float(input, "softsign")
    return x / (_core.abs(x) + 1.0)


def hardswish(input: Any, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return _piecewise(HardswishFunction, input, "hardswish")


def hardsigmoid(input: Any, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _piecewise(HardsigmoidFunction, input, "hardsigmoid")


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clamped into ``[min_val, max_val]``; no gradient at or beyond the bounds."""
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val cannot be greater than max_val, got "
                            f"min_val={min_val}, max_val={max_val}")
    return _piecewise(HardtanhFunction, input, "hardtanh", min_val, max_val)


def relu6(input: Any, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``: ``hardtanh(input, 0, 6)``."""
    return _piecewise(HardtanhFunction, input, "relu6", 0.0, 6.0)


def logsigmoid(input: Any) -> Tensor:
    """``log(sigmoid(input))``, stable for any input."""
    return _piecewise(LogSigmoidFunction, input, "logsigmoid")


def threshold(input: Any, threshold: float, value: float,
              inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    return _piecewise(ThresholdFunction, input, "threshold", threshold, value)


def prelu(input: Any, weight: Any) -> Tensor:
    """``input`` where positive, else ``weight * input``: ``weight`` holds one slope, or one
    per channel (dimension 1 of the input)."""
    x, w = _float(input, "prelu"), as_tensor(weight, op="prelu")
    check_dtypes("prelu", x, w)
    if w.ndim > 1:
        raise ShapeError(f"prelu: weight must be 0-d or 1-d, got shape {w.shape}")
    k = w.numel()
    if k == 1:
        slope = w.reshape(())
    else:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if k != channels:
            raise ShapeError(f"prelu: {k} parameters do not fit input of shape {x.shape} with "
                             f"{channels} channels (dimension 1)")
        slope = w.reshape((k,) + (1,) * (x.ndim - 2))
    return _core.where(x > 0, x, slope * x)


def glu(input: Any, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)``, ``a`` and ``b`` the halves of ``input`` along
    ``dim``."""
    x = _float(input, "glu")
    if x.ndim == 0:
        raise ShapeError("glu: does not support 0-d (scalar) inputs")
    size = x.shape[dim]
    if size % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} of input "
                         f"shape {x.shape} is size {size}")
    a, b = _core.chunk(x, 2, axis=dim)
    return a * _core.sigmoid(b)


def _legacy_dim(ndim: int) -> int:
    """PyTorch's implicit softmax dimension: 0 for 0-d, 1-d and 3-d inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Any, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """``softmax(-input, dim)``; ``dim=None`` picks PyTorch's implicit dimension; ``dtype``
    casts the input first."""
    x = _float(input, "softmin")
    if dtype is not None:
        x = x.astype(to_dtype(dtype, op="softmin"))
    return _core.softmax(-x, axis=_legacy_dim(x.ndim) if dim is None else dim)


# -- the layers of the added activations ------------------------------------------------------
class _Inplace(Module):
    """An activation whose only option is ``inplace`` (accepted; the result is a new tensor)."""
    fn = staticmethod(silu)
    show_inplace = True

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace and self.show_inplace else ""


class SiLU(_Inplace):
    """``x * sigmoid(x)`` elementwise."""
    fn = staticmethod(silu)


class Mish(_Inplace):
    """``x * tanh(softplus(x))`` elementwise."""
    fn = staticmethod(mish)


class SELU(_Inplace):
    """``SELU_SCALE * elu(x, SELU_ALPHA)`` elementwise."""
    fn = staticmethod(selu)


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6`` elementwise."""
    fn = staticmethod(hardswish)
    show_inplace = False


class Hardsigmoid(_Inplace):
    """``relu6(x + 3) / 6`` elementwise."""
    fn = staticmethod(hardsigmoid)
    show_inplace = False


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``.

    >>> from mnp import nn
    >>> nn.ELU(alpha=0.5)
    ELU(alpha=0.5)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        if alpha == 0:
            raise ArgumentError("CELU: alpha cannot be 0")
        super().__init__(alpha, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return celu(input, self.alpha)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """``x / (1 + |x|)`` elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        return softsign(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))`` elementwise, stable."""

    def forward(self, input: Tensor) -> Tensor:
        return logsigmoid(input)


class Hardtanh(Module):
    """``x`` clamped into ``[min_val, max_val]``.

    >>> from mnp import nn
    >>> nn.Hardtanh(-2, 3)
    Hardtanh(min_val=-2, max_val=3)
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ArgumentError(f"{type(self).__name__}: min_val cannot be greater than max_val, "
                                f"got min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)`` elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class GLU(Module):
    """Gated linear unit along ``dim``: ``a * sigmoid(b)`` of the two halves."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim`` (``None``: PyTorch's implicit dimension)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """``x`` where positive, else ``weight * x``, with a learnt slope (``num_parameters=1``)
    or one per channel; the slopes start at ``init``.

    >>> from mnp import nn
    >>> nn.PReLU(3).weight.tolist()
    [0.25, 0.25, 0.25]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        self.num_parameters, self.init = int(num_parameters), float(init)
        if self.num_parameters < 1:
            raise ArgumentError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        dt = get_default_dtype() if dtype is None else to_dtype(dtype, op="PReLU")
        self.weight = Parameter(np.full(self.num_parameters, self.init, dt))

    def reset_parameters(self) -> None:
        self.weight.data[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
