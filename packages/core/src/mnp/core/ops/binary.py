"""Binary elementwise ops with numpy broadcasting; each backward beside its forward."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function, _make
from ..dispatch import kernel
from ..errors import ArgumentError, DTypeError
from ._util import check_broadcast, floating_pair, pair, promote, to_tensor, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


class _Binary(Function):
    """Checks broadcasting, promotes both operands to one dtype, then calls the kernel.
    The promoted operands stay on the node as ``self.a`` and ``self.b`` for the backward."""
    kernel_name = ""

    def forward(self, a, b):
        if a.shape != b.shape:
            check_broadcast(self.op_name(), a, b)
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.a, self.b = a, b
        return kernel(self.kernel_name, a.dtype)(a, b)


class _BinaryOnInputs(_Binary):
    """Backward ``<name>_backward(g, a, b, need_a, need_b)``, then unbroadcast."""

    def backward(self, g):
        ra, rb = self.needs_input_grad
        ga, gb = kernel(self.kernel_name + "_backward", g.dtype)(g, self.a, self.b, ra, rb)
        return (unbroadcast(ga, self.a.shape) if ra else None,
                unbroadcast(gb, self.b.shape) if rb else None)


class Add(_Binary):
    kernel_name = "add"
    saved = ()          # backward reads only the operands' shapes

    def backward(self, g):
        return unbroadcast(g, self.a.shape), unbroadcast(g, self.b.shape)


class Sub(_Binary):
    kernel_name = "sub"
    saved = ()          # backward reads only the operands' shapes

    def backward(self, g):
        return (unbroadcast(g, self.a.shape),
                unbroadcast(kernel("neg", g.dtype)(g), self.b.shape)
                if self.inputs[1].requires_grad else None)


class Mul(_Binary):
    kernel_name = "mul"

    @property
    def saved(self) -> tuple[str, ...]:
        # ``b`` is kept for the gradient of ``a``, and ``a`` for that of ``b``
        return tuple([name for name, t in zip(("b", "a"), self.inputs) if t.requires_grad])

    def backward(self, g):
        a, b = self.inputs
        mul = kernel("mul", g.dtype)
        return (unbroadcast(mul(g, self.b), self.a.shape) if a.requires_grad else None,
                unbroadcast(mul(g, self.a), self.b.shape) if b.requires_grad else None)


class Div(_Binary):
    kernel_name = "div"

    def forward(self, a, b):
        self.out = super().forward(a, b)
        return self.out

    def backward(self, g):
        ra, rb = self.needs_input_grad
        ga, gb = kernel("div_backward", g.dtype)(g, self.b, self.out, ra, rb)
        return (unbroadcast(ga, self.a.shape) if ra else None,
                unbroadcast(gb, self.b.shape) if rb else None)


class Pow(_Binary):
    """``a ** b``, with PyTorch's gradients: in ``a``, ``b * a**(b-1)``, taken as 0 where
    ``b == 0``; in ``b``, ``a**b * log(a)``, taken as 0 where ``a == 0`` and ``b >= 0``. So
    ``a == 0, b < 0`` gives ``-inf`` in ``b`` and a negative ``a`` gives NaN (its log)."""
    kernel_name = "pow"

    def forward(self, a, b):
        self.out = super().forward(a, b)
        return self.out

    def backward(self, g):
        ra, rb = self.needs_input_grad
        ga, gb = kernel("pow_backward", g.dtype)(g, self.a, self.b, self.out, ra, rb)
        return (unbroadcast(ga, self.a.shape) if ra else None,
                unbroadcast(gb, self.b.shape) if rb else None)


class Maximum(_Binary):
    """Elementwise maximum; tied elements share the gradient equally, as in PyTorch."""
    kernel_name = "maximum"

    def backward(self, g):
        ga, gb = kernel(self.kernel_name + "_backward", g.dtype)(g, self.a, self.b)
        return unbroadcast(ga, self.a.shape), unbroadcast(gb, self.b.shape)


class Minimum(Maximum):
    kernel_name = "minimum"


class _Division(_Binary):
    """`_Binary` for the integer-style divisions: integer division by zero is an error."""

    def forward(self, a, b):
        out = super().forward(a, b)
        if self.a.dtype.kind in "iu" and not self.b.all():
            raise ArgumentError(f"{self.op_name()}: integer division by zero (dtype "
                                f"{self.a.dtype.name})")
        return out


class DivRounded(_Division):
    """``a / b`` rounded toward zero (``"trunc"``) or down (``"floor"``); a step function of
    both operands, so its gradient is zero, as in PyTorch."""
    name = "div"

    def forward(self, a, b, rounding_mode="trunc"):
        self.kernel_name = "trunc_divide" if rounding_mode == "trunc" else "floor_divide"
        return super().forward(a, b)

    def backward(self, g):
        ra, rb = self.needs_input_grad
        return (np.zeros(self.a.shape, g.dtype) if ra else None,
                np.zeros(self.b.shape, g.dtype) if rb else None)


def integer_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands of an integer-style division (`pair`); two bools are refused."""
    a, b = pair(a, b, op)
    if a.data.dtype.kind == "b" and b.data.dtype.kind == "b":
        raise DTypeError(f"{op}: not defined for two bool tensors; convert to an integer dtype first")
    return a, b


