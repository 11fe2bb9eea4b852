"""Rounding and integer-style division: floor, ceil, round, trunc (alias fix), frac,
remainder (``%``), fmod and floor_divide (``//``); each backward beside its forward.

Integer tensors round to themselves (a copy, same dtype); bool tensors are refused, as in
PyTorch. The rounding functions are steps: their gradient is zero.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function, _make
from ..dispatch import kernel
from ..errors import AutogradError, DTypeError
from ._util import to_tensor
from .binary import _BinaryOnInputs, _Division, integer_pair

if TYPE_CHECKING:
    from ..tensor import Tensor


class _Step(Function):
    """A piecewise-constant function of its input: zero gradient."""
    kernel_name = ""

    def forward(self, x):
        return kernel(self.kernel_name, x.dtype)(x)

    def backward(self, g):
        return np.zeros_like(g)


class Floor(_Step):
    kernel_name = "floor"


class Ceil(_Step):
    kernel_name = "ceil"


class Trunc(_Step):
    kernel_name = "trunc"


class Round(_Step):
    kernel_name = "round"

    def forward(self, x, decimals=0):
        return kernel("round", x.dtype)(x, decimals)


class Frac(Function):
    """``x - trunc(x)``: gradient ``g``."""

    def forward(self, x):
        return kernel("frac", x.dtype)(x)

    def backward(self, g):
        return g


class Remainder(_Division, _BinaryOnInputs):
    """``a - b * floor(a / b)``: gradient ``g`` in ``a`` and ``-g * floor(a / b)`` in ``b``."""
    kernel_name = "remainder"


class Fmod(_Division, _BinaryOnInputs):
    """``a - b * trunc(a / b)``: gradient ``g`` in ``a`` and ``-g * trunc(a / b)`` in ``b``."""
    kernel_name = "fmod"


class FloorDivide(_Division):
    """``a // b``. PyTorch defines no derivative for it; backward says so."""
    name = "floor_divide"
    kernel_name = "floor_divide"

    def backward(self, g):
        raise AutogradError("floor_divide: the derivative is not defined (as in PyTorch); use "
                            "div(a, b, rounding_mode='floor'), whose gradient is zero")


def _step(cls: type[_Step], x: Any, op: str, **kw: Any) -> Tensor:
    x = to_tensor(x, op=op)
    kind = x.data.dtype.kind
    if kind == "b":
        raise DTypeError(f"{op}: not defined for bool tensors; convert to an integer or "
                         f"floating dtype first")
    if kind in "iu":
        if kw.get("decimals"):
            raise DTypeError(f"round: decimals={kw['decimals']} needs a floating tensor, got "
                             f"{x.data.dtype.name}")
        return _make(x.data.copy(), False, None)
    return cls.apply(x, **kw)


def floor(input: Any) -> Tensor:  # noqa: A002
    """The largest integer ``<= x``, in ``x``'s dtype; zero gradient.

    >>> import mnp.core as mnp
    >>> mnp.floor(mnp.tensor([-1.5, 1.5])).tolist()
    [-2.0, 1.0]
    """
    return _step(Floor, input, "floor")


def ceil(input: Any) -> Tensor:  # noqa: A002
    """The smallest integer ``>= x``, in ``x``'s dtype; zero gradient.

    >>> import mnp.core as mnp
    >>> mnp.ceil(mnp.tensor([-1.5, 1.5])).tolist()
    [-1.0, 2.0]
    """
    return _step(Ceil, input, "ceil")


def trunc(input: Any) -> Tensor:  # noqa: A002
    """``x`` rounded toward zero, in ``x``'s dtype; zero gradient (alias `fix`).

    >>> import mnp.core as mnp
    >>> mnp.trunc(mnp.tensor([-1.5, 1.5])).tolist()
    [-1.0, 1.0]
    """
    return _step(Trunc, input, "trunc")


fix = trunc


def round(input: Any, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """``x`` rounded half to even at ``decimals`` places (negative: left of the point), in
    ``x``'s dtype; zero gradient.

    >>> import mnp.core as mnp
    >>> mnp.round(mnp.tensor([0.5, 1.5, 2.5, -0.5])).tolist()
    [0.0, 2.0, 2.0, -0.0]
    >>> mnp.round(mnp.tensor([1.25, 1234.5], dtype=mnp.float64), decimals=-1).tolist()
    [0.0, 1230.0]
    """
    return _step(Round, input, "round", decimals=int(decimals))


def frac(input: Any) -> Tensor:  # noqa: A002
    """The fractional part ``x - trunc(x)`` (sign of ``x``); floating tensors only.

    >>> import mnp.core as mnp
    >>> mnp.frac(mnp.tensor([-1.25, 2.5])).tolist()
    [-0.25, 0.5]
    """
    x = to_tensor(input, op="frac")
    if x.data.dtype.kind != "f":
        raise DTypeError(f"frac: expected a floating point tensor, got {x.data.dtype.name}")
    return Frac.apply(x)


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Python's ``%``: ``a - b * floor(a / b)``, with the sign of ``b``; gradient ``g`` in
    ``a`` and ``-g * floor(a / b)`` in ``b``. Integer division by zero is an error.

    >>> import mnp.core as mnp
    >>> mnp.remainder(mnp.tensor([-7, 7]), 3).tolist()
    [2, 1]
    """
    return Remainder.apply(*integer_pair(input, other, "remainder"))


def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    """C's ``fmod``: ``a - b * trunc(a / b)``, with the sign of ``a``; gradient ``g`` in
    ``a`` and ``-g * trunc(a / b)`` in ``b``. Integer division by zero is an error.

    >>> import mnp.core as mnp
    >>> mnp.fmod(mnp.tensor([-7, 7]), 3).tolist()
    [-1, 1]
    """
    return Fmod.apply(*integer_pair(input, other, "fmod"))


def floor_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a // b``: ``floor(a / b)`` in the promoted dtype (not differentiable, as in PyTorch).

    >>> import mnp.core as mnp
    >>> mnp.floor_divide(mnp.tensor([-7, 7]), 2).tolist()
    [-4, 3]
    """
    return FloorDivide.apply(*integer_pair(input, other, "floor_divide"))


class RoundingMethods:
    """`Tensor`'s methods of this family: ``x.floor()`` is ``floor(x)``, and so on."""
    __slots__ = ()
    floor = floor
    ceil = ceil
    trunc = trunc
    fix = fix
    round = round
    frac = frac
    remainder = remainder
    fmod = fmod
    floor_divide = floor_divide


__all__ = ["floor", "ceil", "trunc", "fix", "round", "frac", "remainder", "fmod", "floor_divide"]
