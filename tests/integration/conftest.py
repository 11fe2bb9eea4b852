"""Fresh virtual environments holding a chosen subset of the mnp distributions.

Each distribution is built once per test run into a wheel, exactly as
``pip install ./packages/<name>`` builds it (pip, build isolation, the package's own
build requirements; mnp-kernels-c compiles its C extension here), and every environment
installs the wheels it needs, non-editable, with their dependencies from pip's
configured indexes. The environments have no system site-packages and run with a
scrubbed environment (no ``PYTHON*``, ``VIRTUAL_ENV`` or ``MNP_*`` variables) from a
directory outside the source tree, so only what was installed can be imported.

Test modules get `make_venv` (one per test run) and build their environment in a
module-scoped fixture::

    @pytest.fixture(scope="module")
    def venv(make_venv):
        return make_venv("core-nn", "core", "nn")

``PROBE`` reports, as JSON, which mnp modules import, where from, and the plugin listing;
`Venv.probe` runs it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "core": ROOT / "packages" / "core",
    "nn": ROOT / "packages" / "nn",
    "optim": ROOT / "packages" / "optim",
    "data": ROOT / "packages" / "data",
    "kernels-c": ROOT / "packages" / "kernels-c",
    "example-plugin": ROOT / "examples" / "custom_plugin",
}
#: import name of each mnp distribution
MODULES = {"core": "mnp.core", "nn": "mnp.nn", "optim": "mnp.optim", "data": "mnp.data",
           "kernels-c": "mnp.kernels_c"}
TIMEOUT = 600

#: what each mnp distribution's plugin must list in ``list-plugins --json``: entry-point
#: name, distribution, and for each registry kind it provides either the exact list or a
#: set of names the listing must include. Kernel names are ``backend:kernel``.
BUILTIN_PLUGINS = {
    "core": ("numpy", "mnp-core", {"backends": ["numpy"],
                                   "kernels": {"numpy:gemm", "numpy:add", "numpy:sum",
                                               "numpy:log_softmax"}}),
    "nn": ("nn", "mnp-nn", {"kernels": {"numpy:conv2d_forward", "numpy:cross_entropy_forward",
                                        "numpy:batch_norm_forward", "numpy:max_pool2d_forward"},
                            "layers": {"Linear", "Dense", "Conv2d", "ReLU", "Sequential"},
                            "losses": {"CrossEntropyLoss", "MSELoss"},
                            "metrics": {"accuracy"}}),
    "optim": ("optim", "mnp-optim", {"kernels": {"numpy:sgd_step", "numpy:adam_step"},
                                     "optimizers": {"SGD", "Adam", "AdamW", "RMSprop",
                                                    "Adagrad"},
                                     "schedulers": {"StepLR", "CosineAnnealingLR"}}),
    "data": ("data", "mnp-data", {"datasets": {"digits", "xor", "spiral", "moons"},
                                  "loaders": {"DataLoader"}}),
    "kernels-c": ("c", "mnp-kernels-c", {"backends": ["c"],
                                         "kernels": {"c:gemm", "c:conv2d_forward",
                                                     "c:adam_step"}}),
}

PROBE = r"""
import importlib, importlib.util, json, sys
report = {"modules": {}, "isolated": all(importlib.util.find_spec(m) is None
                                         for m in ("pytest", "torch", "hypothesis"))}
for name in ("mnp.core", "mnp.nn", "mnp.optim", "mnp.data", "mnp.kernels_c",
             "mnp_example_plugin"):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        report["modules"][name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    else:
        report["modules"][name] = {"ok": True, "file": module.__file__}
import mnp
report["mnp_file"] = getattr(mnp, "__file__", None)
report["mnp_path"] = list(mnp.__path__)
import mnp.core as core
report["plugins"] = core.plugins()
report["backends"] = [{"name": b["name"], "available": b["available"]} for b in core.backends()]
report["backend"] = core.get_backend()
print(json.dumps(report))
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without anything that could leak the development tree in."""
    drop = ("PYTHON", "VIRTUAL_ENV", "MNP_", "PIP_USER", "PIP_TARGET", "PIP_PREFIX")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def _check(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, (f"{what} failed ({proc.returncode}):\n"
                                  f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


class Wheelhouse:
    """Wheels of the mnp distributions, each built on first request and then reused."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.wheels: dict[str, Path] = {}

    def wheel(self, name: str) -> Path:
        if name not in self.wheels:
            out = self.directory / name
            _check(subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "--quiet",
                 "--wheel-dir", str(out), str(SOURCES[name])],
                cwd=self.directory, env=clean_env(), capture_output=True, text=True,
                timeout=TIMEOUT), f"building the wheel of {SOURCES[name]}")
            (wheel,) = out.glob("*.whl")
            self.wheels[name] = wheel
        return self.wheels[name]


