"""Binary elementwise ops with numpy broadcasting; each backward beside its forward."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, _make
from ..dispatch import kernel
from ..tensor import Tensor, method
from ._util import check_broadcast, pair, promote, to_tensor, unbroadcast


class _Binary(Function):
    kernel_name = ""

    def forward(self, a, b):
        check_broadcast(self.op_name(), a, b)
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.shapes = (a.shape, b.shape)
        return kernel(self.kernel_name, a.dtype)(a, b)


class Add(_Binary):
    kernel_name = "add"

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(_Binary):
    kernel_name = "sub"

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), (unbroadcast(-g, sb) if self.inputs[1].requires_grad else None)


class Mul(_Binary):
    kernel_name = "mul"

    def forward(self, a, b):
        self.a, self.b = a, b
        return super().forward(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        ra, rb = self.needs_input_grad
        mul = kernel("mul", g.dtype)
        return (unbroadcast(mul(g, self.b), sa) if ra else None,
                unbroadcast(mul(g, self.a), sb) if rb else None)


class Div(_Binary):
    kernel_name = "div"

    def forward(self, a, b):
        self.b = b
        self.out = super().forward(a, b)
        return self.out

    def backward(self, g):
        sa, sb = self.shapes
        ra, rb = self.needs_input_grad
        gb = g / self.b
        return (unbroadcast(gb, sa) if ra else None,
                unbroadcast(-gb * self.out, sb) if rb else None)


class Pow(_Binary):
    kernel_name = "pow"

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = super().forward(a, b)
        return self.out

    def backward(self, g):
        sa, sb = self.shapes
        ra, rb = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if ra:
            ga = unbroadcast(g * b * np.power(a, b - 1), sa)
        if rb:
            with np.errstate(divide="ignore", invalid="ignore"):
                loga = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0).astype(self.out.dtype)
            gb = unbroadcast(g * self.out * loga, sb)
        return ga, gb


class Maximum(_Binary):
    kernel_name = "maximum"

    def forward(self, a, b):
        self.a, self.b = a, b
        return super().forward(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        a, b = self.a, self.b
        # ties share the gradient equally, as PyTorch does
        wa = (a > b) + 0.5 * (a == b)
        return unbroadcast(g * wa, sa), unbroadcast(g * (1 - wa), sb)


class Minimum(Maximum):
    kernel_name = "minimum"

    def backward(self, g):
        sa, sb = self.shapes
        a, b = self.a, self.b
        wa = (a < b) + 0.5 * (a == b)
        return unbroadcast(g * wa, sa), unbroadcast(g * (1 - wa), sb)


class Where(Function):
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


@method
def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting."""
    a, b = pair(a, b, "add")
    return Add.apply(a, b)


@method
def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting."""
    a, b = pair(a, b, "sub")
    return Sub.apply(a, b)


@method
def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    a, b = pair(a, b, "mul")
    return Mul.apply(a, b)


@method
def div(a: Any, b: Any) -> Tensor:
    """``a / b`` (true division) with broadcasting."""
    a, b = pair(a, b, "div")
    if a.data.dtype.kind != "f" and b.data.dtype.kind != "f":
        from .. import dtypes
        a = to_tensor(a.data.astype(dtypes.get_default_dtype()))
    return Div.apply(a, b)


@method
def pow(a: Any, b: Any) -> Tensor:  # noqa: A001
    """``a ** b`` with broadcasting; differentiable in both."""
    a, b = pair(a, b, "pow")
    return Pow.apply(a, b)


@method
def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties split the gradient."""
    a, b = pair(a, b, "maximum")
    return Maximum.apply(a, b)


@method
def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties split the gradient."""
    a, b = pair(a, b, "minimum")
    return Minimum.apply(a, b)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcast); gradient flows to the chosen side."""
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


for _n in _COMPARE:
    method(lambda a, b, _n=_n: compare(_n, a, b), name=_n)

__all__ = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where"]
