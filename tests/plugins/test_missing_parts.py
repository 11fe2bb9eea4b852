"""What a user sees when an optional part is missing: ``from mnp import nn`` without mnp-nn
names the distribution to install, and so does ``MNP_BACKEND=c`` without mnp-kernels-c; an
unknown ``MNP_BACKEND`` is one short line naming the variable, the value and the backends.

Each runs in a subprocess that hides installed distributions: their source directories
leave ``sys.path`` and ``importlib.metadata`` no longer lists them."""
from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import sys
import textwrap

import pytest

HIDE = """
import importlib.metadata as md, sys
HIDDEN = {hidden!r}              # distribution name -> the package directory it provides
def _norm(name):
    return (name or "").lower().replace("_", "-")
for dist, pkg in HIDDEN.items():
    sys.path[:] = [p for p in sys.path if not p.rstrip("/").endswith(pkg)]
_distribution, _distributions = md.distribution, md.distributions
def distribution(name):
    if _norm(name) in HIDDEN:
        raise md.PackageNotFoundError(name)
    return _distribution(name)
def distributions(**kw):
    return [d for d in _distributions(**kw) if _norm(d.metadata["Name"]) not in HIDDEN]
def entry_points(**kw):
    eps = [ep for d in distributions() for ep in d.entry_points]
    return [ep for ep in eps if all(getattr(ep, k) == v for k, v in kw.items())]
md.distribution, md.distributions, md.entry_points = distribution, distributions, entry_points
"""

PARTS = {"mnp-nn": "packages/nn/src", "mnp-optim": "packages/optim/src",
         "mnp-data": "packages/data/src", "mnp-kernels-c": "packages/kernels-c/src",
         "mnp-distributed": "packages/distributed/src"}


def run(code: str, hidden: dict, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MNP_")}
    full.update(env or {})
    src = textwrap.dedent(HIDE.format(hidden=hidden)) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", src], env=full, capture_output=True,
                          text=True, timeout=120)


def _pth_installed() -> bool:
    files = md.distribution("mnp-core").files or []
    return any(str(f).endswith("mnp-core-hints.pth") for f in files)


@pytest.mark.parametrize("part, dist", [("nn", "mnp-nn"), ("optim", "mnp-optim"),
                                        ("data", "mnp-data"), ("kernels_c", "mnp-kernels-c"),
                                        ("distributed", "mnp-distributed")])
@pytest.mark.parametrize("core_first", [True, False])
@pytest.mark.parametrize("form", ["from mnp import {part}", "import mnp.{part}",
                                  "import mnp.{part}.sub"])
def test_a_missing_part_names_its_distribution(part, dist, core_first, form):
    if not core_first and not _pth_installed():
        pytest.skip("mnp-core was installed before it shipped mnp-core-hints.pth")
    code = f"""
        import importlib.util, sys
        if importlib.util.find_spec("mnp.{part}") is not None:
            print("NOT HIDDEN")                # installed some other way than from packages/
            sys.exit()
        {"import mnp.core" if core_first else "assert 'mnp.core' not in sys.modules"}
        try:
            {form.format(part=part)}
        except ModuleNotFoundError as exc:
            print("ERROR", exc)
        else:
            print("IMPORTED")
        assert ("mnp.core" in sys.modules) == {core_first}    # the hint did not import core
    """
    proc = run(code, {dist: PARTS[dist]})
    assert proc.returncode == 0, proc.stderr
    if proc.stdout.startswith("NOT HIDDEN"):
        pytest.skip(f"{dist} is installed in a way this test cannot hide")
    assert proc.stdout.startswith("ERROR"), proc.stdout
    assert f"pip install {dist}" in proc.stdout and f"'mnp.{part}'" in proc.stdout


def test_installed_parts_import_and_probes_see_no_error():
    code = """
        import importlib.util
        import mnp.core
        from mnp import nn
        print(nn.__name__, importlib.util.find_spec("mnp.distributed"))
    """
    proc = run(code, {"mnp-distributed": PARTS["mnp-distributed"]})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["mnp.nn", "None"]


def test_unrelated_missing_modules_keep_the_usual_error():
    proc = run("""
        import mnp.core
        try:
            import mnp.no_such_part
        except ModuleNotFoundError as exc:
            print(exc)
    """, {})
    assert proc.stdout.strip() == "No module named 'mnp.no_such_part'"


# -- MNP_BACKEND --------------------------------------------------------------------------
USE = """
import mnp.core as mnp
print((mnp.ones(2) + 1).tolist())
"""


@pytest.mark.parametrize("value", ["cuda", "nunpy"])
def test_unknown_mnp_backend_is_one_short_line(value):
    proc = run(USE, {}, {"MNP_BACKEND": value})
    assert proc.returncode != 0 and not proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"MNP_BACKEND={value!r}" in lines[0] and "numpy" in lines[0]
    assert "Traceback" not in proc.stderr and "KeyError" not in proc.stderr
    if value == "nunpy":
        assert "did you mean 'numpy'" in lines[0]


def test_backend_of_a_missing_distribution_names_it():
    proc = run(USE, {"mnp-kernels-c": PARTS["mnp-kernels-c"]}, {"MNP_BACKEND": "c"})
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "MNP_BACKEND='c'" in lines[0] and "pip install mnp-kernels-c" in lines[0]


def test_backend_of_an_installed_but_unloaded_plugin_points_at_list_plugins():
    proc = run(USE, {}, {"MNP_BACKEND": "c", "MNP_LOAD_PLUGINS": "numpy"})
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "MNP_BACKEND='c'" in lines[0] and "list-plugins" in lines[0]
    assert "pip install" not in lines[0]


def test_the_error_is_still_a_backend_error_when_caught():
    proc = run("""
        import mnp.core as mnp
        try:
            mnp.ones(2) + 1
        except mnp.BackendError as exc:
            print(type(exc).__name__, exc)
    """, {}, {"MNP_BACKEND": "cuda"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("BackendEnvError MNP_BACKEND='cuda': unknown backend 'cuda'")


def test_set_backend_names_the_missing_distribution():
    proc = run("""
        import mnp.core as mnp
        try:
            mnp.set_backend("c")
        except mnp.BackendError as exc:
            print(exc)
    """, {"mnp-kernels-c": PARTS["mnp-kernels-c"]})
    assert proc.returncode == 0, proc.stderr
    assert "unknown backend 'c'" in proc.stdout and "pip install mnp-kernels-c" in proc.stdout
