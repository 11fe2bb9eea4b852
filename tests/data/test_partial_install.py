"""A fresh virtual environment with only mnp-core and mnp-data installed (as wheels, not
editable): mnp.data imports, digits() loads from the installed package, and the plugin
listing shows the data plugin's datasets and nothing of nn or optim."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ["blobs", "circles", "digits", "linear", "moons", "regression", "spiral", "xor"]

CHECK = """
import json, sys
import numpy as np
import mnp.data as data
X, y = data.digits()
print(json.dumps({
    "file": data.__file__,
    "digits_file": __import__("mnp.data.digits", fromlist=["x"]).__file__,
    "shape": list(X.shape), "dtype": X.dtype.name, "ydtype": y.dtype.name,
    "counts": np.bincount(y).tolist(),
    "datasets": data.list_datasets(),
    "xor": data.load("xor")[1].tolist(),
}))
"""

FALLBACK = "import mnp.core as m, json; print(json.dumps(m.plugins()))"


def _run(python: Path, *args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MNP_"))}
    proc = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("partial") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(python, "-m", "pip", "install", "--quiet", str(ROOT / "packages" / "core"),
         str(ROOT / "packages" / "data"), cwd=venv.parent)
    return python


def test_mnp_data_works_from_the_installed_wheel(venv_python):
    workdir = venv_python.parents[2]            # outside the source tree
    out = json.loads(_run(venv_python, "-c", CHECK, cwd=workdir))
    venv = str(venv_python.parents[1])
    assert out["file"].startswith(venv) and out["digits_file"].startswith(venv)
    assert out["shape"] == [1797, 64] and out["dtype"] == "float32" and out["ydtype"] == "int64"
    assert out["counts"] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert out["datasets"] == DATASETS
    assert out["xor"] == [0, 1, 1, 0]
    missing = _run(venv_python, "-c", "import importlib.util as u; "
                   "print(u.find_spec('mnp.nn'), u.find_spec('mnp.optim'))", cwd=workdir)
    assert missing.split() == ["None", "None"]


def test_plugin_listing_shows_the_datasets(venv_python):
    workdir = venv_python.parents[2]
    has_cli = _run(venv_python, "-c", "import importlib.util as u; "
                   "print(u.find_spec('mnp.core.__main__') is not None)", cwd=workdir).strip()
    if has_cli == "True":
        listing = json.loads(_run(venv_python, "-m", "mnp.core", "list-plugins", "--json", cwd=workdir))
    else:       # mnp-core without its CLI: the same listing through the API
        listing = json.loads(_run(venv_python, "-c", FALLBACK, cwd=workdir))
    by_module = {p["module"]: p for p in listing}
    data = by_module["mnp.data.plugin"]
    assert data["status"] == "loaded" and data["builtin"]
    assert data["provides"]["datasets"] == DATASETS
    assert not any(p["module"].startswith(("mnp.nn", "mnp.optim")) for p in listing)
