"""Special functions: erf, erfc, erfinv, rsqrt, log2, log10, exp2, logaddexp, logaddexp2,
copysign, lerp and nan_to_num; each backward beside its forward. Integer and bool inputs to
the unary ones compute in the default float dtype, as in PyTorch."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function, _make
from ..dispatch import kernel
from ..errors import DTypeError
from ._util import check_broadcast, float_only_pair, floating_pair, to_tensor, unbroadcast
from .binary import _BinaryOnInputs
from .unary import _OnInput, _OnOutput, _unary

if TYPE_CHECKING:
    from ..tensor import Tensor


class Erf(_OnInput):
    kernel_name = "erf"


class Erfc(_OnInput):
    kernel_name = "erfc"


class Erfinv(_OnOutput):
    kernel_name = "erfinv"


class Rsqrt(_OnOutput):
    kernel_name = "rsqrt"


class Log2(_OnInput):
    kernel_name = "log2"


class Log10(_OnInput):
    kernel_name = "log10"


class Exp2(_OnOutput):
    kernel_name = "exp2"


class Logaddexp(_BinaryOnInputs):
    kernel_name = "logaddexp"


class Logaddexp2(_BinaryOnInputs):
    kernel_name = "logaddexp2"


class Copysign(_BinaryOnInputs):
    kernel_name = "copysign"


class Lerp(Function):
    """``start + weight * (end - start)``; gradients ``g * (1 - weight)``, ``g * weight``
    and ``g * (end - start)``."""

    def forward(self, start, end, weight):
        self.start, self.end, self.weight = start, end, weight
        return kernel("lerp", start.dtype)(start, end, weight)

    def backward(self, g):
        need = self.needs_input_grad
        grads = kernel("lerp_backward", g.dtype)(g, self.start, self.end, self.weight, *need)
        return tuple(unbroadcast(d, t.shape) if d is not None else None
                     for d, t in zip(grads, (self.start, self.end, self.weight)))


class NanToNum(Function):
    """NaN and infinities replaced; the gradient passes where ``x`` is finite."""
    name = "nan_to_num"

    def forward(self, x, nan=0.0, posinf=None, neginf=None):
        self.x = x
        return kernel("nan_to_num", x.dtype)(x, nan, posinf, neginf)

    def backward(self, g):
        return kernel("finite_backward", g.dtype)(g, self.x)


def erf(input: Any) -> Tensor:  # noqa: A002
    """The error function; gradient ``2 / sqrt(pi) * exp(-x**2)``.

    >>> import mnp.core as mnp
    >>> mnp.erf(mnp.tensor([0.0, 10.0])).tolist()
    [0.0, 1.0]
    """
    return _unary(Erf, input, "erf")


def erfc(input: Any) -> Tensor:  # noqa: A002
    """``1 - erf(x)``, accurate where erf is near 1.

    >>> import mnp.core as mnp
    >>> mnp.erfc(mnp.tensor([0.0, 5.0], dtype=mnp.float64)).tolist()
    [1.0, 1.5374597944280351e-12]
    """
    return _unary(Erfc, input, "erfc")


def erfinv(input: Any) -> Tensor:  # noqa: A002
    """The inverse of `erf` on ``[-1, 1]`` (``+-inf`` at ``+-1``, NaN outside).

    >>> import mnp.core as mnp
    >>> mnp.erfinv(mnp.tensor([0.0, 1.0, 2.0])).tolist()
    [0.0, inf, nan]
    """
    return _unary(Erfinv, input, "erfinv")


def rsqrt(input: Any) -> Tensor:  # noqa: A002
    """``1 / sqrt(x)``.

    >>> import mnp.core as mnp
    >>> mnp.rsqrt(mnp.tensor([4.0, 0.0])).tolist()
    [0.5, inf]
    """
    return _unary(Rsqrt, input, "rsqrt")


def log2(input: Any) -> Tensor:  # noqa: A002
    """Base-2 logarithm.

    >>> import mnp.core as mnp
    >>> mnp.log2(mnp.tensor([8, 1])).tolist()
    [3.0, 0.0]
    """
    return _unary(Log2, input, "log2")


def log10(input: Any) -> Tensor:  # noqa: A002
    """Base-10 logarithm.

    >>> import mnp.core as mnp
    >>> mnp.log10(mnp.tensor([100.0])).tolist()
    [2.0]
    """
    return _unary(Log10, input, "log10")


def exp2(input: Any) -> Tensor:  # noqa: A002
    """``2 ** x``.

    >>> import mnp.core as mnp
    >>> mnp.exp2(mnp.tensor([3, -1])).tolist()
    [8.0, 0.5]
    """
    return _unary(Exp2, input, "exp2")


def logaddexp(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``log(exp(a) + exp(b))`` without overflow, with broadcasting (floating operands).

    >>> import mnp.core as mnp
    >>> mnp.logaddexp(mnp.tensor([1000.0]), mnp.tensor([1000.0])).tolist()
    [1000.6931762695312]
    """
    return Logaddexp.apply(*float_only_pair(input, other, "logaddexp"))


