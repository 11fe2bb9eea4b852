"""Trigonometric and hyperbolic functions beyond sin, cos and tanh: tan, asin, acos, atan,
atan2, sinh, cosh, asinh, acosh, atanh and hypot (numpy's ``arc*`` spellings as aliases, as
PyTorch has them). Integer and bool inputs compute in the default float dtype."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._util import float_only_pair, floating_pair
from .binary import _BinaryOnInputs
from .unary import _OnInput, _OnOutput, _unary

if TYPE_CHECKING:
    from ..tensor import Tensor


class Tan(_OnOutput):
    kernel_name = "tan"


class Asin(_OnInput):
    kernel_name = "asin"


class Acos(_OnInput):
    kernel_name = "acos"


class Atan(_OnInput):
    kernel_name = "atan"


class Sinh(_OnInput):
    kernel_name = "sinh"


class Cosh(_OnInput):
    kernel_name = "cosh"


class Asinh(_OnInput):
    kernel_name = "asinh"


class Acosh(_OnInput):
    kernel_name = "acosh"


class Atanh(_OnInput):
    kernel_name = "atanh"


class Atan2(_BinaryOnInputs):
    kernel_name = "atan2"


class Hypot(_BinaryOnInputs):
    kernel_name = "hypot"


def tan(input: Any) -> Tensor:  # noqa: A002
    """Tangent (radians); gradient ``1 + tan(x)**2``.

    >>> import mnp.core as mnp
    >>> mnp.tan(mnp.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(Tan, input, "tan")


def asin(input: Any) -> Tensor:  # noqa: A002
    """Inverse sine, in ``[-pi/2, pi/2]`` (NaN outside ``[-1, 1]``).

    >>> import mnp.core as mnp
    >>> mnp.asin(mnp.tensor([0.0, 2.0])).tolist()
    [0.0, nan]
    """
    return _unary(Asin, input, "asin")


def acos(input: Any) -> Tensor:  # noqa: A002
    """Inverse cosine, in ``[0, pi]`` (NaN outside ``[-1, 1]``).

    >>> import mnp.core as mnp
    >>> mnp.acos(mnp.tensor([1.0])).tolist()
    [0.0]
    """
    return _unary(Acos, input, "acos")


def atan(input: Any) -> Tensor:  # noqa: A002
    """Inverse tangent, in ``(-pi/2, pi/2)``.

    >>> import mnp.core as mnp
    >>> mnp.atan(mnp.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(Atan, input, "atan")


def sinh(input: Any) -> Tensor:  # noqa: A002
    """Hyperbolic sine.

    >>> import mnp.core as mnp
    >>> mnp.sinh(mnp.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(Sinh, input, "sinh")


def cosh(input: Any) -> Tensor:  # noqa: A002
    """Hyperbolic cosine.

    >>> import mnp.core as mnp
    >>> mnp.cosh(mnp.tensor([0.0])).tolist()
    [1.0]
    """
    return _unary(Cosh, input, "cosh")


def asinh(input: Any) -> Tensor:  # noqa: A002
    """Inverse hyperbolic sine.

    >>> import mnp.core as mnp
    >>> mnp.asinh(mnp.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(Asinh, input, "asinh")


def acosh(input: Any) -> Tensor:  # noqa: A002
    """Inverse hyperbolic cosine (NaN below 1; infinite gradient at 1).

    >>> import mnp.core as mnp
    >>> mnp.acosh(mnp.tensor([1.0])).tolist()
    [0.0]
    """
    return _unary(Acosh, input, "acosh")


def atanh(input: Any) -> Tensor:  # noqa: A002
    """Inverse hyperbolic tangent (``+-inf`` at ``+-1``, NaN outside).

    >>> import mnp.core as mnp
    >>> mnp.atanh(mnp.tensor([0.0, 1.0])).tolist()
    [0.0, inf]
    """
    return _unary(Atanh, input, "atanh")


def atan2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The angle of the point ``(other, input)``, in ``[-pi, pi]``, with broadcasting;
    the gradient at the origin is 0, as in PyTorch (alias `arctan2`).

    >>> import mnp.core as mnp
    >>> mnp.atan2(mnp.tensor([0.0, 1.0]), mnp.tensor([1.0, 0.0])).tolist()
    [0.0, 1.5707963705062866]
    """
    return Atan2.apply(*floating_pair(input, other, "atan2"))


def hypot(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``sqrt(a**2 + b**2)`` without overflow, with broadcasting (floating operands).

    >>> import mnp.core as mnp
    >>> mnp.hypot(mnp.tensor([3.0]), mnp.tensor([4.0])).tolist()
    [5.0]
    """
    return Hypot.apply(*float_only_pair(input, other, "hypot"))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh


class TrigMethods:
    """`Tensor`'s methods of this family: ``x.tan()`` is ``tan(x)``, and so on."""
    __slots__ = ()
    tan = tan
    asin = arcsin = asin
    acos = arccos = acos
    atan = arctan = atan
    sinh = sinh
    cosh = cosh
    asinh = arcsinh = asinh
    acosh = arccosh = acosh
    atanh = arctanh = atanh
    atan2 = arctan2 = atan2
    hypot = hypot


__all__ = ["tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
           "hypot", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh"]