class Venv:
    """A virtual environment, and running its Python outside the source tree."""

    def __init__(self, root: Path, packages: tuple[str, ...]):
        self.root = root
        self.packages = packages
        self.python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        self.bin = self.python.parent
        self.workdir = root.parent / "work"
        self.workdir.mkdir(exist_ok=True)

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        """Run this environment's Python with ``args`` (extra variables in ``env``)."""
        proc = subprocess.run([str(self.python), *args], cwd=self.workdir,
                              env=clean_env(**(env or {})), capture_output=True, text=True,
                              timeout=timeout)
        return _check(proc, f"python {' '.join(args)[:200]}") if check else proc

    def script(self, name: str, *args: str) -> subprocess.CompletedProcess:
        """Run the console script ``name`` that an installed distribution put in ``bin``."""
        proc = subprocess.run([str(self.bin / name), *args], cwd=self.workdir, env=clean_env(),
                              capture_output=True, text=True, timeout=300)
        return _check(proc, f"{name} {' '.join(args)}")

    def code(self, source: str, *args: str, **env: str) -> str:
        """stdout of ``python -c source args...``."""
        return self.run("-c", source, *args, env=env).stdout

    def json(self, source: str, *args: str, **env: str) -> Any:
        """The last stdout line of ``python -c source args...``, parsed as JSON."""
        return json.loads(self.code(source, *args, **env).strip().splitlines()[-1])

    def probe(self, **env: str) -> dict[str, Any]:
        return self.json(PROBE, **env)

    def list_plugins(self, **env: str) -> list[dict]:
        """``python -m mnp.core list-plugins --json``, parsed."""
        return json.loads(self.run("-m", "mnp.core", "list-plugins", "--json", env=env).stdout)

    def inside(self, path: str | None) -> bool:
        return path is not None and Path(path).resolve().is_relative_to(self.root.resolve())


def version_of(package: str) -> str:
    """The version a distribution's pyproject.toml declares."""
    with open(SOURCES[package] / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def check_builtin_rows(rows: list[dict], packages: tuple[str, ...]) -> None:
    """``rows`` (plugin listing entries) are exactly the plugins of ``packages``, in mnp's
    load order, all loaded, each providing what `BUILTIN_PLUGINS` says."""
    expected = [p for p in BUILTIN_PLUGINS if p in packages]
    assert [(r["name"], r["distribution"]) for r in rows] == \
        [BUILTIN_PLUGINS[p][:2] for p in expected]
    for row, package in zip(rows, expected):
        name, _, provides = BUILTIN_PLUGINS[package]
        assert (row["status"], row["error"], row["builtin"]) == ("loaded", None, True), row
        assert row["version"] == version_of(package)
        assert row["module"].startswith(MODULES[package] + "."), row["module"]
        assert sorted(row["provides"]) == sorted(provides), (name, row["provides"])
        for kind, names in provides.items():
            listed = row["provides"][kind]
            assert listed == sorted(listed)
            if isinstance(names, list):
                assert listed == names, (name, kind, listed)
            else:
                assert names <= set(listed), (name, kind, names - set(listed))
            if kind == "kernels":       # a plugin registers kernels of one backend only
                backend = next(iter(names)).split(":")[0]
                assert all(k.startswith(backend + ":") for k in listed), (name, listed)


@pytest.fixture(scope="session")
def builtin_rows():
    """`check_builtin_rows` for test modules."""
    return check_builtin_rows


def _pip_has_python_option() -> bool:
    """Whether this Python's pip can install into another environment (``--python``)."""
    try:
        import pip
        return tuple(int(p) for p in pip.__version__.split(".")[:2]) >= (22, 3)
    except (ImportError, ValueError):
        return False


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Wheelhouse:
    if importlib.util.find_spec("venv") is None:
        pytest.skip("this Python has no venv module: cannot build fresh environments")
    return Wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory, wheelhouse):
    """``make_venv(label, *packages)``: a fresh environment with those mnp distributions
    (keys of ``SOURCES``) installed from their wheels."""
    outside = _pip_has_python_option()

    def make(label: str, *packages: str) -> Venv:
        venv = Venv(tmp_path_factory.mktemp(label) / "venv", packages)
        wheels = [str(wheelhouse.wheel(p)) for p in packages]
        # this Python's pip installs into the new environment (`pip --python`), which
        # spares seeding pip into every environment; older pips run inside it
        create = [sys.executable, "-m", "venv", str(venv.root)]
        made = subprocess.run(create + (["--without-pip"] if outside else []),
                              capture_output=True, text=True, timeout=TIMEOUT, env=clean_env())
        if made.returncode != 0:
            pytest.skip(f"python -m venv failed here: {made.stderr.strip()[-500:]}")
        pip = ([sys.executable, "-m", "pip", "--python", str(venv.python)] if outside
               else [str(venv.python), "-m", "pip"])
        _check(subprocess.run([*pip, "install", "--no-input", "--quiet", *wheels],
                              cwd=venv.workdir, env=clean_env(), capture_output=True,
                              text=True, timeout=TIMEOUT), f"pip install {' '.join(packages)}")
        return venv

    return make