def logaddexp2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``log2(2**a + 2**b)`` without overflow, with broadcasting (floating operands).

    >>> import mnp.core as mnp
    >>> mnp.logaddexp2(mnp.tensor([3.0]), mnp.tensor([3.0])).tolist()
    [4.0]
    """
    return Logaddexp2.apply(*float_only_pair(input, other, "logaddexp2"))


def copysign(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``|a|`` with the sign of ``b`` (``-0.0`` counts as negative), a floating result;
    gradient ``g * sign`` in ``a`` (0 where ``a == 0``), zero in ``b``.

    >>> import mnp.core as mnp
    >>> mnp.copysign(mnp.tensor([1, 2]), -0.0).tolist()
    [-1.0, -2.0]
    """
    return Copysign.apply(*floating_pair(input, other, "copysign"))


def lerp(input: Any, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``, with broadcasting; ``weight`` a number or a tensor.
    ``input`` and ``end`` are floating tensors of one dtype, as in PyTorch.

    >>> import mnp.core as mnp
    >>> mnp.lerp(mnp.tensor([0.0, 1.0]), mnp.tensor([10.0, 3.0]), 0.25).tolist()
    [2.5, 1.5]
    """
    start = to_tensor(input, op="lerp")
    end = to_tensor(end, start, op="lerp")
    weight = to_tensor(weight, start, op="lerp")
    for what, t in (("input", start), ("end", end), ("weight", weight)):
        if t.data.dtype.kind != "f":
            raise DTypeError(f"lerp: expected floating tensors, got {what} of dtype {t.data.dtype.name}")
    if end.data.dtype != start.data.dtype:
        raise DTypeError(f"lerp: end has dtype {end.data.dtype.name}, input {start.data.dtype.name}; "
                         f"they must match")
    if weight.data.dtype != start.data.dtype:
        if weight.data.ndim:
            raise DTypeError(f"lerp: weight has dtype {weight.data.dtype.name}, input "
                             f"{start.data.dtype.name}; they must match")
        weight = _make(weight.data.astype(start.data.dtype), False, None) \
            if not weight.requires_grad else weight.astype(start.data.dtype)
    check_broadcast("lerp", start.data, end.data)
    check_broadcast("lerp", start.data, weight.data)
    check_broadcast("lerp", end.data, weight.data)
    return Lerp.apply(start, end, weight)


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (default: the
    dtype's largest and lowest finite values); the gradient passes where ``x`` is finite.

    >>> import mnp.core as mnp
    >>> mnp.nan_to_num(mnp.tensor([float("nan"), float("inf"), 1.0]), posinf=9.0).tolist()
    [0.0, 9.0, 1.0]
    """
    x = to_tensor(input, op="nan_to_num")
    if x.data.dtype.kind != "f":
        return _make(x.data.copy(), False, None)
    return NanToNum.apply(x, nan=float(nan), posinf=None if posinf is None else float(posinf),
                          neginf=None if neginf is None else float(neginf))


class SpecialMethods:
    """`Tensor`'s methods of this family: ``x.erf()`` is ``erf(x)``, and so on."""
    __slots__ = ()
    erf = erf
    erfc = erfc
    erfinv = erfinv
    rsqrt = rsqrt
    log2 = log2
    log10 = log10
    exp2 = exp2
    logaddexp = logaddexp
    logaddexp2 = logaddexp2
    copysign = copysign
    lerp = lerp
    nan_to_num = nan_to_num


__all__ = ["erf", "erfc", "erfinv", "rsqrt", "log2", "log10", "exp2", "logaddexp", "logaddexp2",
           "copysign", "lerp", "nan_to_num"]
