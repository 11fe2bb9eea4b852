"""Every op's arithmetic goes through kernels (`mnp.core.dispatch.kernel`), or its Function
says why it does not with ``numpy_only = "<why>"``; and the reference kernels that replaced
inline numpy give the same bits."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

import numpy as np
import pytest

import mnp.core.ops as ops
from mnp.core.autograd import Function
from mnp.core.dispatch import kernel

#: numpy functions that compute (as opposed to allocate, reshape or select)
ARITHMETIC = {"add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "exp",
              "log", "log1p", "sqrt", "square", "sin", "cos", "tan", "tanh", "arctan2", "sign",
              "abs", "absolute", "maximum", "minimum", "clip", "logaddexp", "sum", "prod", "max",
              "min", "mean", "var", "std", "cumsum", "matmul", "dot", "einsum", "tensordot",
              "reciprocal", "linalg"}
OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.FloorDiv, ast.Mod)


def _functions() -> list[type[Function]]:
    found = []
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"mnp.core.ops.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def _own_sources(cls: type) -> list[ast.AST]:
    """The class bodies of ``cls`` and of its bases up to `Function`."""
    return [ast.parse(textwrap.dedent(inspect.getsource(c))) for c in cls.__mro__
            if issubclass(c, Function) and c is not Function]


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def inline_arithmetic(cls: type) -> list[str]:
    """What ``cls`` computes with numpy directly: ``np.<arithmetic>(...)`` calls and arithmetic
    operators (string concatenation aside), with their line in the class."""
    found = []
    for tree in _own_sources(cls):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                f = node.func
                root = f.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                name = f.value.attr if isinstance(f.value, ast.Attribute) else f.attr
                if isinstance(root, ast.Name) and root.id == "np" and (f.attr in ARITHMETIC or name in ARITHMETIC):
                    found.append(f"np.{f.attr}() at line {node.lineno}")
            elif isinstance(node, ast.BinOp) and isinstance(node.op, OPERATORS):
                if not (_is_text(node.left) or _is_text(node.right)):
                    found.append(f"{type(node.op).__name__} at line {node.lineno}")
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                    and not isinstance(node.operand, ast.Constant):
                found.append(f"unary minus at line {node.lineno}")
    return found


def calls_kernels(cls: type) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "kernel"
               for tree in _own_sources(cls) for n in ast.walk(tree))


FUNCTIONS = _functions()


def test_the_walk_finds_every_family():
    names = {c.__name__ for c in FUNCTIONS}
    assert {"Add", "Div", "Log", "Sum", "MatMul", "Softmax", "Reshape", "GetItem", "VectorNorm",
            "Project"} <= names


@pytest.mark.parametrize("cls", FUNCTIONS, ids=lambda c: c.__name__)
def test_function_uses_kernels_or_says_it_is_numpy_only(cls):
    why = getattr(cls, "numpy_only", None)
    if why is not None:
        assert isinstance(why, str) and why.strip(), f"{cls.__name__}.numpy_only must say why"
        return
    assert calls_kernels(cls), f"{cls.__name__} calls no kernel and is not marked numpy_only"
    assert not inline_arithmetic(cls), (f"{cls.__name__} computes with numpy next to its kernels: "
                                        f"{inline_arithmetic(cls)}; use a kernel or mark it numpy_only")


def test_the_check_catches_inline_numpy():
    class Bad(Function):
        def forward(self, x):
            self.x = x
            return kernel("log", x.dtype)(x)

        def backward(self, g):
            return g / self.x

    class AlsoBad(Function):
        def forward(self, x):
            return np.exp(x)

    class Good(Function):
        kernel_name = "exp"

        def forward(self, x):
            self.y = kernel(self.kernel_name, x.dtype)(x)
            return self.y

        def backward(self, g):
            return kernel(self.kernel_name + "_backward", g.dtype)(g, -1)

    assert inline_arithmetic(Bad) == ["Div at line 7"]
    assert inline_arithmetic(AlsoBad) == ["np.exp() at line 3"] and not calls_kernels(AlsoBad)
    assert calls_kernels(Good) and not inline_arithmetic(Good)


# -- the reference kernels that replaced inline numpy: the same bits as the numpy they replace --
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_backward_reference_kernels_match_the_formulas(dtype, rng):
    dt = np.dtype(dtype)
    x = rng.normal(size=(3, 4)).astype(dt)
    x[0, 0] = 0
    y = rng.normal(size=(3, 4)).astype(dt)
    y[1, 1] = x[1, 1]
    g = rng.normal(size=(3, 4)).astype(dt)
    pos = np.abs(x) + dt.type(0.5)
    from mnp.core.numpy_backend import KERNELS as K
    with np.errstate(all="ignore"):
        same = np.testing.assert_array_equal
        same(K["abs_backward"](g, x), g * np.sign(x))
        same(K["log_backward"](g, pos), g / pos)
        same(K["log1p_backward"](g, pos), g / (1 + pos))
        same(K["sqrt_backward"](g, pos), g / (2 * pos))
        same(K["sin_backward"](g, x), g * np.cos(x))
        same(K["cos_backward"](g, x), -g * np.sin(x))
        ga, gb = K["div_backward"](g, pos, x / pos, True, True)
        same(ga, g / pos)
        same(gb, -(g / pos) * (x / pos))
        assert K["div_backward"](g, pos, x / pos, False, True)[0] is None
        wa = np.where(x == y, dt.type(0.5), x > y).astype(dt)
        same(K["maximum_backward"](g, x, y)[0], g * wa)
        same(K["maximum_backward"](g, x, y)[1], g * (1 - wa))
        mask = (x >= -0.5) & (x <= 0.7)
        same(K["clip_backward"](g, x, -0.5, 0.7), g * mask)
        same(K["clip"](x, -0.5, None), np.clip(x, -0.5, None).astype(dt))
    for name in ("abs_backward", "log_backward", "div_backward", "pow_backward", "softplus",
                 "softplus_backward", "clip", "clip_backward", "safe_log_backward",
                 "maximum_backward", "minimum_backward", "sqrt_backward", "sin_backward",
                 "cos_backward", "log1p_backward"):
        assert kernel(name, dt) is not None
