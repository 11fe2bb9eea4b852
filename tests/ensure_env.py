"""Make the test environment test this checkout; run by ``hatch test`` before pytest.

1. **Installs.** hatch keeps an environment per project path and skips installing when the
   dependencies did not change, so a fresh clone at the path of an earlier one runs in the
   earlier environment. Each package under ``packages/`` must be installed editable from this
   checkout with the entry points its ``pyproject.toml`` declares; one that is not is
   reinstalled (``pip install --no-deps -e``).
2. **The C extension.** An editable mnp-kernels-c imports its compiled module from beside its
   sources, which a fresh clone does not have: it is rebuilt in place when it is missing or
   older than its sources (``packages/kernels-c/hatch_build.py --if-stale``).
3. **PyTorch**, the oracle of the parity tests, is installed where it can be; it does nothing
   when torch is already there. ``MNP_TEST_TORCH=0`` skips that; without torch the parity
   tests are skipped (the summary line says how many).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

TORCH = "2.13.0"
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"


def pip(*args: str) -> int:
    """``python -m pip ...`` in this environment; environments made by uv get pip first.
    pip, not uv: it honours the machine's pip configuration (a local build, an index mirror)."""
    if subprocess.call([sys.executable, "-m", "pip", "--version"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        subprocess.call([sys.executable, "-m", "ensurepip", "--default-pip"],
                        stdout=subprocess.DEVNULL)
    return subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                            "--quiet", *args])


def declared(pyproject: Path) -> tuple[str, set[tuple[str, str, str]]]:
    """The distribution name and entry points ``(group, name, value)`` a pyproject declares."""
    import tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    points = {("console_scripts", k, v) for k, v in project.get("scripts", {}).items()}
    for group, entries in project.get("entry-points", {}).items():
        points |= {(group, k, v) for k, v in entries.items()}
    return project["name"], points


def out_of_date(name: str, source: Path, points: set) -> str | None:
    """Why the installed ``name`` is not an editable install of ``source`` with ``points``."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
    url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
    if url.removeprefix("file://").rstrip("/") != source.as_posix():
        return f"installed from {url or 'an index'}, not {source}"
    have = {(e.group, e.name, e.value) for e in dist.entry_points}
    if have != points:
        return f"entry points {sorted(have ^ points)} differ from its pyproject.toml"
    return None


def ensure_installs() -> None:
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        name, points = declared(pyproject)
        why = out_of_date(name, pyproject.parent, points)
        if why is not None:
            print(f"reinstalling {name} ({why})")
            if pip("--no-deps", "-e", str(pyproject.parent)) != 0:
                print(f"{name} could not be reinstalled; the tests will say what is missing")


def ensure_kernels_c() -> None:
    if importlib.util.find_spec("setuptools") is None:    # hatch_build.py compiles with it
        pip("setuptools>=64")
    subprocess.call([sys.executable, str(PACKAGES / "kernels-c" / "hatch_build.py"),
                     "--if-stale"])


def ensure_torch() -> None:
    if os.environ.get("MNP_TEST_TORCH", "1") == "0":
        print("MNP_TEST_TORCH=0: not installing torch; parity tests will be skipped")
        return
    if importlib.util.find_spec("torch") is not None:
        return
    print(f"installing torch=={TORCH} for the parity tests (MNP_TEST_TORCH=0 skips this)")
    if pip(f"torch=={TORCH}") != 0:
        print(f"torch=={TORCH} could not be installed: parity tests will be skipped")


def main() -> int:
    if sys.version_info >= (3, 11):     # tomllib; older Pythons trust hatch's install
        ensure_installs()
    ensure_kernels_c()
    ensure_torch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
