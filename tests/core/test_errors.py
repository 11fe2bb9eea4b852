"""The error classes, and messages that name the op and the offending shapes or values."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import errors


@pytest.mark.parametrize("cls, bases", [
    (mnp.ShapeError, (mnp.MnpError, ValueError)),
    (mnp.DTypeError, (mnp.MnpError, TypeError)),
    (mnp.AxisError, (mnp.ShapeError, mnp.MnpError, IndexError)),
    (mnp.PluginError, (mnp.MnpError,)),
    (mnp.BackendError, (mnp.MnpError,)),
    (mnp.GradCheckError, (mnp.MnpError, AssertionError)),
    (mnp.AutogradError, (mnp.MnpError, RuntimeError)),
    (mnp.AnomalyError, (mnp.MnpError, FloatingPointError)),
    (errors.ArgumentError, (mnp.MnpError, ValueError)),
])
def test_hierarchy(cls, bases):
    assert issubclass(mnp.MnpError, Exception)
    for base in bases:
        assert issubclass(cls, base)
    assert getattr(mnp, cls.__name__, cls) is cls


def test_shape_error_helper():
    e = errors.shape_error("add", (2, 3), (4,), why="cannot be broadcast together")
    assert isinstance(e, mnp.ShapeError)
    assert str(e) == "add: shapes (2, 3) and (4,) cannot be broadcast together"


def test_matmul_message_is_the_documented_one():
    with pytest.raises(mnp.ShapeError) as info:
        mnp.ones((2, 3)) @ mnp.ones((4, 5))
    assert str(info.value) == "matmul: shapes (2, 3) and (4, 5) are not aligned: 3 != 4"


# each: a call and what its message must contain (the op name and the offending values)
CASES = [
    (lambda: mnp.ones((2, 3)) + mnp.ones((4,)), mnp.ShapeError, ["add", "(2, 3)", "(4,)"]),
    (lambda: mnp.ones((2, 3)) * mnp.ones((3, 2)), mnp.ShapeError, ["mul", "(2, 3)", "(3, 2)"]),
    (lambda: mnp.ones((2, 3)).reshape(4, 2), mnp.ShapeError, ["reshape", "(2, 3)", "(4, 2)"]),
    (lambda: mnp.ones((2, 3)).sum(axis=3), mnp.ShapeError, ["sum", "axis 3"]),
    (lambda: mnp.ones(3)[7], mnp.ShapeError, ["getitem", "(3,)"]),
    (lambda: mnp.ones((2, 2)).item(), mnp.ShapeError, ["item", "(2, 2)"]),
    (lambda: mnp.tensor([[1.0], [2.0, 3.0]]), mnp.ShapeError, ["tensor"]),
    (lambda: mnp.zeros(-1), mnp.ShapeError, ["zeros", "-1"]),
    (lambda: mnp.tensor(["x"]), mnp.DTypeError, ["tensor", "<U1"]),
    (lambda: mnp.ones(2, dtype="complex128"), mnp.DTypeError, ["ones", "complex128"]),
    (lambda: mnp.tensor([1, 2]).requires_grad_(), mnp.DTypeError, ["requires_grad", "int64"]),
    (lambda: mnp.set_default_dtype("int32"), mnp.DTypeError, ["set_default_dtype", "int32"]),
    (lambda: (mnp.ones(3, requires_grad=True) * 2).backward(), mnp.AutogradError, ["backward", "(3,)"]),
    (lambda: mnp.set_backend("no-such-backend"), mnp.BackendError, ["no-such-backend", "numpy"]),
    (lambda: mnp.kernel("no_such_kernel", np.dtype("float32")), mnp.BackendError,
     ["no_such_kernel", "float32"]),
    (lambda: mnp.lookup("layers", "NoSuchLayer"), mnp.PluginError, ["NoSuchLayer"]),
    (lambda: mnp.registry("gizmos"), mnp.PluginError, ["gizmos", "layers"]),
    (lambda: mnp.arange(1, 2, 0), errors.ArgumentError, ["arange", "step"]),
    (lambda: mnp.randint(3, 1), errors.ArgumentError, ["randint", "3", "1"]),
    (lambda: mnp.Profiler().stop("never"), errors.ArgumentError, ["Profiler", "never"]),
]


@pytest.mark.parametrize("call, cls, words", CASES,
                         ids=[f"{c[1].__name__}-{'-'.join(c[2][:1])}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_a_named_mnp_error(call, cls, words):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, mnp.MnpError)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_grad_check_error_names_input_index_and_values():
    class BadSquare(mnp.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x          # missing the factor 2

    x = mnp.tensor([[1.0, 2.0]], dtype=mnp.float64, requires_grad=True)
    with pytest.raises(mnp.GradCheckError) as info:
        mnp.grad_check(lambda t: BadSquare.apply(t), [x])
    msg = str(info.value)
    assert "input 0" in msg and "(1, 2)" in msg and "index (0, 0)" in msg
    assert "analytic" in msg and "numeric" in msg


def test_anomaly_error_names_the_op():
    with pytest.raises(mnp.AnomalyError, match="^log: forward produced NaN"):
        with mnp.detect_anomaly():
            mnp.log(mnp.tensor([-1.0]))
