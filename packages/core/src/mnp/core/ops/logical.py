"""Predicates (isnan, isinf, isfinite, isclose, allclose), logical ops (bool results) and
bitwise ops on integer and bool tensors, with the operators ``& | ^ ~ << >>``. None of them
is differentiable: the results never require grad, as comparisons."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import _make
from ..dispatch import kernel
from ..errors import ArgumentError, DTypeError
from ._util import check_broadcast, pair, promote, result_dtype, to_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor


def _result(data: np.ndarray) -> Tensor:
    return _make(np.asarray(data), False, None)


def _predicate(name: str, x: Any) -> Tensor:
    x = to_tensor(x, op=name)
    if x.data.dtype.kind != "f":            # integers and bools are always finite numbers
        return _result(np.full(x.shape, name == "isfinite"))
    return _result(kernel(name, x.data.dtype)(x.data))


def isnan(input: Any) -> Tensor:  # noqa: A002
    """True where ``x`` is NaN (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.isnan(mnp.tensor([1.0, float("nan")])).tolist()
    [False, True]
    """
    return _predicate("isnan", input)


def isinf(input: Any) -> Tensor:  # noqa: A002
    """True where ``x`` is +inf or -inf (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.isinf(mnp.tensor([1.0, float("-inf")])).tolist()
    [False, True]
    """
    return _predicate("isinf", input)


def isfinite(input: Any) -> Tensor:  # noqa: A002
    """True where ``x`` is neither NaN nor infinite (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.isfinite(mnp.tensor([1.0, float("inf"), float("nan")])).tolist()
    [True, False, False]
    """
    return _predicate("isfinite", input)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """``|a - b| <= atol + rtol * |b|`` elementwise, with broadcasting; infinities are close
    only to themselves, NaN to NaN only with ``equal_nan``. Both operands have one dtype, as
    in PyTorch.

    >>> import mnp.core as mnp
    >>> mnp.isclose(mnp.tensor([1.0, 1.1]), mnp.tensor([1.0 + 1e-7, 1.0])).tolist()
    [True, False]
    """
    a, b = pair(input, other, "isclose")
    if a.data.dtype != b.data.dtype:
        raise DTypeError(f"isclose: the operands have dtypes {a.data.dtype.name} and "
                         f"{b.data.dtype.name}; they must match")
    if rtol < 0 or atol < 0:
        raise ArgumentError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    check_broadcast("isclose", a.data, b.data)
    return _result(kernel("isclose", a.data.dtype)(a.data, b.data, float(rtol), float(atol),
                                                   bool(equal_nan)))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether every element is `isclose` (a Python bool).

    >>> import mnp.core as mnp
    >>> mnp.allclose(mnp.tensor([1.0, 2.0]), mnp.tensor([1.0, 2.0 + 1e-6]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


# -- logical --------------------------------------------------------------------------------
def _logical(name: str, a: Any, b: Any) -> Tensor:
    a, b = pair(a, b, name)
    check_broadcast(name, a.data, b.data)
    return _result(kernel(name, a.data.dtype)(a.data, b.data))


def logical_and(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a and b`` elementwise, nonzero as true (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.logical_and(mnp.tensor([0.0, 2.0]), mnp.tensor([1, 1])).tolist()
    [False, True]
    """
    return _logical("logical_and", input, other)


def logical_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a or b`` elementwise, nonzero as true (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.logical_or(mnp.tensor([0, 0]), mnp.tensor([0, 3])).tolist()
    [False, True]
    """
    return _logical("logical_or", input, other)


def logical_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Exactly one of ``a`` and ``b`` nonzero, elementwise (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.logical_xor(mnp.tensor([1, 1]), mnp.tensor([0, 3])).tolist()
    [True, False]
    """
    return _logical("logical_xor", input, other)


def logical_not(input: Any) -> Tensor:  # noqa: A002
    """``x == 0`` (bool, no gradient).

    >>> import mnp.core as mnp
    >>> mnp.logical_not(mnp.tensor([0.0, 2.0])).tolist()
    [True, False]
    """
    x = to_tensor(input, op="logical_not")
    return _result(kernel("logical_not", x.data.dtype)(x.data))


# -- bitwise --------------------------------------------------------------------------------
def _integral(name: str, *ts: Tensor) -> None:
    for t in ts:
        if t.data.dtype.kind not in "biu":
            raise DTypeError(f"{name}: defined for integer and bool tensors only, got "
                             f"{t.data.dtype.name}")


def _bitwise(name: str, a: Any, b: Any) -> Tensor:
    a, b = pair(a, b, name)
    _integral(name, a, b)
    check_broadcast(name, a.data, b.data)
    x, y = promote(a.data, b.data)
    return _result(kernel(name, x.dtype)(x, y))


def bitwise_and(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a & b`` on integer and bool tensors.

    >>> import mnp.core as mnp
    >>> mnp.bitwise_and(mnp.tensor([12, 10]), 6).tolist()
    [4, 2]
    """
    return _bitwise("bitwise_and", input, other)


def bitwise_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a | b`` on integer and bool tensors.

    >>> import mnp.core as mnp
    >>> mnp.bitwise_or(mnp.tensor([12, 10]), 6).tolist()
    [14, 14]
    """
    return _bitwise("bitwise_or", input, other)


def bitwise_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a ^ b`` on integer and bool tensors.

    >>> import mnp.core as mnp
    >>> mnp.bitwise_xor(mnp.tensor([True, False]), True).tolist()
    [False, True]
    """
    return _bitwise("bitwise_xor", input, other)


def bitwise_not(input: Any) -> Tensor:  # noqa: A002
    """``~x``: logical not of a bool tensor, two's complement not of an integer one.

    >>> import mnp.core as mnp
    >>> mnp.bitwise_not(mnp.tensor([0, -3])).tolist()
    [-1, 2]
    """
    x = to_tensor(input, op="bitwise_not")
    _integral("bitwise_not", x)
    return _result(kernel("bitwise_not", x.data.dtype)(x.data))


def _shift(name: str, a: Any, b: Any) -> Tensor:
    a, b = pair(a, b, name)
    _integral(name, a, b)
    check_broadcast(name, a.data, b.data)
    dt = result_dtype(a.data, b.data)
    if dt.kind == "b":
        raise DTypeError(f"{name}: not defined for two bool operands; convert to an integer dtype")
    return _result(kernel(name, dt)(a.data.astype(dt, copy=False), b.data.astype(dt, copy=False)))


def bitwise_left_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a << b`` on integer tensors (0 for a negative shift or one past the bit width).

    >>> import mnp.core as mnp
    >>> mnp.bitwise_left_shift(mnp.tensor([1, -3]), 2).tolist()
    [4, -12]
    """
    return _shift("bitwise_left_shift", input, other)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:  # noqa: A002
    """``a >> b`` on integer tensors, arithmetic (the sign fills past the bit width).

    >>> import mnp.core as mnp
    >>> mnp.bitwise_right_shift(mnp.tensor([16, -7]), 1).tolist()
    [8, -4]
    """
    return _shift("bitwise_right_shift", input, other)


class LogicalMethods:
    """`Tensor`'s methods and operators of this family: ``x.isnan()``, ``x & y``, ``~x``..."""
    __slots__ = ()
    isnan = isnan
    isinf = isinf
    isfinite = isfinite
    isclose = isclose
    allclose = allclose
    logical_and = logical_and
    logical_or = logical_or
    logical_xor = logical_xor
    logical_not = logical_not
    bitwise_and = bitwise_and
    bitwise_or = bitwise_or
    bitwise_xor = bitwise_xor
    bitwise_not = bitwise_not
    bitwise_left_shift = bitwise_left_shift
    bitwise_right_shift = bitwise_right_shift

    def __and__(self, other): return bitwise_and(self, other)
    def __rand__(self, other): return bitwise_and(other, self)
    def __or__(self, other): return bitwise_or(self, other)
    def __ror__(self, other): return bitwise_or(other, self)
    def __xor__(self, other): return bitwise_xor(self, other)
    def __rxor__(self, other): return bitwise_xor(other, self)
    def __lshift__(self, other): return bitwise_left_shift(self, other)
    def __rlshift__(self, other): return bitwise_left_shift(other, self)
    def __rshift__(self, other): return bitwise_right_shift(self, other)
    def __rrshift__(self, other): return bitwise_right_shift(other, self)
    def __invert__(self): return bitwise_not(self)


__all__ = ["isnan", "isinf", "isfinite", "isclose", "allclose", "logical_and", "logical_or",
           "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]
