"""Installing mnp-core alone (non-editable, into a fresh virtual environment without the
system site-packages) gives a working mnp.core whose only plugin is the numpy backend."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "packages" / "core"


def _env() -> dict:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONNOUSERSITE")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("MNP_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args, timeout, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env(), **kw)


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory):
    if importlib.util.find_spec("venv") is None or importlib.util.find_spec("ensurepip") is None:
        pytest.skip("this Python has no venv/ensurepip module: cannot build a fresh environment")
    root = tmp_path_factory.mktemp("core-only") / "venv"
    made = _run([sys.executable, "-m", "venv", str(root)], timeout=120)
    if made.returncode != 0:
        pytest.skip(f"python -m venv failed here: {made.stderr.strip()[-500:]}")
    py = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if _run([str(py), "-m", "pip", "--version"], timeout=60).returncode != 0:
        pytest.skip("the fresh environment has no working pip")
    # a regular (non-editable) install: pip builds the wheel in a temporary directory
    inst = _run([str(py), "-m", "pip", "install", "--no-input", str(CORE)], timeout=300)
    assert inst.returncode == 0, f"pip install ./packages/core failed:\n{inst.stdout[-2000:]}\n{inst.stderr[-2000:]}"
    return py


def test_core_imports_and_differentiates(core_venv):
    code = textwrap.dedent("""
        import json, sys
        import mnp.core as mnp
        x = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = ((x @ x).exp() * 0 + x * x).sum()
        y.backward()
        site = [p for p in sys.path if p.endswith("site-packages")]
        print(json.dumps({"grad": x.grad.tolist(), "value": y.item(), "file": mnp.__file__,
                          "backends": [b["name"] for b in mnp.backends()],
                          "version": mnp.__version__, "site": site}))
    """)
    proc = _run([str(core_venv), "-c", code], timeout=60, cwd=str(core_venv.parent.parent))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["grad"] == [[2.0, 4.0], [6.0, 8.0]] and out["value"] == 30.0
    assert str(core_venv.parent.parent) in out["file"] and str(REPO) not in out["file"]
    assert out["backends"] == ["numpy"] and out["version"] != "0.0.0"


def test_only_the_numpy_backend_plugin_is_listed(core_venv):
    proc = _run([str(core_venv), "-m", "mnp.core", "list-plugins", "--json"], timeout=60,
                cwd=str(core_venv.parent.parent))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["name"], r["distribution"], r["status"]) for r in rows] == [("numpy", "mnp-core", "loaded")]
    assert rows[0]["provides"]["backends"] == ["numpy"]


def test_other_distributions_are_absent(core_venv):
    code = ("import importlib.util as u; "
            "print([n for n in ('mnp.nn', 'mnp.optim', 'mnp.data', 'mnp.kernels_c') if u.find_spec(n)])")
    proc = _run([str(core_venv), "-c", code], timeout=60, cwd=str(core_venv.parent.parent))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
