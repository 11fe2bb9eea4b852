"""The layering of tensor, autograd and ops (see `mnp.core.tensor`): Tensor's methods are
defined in class bodies, the modules import one another without a cycle and only at their
top, and any of them can be imported first."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import mnp.core as mnp
from mnp.core.tensor import Tensor


@pytest.fixture(autouse=True)
def _every_backend():
    """The structure of the modules does not depend on the backend: each test runs once."""

CORE = Path(mnp.__file__).resolve().parent
PACKAGES = CORE.parents[3]
#: the modules of the layering, by dotted name below mnp.core
LAYERED = ["tensorbase", "autograd", "engine", "creation", "tensor", "ops"] + sorted(
    f"ops.{p.stem}" for p in (CORE / "ops").glob("*.py") if p.stem != "__init__")


def _path(name: str) -> Path:
    parts = name.split(".")
    pkg = CORE.joinpath(*parts)
    return pkg / "__init__.py" if pkg.is_dir() else CORE.joinpath(*parts[:-1], parts[-1] + ".py")


def _runtime_imports(name: str) -> list[tuple[ast.stmt, list[str]]]:
    """Module-level import statements (outside ``if TYPE_CHECKING:``) and the modules of the
    layering each one makes Python run, as dotted names below mnp.core."""
    tree = ast.parse(_path(name).read_text())
    package = name.split(".")[:-1] if _path(name).name != "__init__.py" else name.split(".")
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        targets = []
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            mod = base + (node.module.split(".") if node.module else [])
            candidates = [".".join(mod)] + [".".join(mod + [a.name]) for a in node.names]
            for c in candidates:
                if c in LAYERED:
                    targets.append(c)
                    parent = c.rsplit(".", 1)[0] if "." in c else None
                    if parent in LAYERED and not name.startswith(parent + "."):
                        targets.append(parent)     # importing a submodule runs its package
        out.append((node, targets))
    return out


def test_every_public_tensor_method_is_defined_in_a_class_body():
    """Each public method, property and operator of Tensor is bound by a statement in the body of
    Tensor or of a class it inherits (a def, or ``name = function``): nothing is attached to the
    class after it is made, so type checkers and IDEs see every method."""
    names = [n for n in dir(Tensor) if not n.startswith("_") or (n.startswith("__") and any(
        inspect.isfunction(c.__dict__.get(n)) for c in Tensor.__mro__[:-1]))]
    assert {"exp", "sum", "reshape", "matmul", "softmax", "where", "eq", "repeat", "clamp"} <= set(names)
    bodies: dict[type, set[str]] = {}
    for cls in Tensor.__mro__[:-1]:
        tree = ast.parse(inspect.getsource(sys.modules[cls.__module__]))
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
        bound = set()
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bound.add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                bound |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
                if any(isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets):
                    bound |= set(ast.literal_eval(stmt.value))    # data, grad, requires_grad
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                bound.add(stmt.target.id)
        bodies[cls] = bound
    for name in names:
        owner = next(c for c in Tensor.__mro__ if name in c.__dict__)
        if owner is object:
            continue
        assert name in bodies[owner], f"Tensor.{name} is in {owner.__name__}.__dict__ but not bound in its class body"


def test_no_method_is_attached_to_tensor_from_outside():
    offenders = []
    for path in PACKAGES.rglob("*.py"):
        text = path.read_text()
        for needle in ("setattr(Tensor", "setattr(mnp.Tensor", "@method\n", "def method("):
            if needle in text:
                offenders.append(f"{path.relative_to(PACKAGES)}: {needle.strip()}")
    assert not offenders
    assert not hasattr(sys.modules["mnp.core.tensor"], "method")


def test_tensor_has_no_instance_dict():
    """The mixins add no ``__dict__``: a tensor is its slots only."""
    for cls in Tensor.__mro__[:-1]:
        assert "__slots__" in cls.__dict__, cls
    with pytest.raises(AttributeError):
        mnp.zeros(1).anything = 1


def test_layered_modules_import_each_other_without_a_cycle():
    graph = {name: {t for _, targets in _runtime_imports(name) for t in targets if t != name}
             for name in LAYERED}
    assert "tensor" not in graph["autograd"] and "tensor" not in graph["tensorbase"]
    assert not any("tensor" in graph[n] for n in LAYERED if n.startswith("ops"))
    order, state = [], {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import cycle: " + " -> ".join(path + [node])
        state[node] = "open"
        for nxt in sorted(graph[node]):
            visit(nxt, path + [node])
        state[node] = "done"
        order.append(node)

    for name in LAYERED:
        visit(name, [])
    assert order.index("tensorbase") < order.index("autograd") < order.index("tensor")
    assert order.index("autograd") < order.index("engine") < order.index("tensor")
    assert "engine" not in graph["autograd"]


def test_layered_modules_import_only_at_their_top():
    """No import below the first def or class of a module (the old bottom-of-file imports)."""
    for name in LAYERED:
        tree = ast.parse(_path(name).read_text())
        seen_code = False
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                seen_code = True
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                assert not seen_code, f"mnp.core.{name}: import at line {node.lineno} after code"


FIRST = """
import importlib, sys
importlib.import_module({module!r})
import mnp.core as mnp
x = mnp.tensor([1.0, 2.0], requires_grad=True)
y = (x.exp() * 2).sum()
y.backward()
assert type(y) is mnp.Tensor and x.grad.tolist() == (2 * x.exp()).tolist()
print("ok")
"""

ALONE = """
import importlib, importlib.util, sys, types
spec = importlib.util.find_spec("mnp.core")
stub = types.ModuleType("mnp.core")     # the package without its __init__: only what {module} imports
stub.__path__ = list(spec.submodule_search_locations)
sys.modules["mnp.core"] = stub
m = importlib.import_module({module!r})
if {module!r} == "mnp.core.tensor":
    t = m.Tensor([1.0, 4.0])
    assert t.sqrt().tolist() == [1.0, 2.0] and type(t.sqrt()) is m.Tensor
print("ok")
"""


@pytest.mark.parametrize("module", ["mnp.core." + n for n in LAYERED])
def test_each_layered_module_can_be_imported_first(module):
    for script in (FIRST, ALONE):
        out = subprocess.run([sys.executable, "-c", script.format(module=module)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
