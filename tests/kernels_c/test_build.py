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
