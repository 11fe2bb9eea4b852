"""The build hook: a missing compiler fails with what to install; flags the compiler accepts."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / "packages" / "kernels-c" / "hatch_build.py"


@pytest.fixture
def hook():
    if not HOOK.exists():
        pytest.skip("not running from the source tree")
    spec = importlib.util.spec_from_file_location("mnp_kernels_c_hatch_build", HOOK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_missing_compiler_says_what_to_install(hook, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(RuntimeError, match=r"no C compiler found.*apt-get install gcc python3-dev"):
        hook.check_toolchain()


def test_flags_are_probed(hook, monkeypatch):
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no C compiler here")
    monkeypatch.setenv("MNP_KERNELS_C_CFLAGS", "-DMNP_PROBE=1")
    monkeypatch.setenv("MNP_KERNELS_C_OPENMP", "0")
    cflags, ldflags = hook.choose_flags(hook.check_toolchain())
    assert "-O3" in cflags and cflags[-1] == "-DMNP_PROBE=1"
    assert "-fopenmp" not in cflags and "-fopenmp" not in ldflags
    monkeypatch.setenv("MNP_KERNELS_C_NATIVE", "0")
    cflags, _ = hook.choose_flags(hook.check_toolchain())
    assert "-march=native" not in cflags


def test_a_package_without_its_compiled_module_says_how_to_build_it(tmp_path):
    import os
    import subprocess
    import sys

    import mnp.kernels_c
    copy = tmp_path / "mnp" / "kernels_c"
    copy.mkdir(parents=True)
    for src in Path(mnp.kernels_c.__file__).parent.glob("*.py"):
        shutil.copy(src, copy / src.name)          # the sources only: no _ext.*.so
    probe = ("import mnp.kernels_c as k, mnp.core as m; "
             "print(k.__file__); print(k.available()); print(k.import_error()); "
             "print([b['available'] for b in m.backends() if b['name'] == 'c'])\n"
             "from mnp.core.cli import main; main(['info'])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)},
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    where, available, why, backend = out.stdout.splitlines()[:4]
    assert where.startswith(str(tmp_path)) and available == "False" and backend == "[False]"
    assert "_ext is missing" in why and "hatch_build.py" in why
    assert f"backend c is not available: not built: {why}" in out.stdout   # what `info` says