class Where(Function):
    numpy_only = "selects elements of its operands: data movement"

    def forward(self, cond, a, b):
        check_broadcast("where", cond, a)
        check_broadcast("where", cond, b)
        check_broadcast("where", a, b)
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.cond = cond.astype(bool, copy=False)
        self.shapes = (a.shape, b.shape)
        return np.where(self.cond, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), g.dtype)
        return None, unbroadcast(np.where(self.cond, g, zero), sa), \
            unbroadcast(np.where(self.cond, zero, g), sb)


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting."""
    a, b = pair(a, b, "add")
    return Add.apply(a, b)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting (as in PyTorch, not defined when either side is bool)."""
    bools = [isinstance(v, (bool, np.bool_)) for v in (a, b)]
    a, b = pair(a, b, "sub")
    if any(bools) or a.data.dtype.kind == "b" or b.data.dtype.kind == "b":
        raise DTypeError(f"sub: subtraction with a bool operand is not supported (dtypes "
                         f"{a.data.dtype.name} and {b.data.dtype.name}); use logical ops or "
                         f"convert to an integer dtype first")
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    a, b = pair(a, b, "mul")
    return Mul.apply(a, b)


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """``a / b`` with broadcasting: true division (a float result), or rounded toward zero
    (``rounding_mode="trunc"``) or down (``"floor"``) in the operands' promoted dtype, with a
    zero gradient.

    >>> import mnp.core as mnp
    >>> mnp.div(mnp.tensor([-7, 7]), 2, rounding_mode="trunc").tolist()
    [-3, 3]
    >>> mnp.div(mnp.tensor([-7, 7]), 2, rounding_mode="floor").tolist()
    [-4, 3]
    """
    if rounding_mode is None:
        return Div.apply(*floating_pair(a, b, "div"))
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return DivRounded.apply(*integer_pair(a, b, "div"), rounding_mode=rounding_mode)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001
    """``a ** b`` with broadcasting; differentiable in both.

    >>> import mnp.core as mnp
    >>> (2 ** mnp.tensor([1.0, 3.0])).tolist()
    [2.0, 8.0]
    """
    scalar_b = isinstance(b, (bool, np.bool_))
    a, b = pair(a, b, "pow")
    if a.data.dtype.kind == "b" and b.data.dtype.kind == "b":
        if not scalar_b:
            raise DTypeError("pow: bool tensors to bool tensor powers are not supported; "
                             "convert to an integer dtype first")
        return _make(a.data | ~b.data, False, None)    # x ** True is x, x ** False is True
    if a.data.dtype.kind in "biu" and b.data.dtype.kind in "biu" and (b.data < 0).any():
        raise DTypeError(f"pow: integers to negative integer powers are not allowed (dtypes "
                         f"{a.data.dtype.name} and {b.data.dtype.name}); use a float tensor")
    return Pow.apply(a, b)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties split the gradient."""
    a, b = pair(a, b, "maximum")
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties split the gradient."""
    a, b = pair(a, b, "minimum")
    return Minimum.apply(a, b)


def where(cond: Any, a: Any = None, b: Any = None) -> Any:
    """``a`` where ``cond`` is true, else ``b`` (broadcast); gradient flows to the chosen side.
    ``where(cond)`` alone is ``nonzero(cond, as_tuple=True)``."""
    if a is None or b is None:
        from .gather import where_condition   # gather builds on this module
        return where_condition(cond, a, b)
    cond = to_tensor(cond, op="where")
    a, b = pair(a, b, "where")
    return Where.apply(cond, a, b)


_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
            "gt": np.greater, "ge": np.greater_equal}


def compare(name: str, a: Any, b: Any) -> Tensor:
    """Elementwise comparison -> bool tensor, no gradient."""
    a, b = pair(a, b, name)
    check_broadcast(name, a.data, b.data)
    return _make(_COMPARE[name](a.data, b.data), False, None)


class BinaryMethods:
    """`Tensor`'s methods of this family: ``x.add(y)`` is ``add(x, y)``, and so on."""
    __slots__ = ()
    add = add
    sub = sub
    mul = mul
    div = div
    pow = pow
    maximum = maximum
    minimum = minimum

    def where(self, condition: Any, other: Any) -> Tensor:
        """``x.where(condition, other)``: ``x`` where ``condition`` holds, else ``other``."""
        return where(condition, self, other)

    def eq(self, other: Any) -> Tensor:
        """``self == other`` elementwise (bool, no gradient)."""
        return compare("eq", self, other)

    def ne(self, other: Any) -> Tensor:
        """``self != other`` elementwise (bool, no gradient)."""
        return compare("ne", self, other)

    def lt(self, other: Any) -> Tensor:
        """``self < other`` elementwise (bool, no gradient)."""
        return compare("lt", self, other)

    def le(self, other: Any) -> Tensor:
        """``self <= other`` elementwise (bool, no gradient)."""
        return compare("le", self, other)

    def gt(self, other: Any) -> Tensor:
        """``self > other`` elementwise (bool, no gradient)."""
        return compare("gt", self, other)

    def ge(self, other: Any) -> Tensor:
        """``self >= other`` elementwise (bool, no gradient)."""
        return compare("ge", self, other)


__all__ = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where"]
