"""Every example in every docstring of mnp's packages runs and prints what it shows, and the
first example of each package README runs.

Modules are found with `pkgutil.walk_packages`, so a new module's examples are run without
being listed here; one test per module. Examples that need PyTorch (the parity helpers)
import it when they run: where torch is not installed, a module whose examples fail only
because of that is skipped, as the parity tests are; where it is, they must pass.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PACKAGES = ("mnp.core", "mnp.nn", "mnp.optim", "mnp.data", "mnp.kernels_c", "mnp.distributed")
#: modules that run a program when imported, or are entry points rather than libraries
NOT_IMPORTED = ("__main__",)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        try:
            root = importlib.import_module(package)
        except ImportError:               # that distribution is not installed
            continue
        names.append(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
            if info.name.rsplit(".", 1)[-1] not in NOT_IMPORTED:
                names.append(info.name)
    return sorted(names)


def _tests(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


def _torch_missing(exc: BaseException) -> bool:
    return isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "torch"


class _Runner(doctest.DocTestRunner):
    """A runner that notes when an example failed because torch could not be imported."""

    needs_torch = False

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.needs_torch |= _torch_missing(exc_info[1])
        super().report_unexpected_exception(out, test, example, exc_info)


def _torch_installed() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_examples(name: str) -> tuple[int, str, bool]:
    """Run the docstring examples of module ``name``: (failures, report, whether an example
    failed because torch is not importable)."""
    out: list[str] = []
    runner = _Runner(optionflags=FLAGS)
    printed = np.get_printoptions()
    try:
        for test in _tests(name):
            runner.run(test, out=out.append)
    finally:
        np.set_printoptions(**printed)
    return runner.failures, "".join(out), runner.needs_torch


def test_modules_are_found():
    names = _modules()
    assert {"mnp.core.tensor", "mnp.nn.serialization", "mnp.optim.sgd"} <= set(names), names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    failures, report, needs_torch = run_examples(name)
    if failures and needs_torch and not _torch_installed():
        pytest.skip("docstring examples need torch, which is not installed")
    assert failures == 0, f"docstring examples of {name} fail:\n{report}"


def test_only_a_missing_torch_lets_a_module_skip():
    assert _torch_missing(ModuleNotFoundError("No module named 'torch'", name="torch"))
    assert _torch_missing(ImportError("cannot import name", name="torch.nn"))
    assert not _torch_missing(ModuleNotFoundError("No module named 'scipy'", name="scipy"))
    assert not _torch_missing(ValueError("torch"))


# -- the examples of the package READMEs ---------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
#: README -> the module its first example needs (distributed's is an MPI program, run by
#: `python -m mnp.distributed.run`, not in this process)
READMES = {"core": "mnp.core", "nn": "mnp.nn", "optim": "mnp.optim", "data": "mnp.data",
           "kernels-c": "mnp.kernels_c"}


@pytest.mark.parametrize("package", sorted(READMES))
def test_readme_example_runs(package, tmp_path):
    text = (ROOT / "packages" / package / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"packages/{package}/README.md has no python example"
    pytest.importorskip(READMES[package])
    if package == "kernels-c" and not importlib.import_module("mnp.kernels_c").available():
        pytest.skip("the C extension is not built")
    # its own process, in a scratch directory: examples set threads and seeds and write files
    proc = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"packages/{package}/README.md's example fails:\n{proc.stderr}"
