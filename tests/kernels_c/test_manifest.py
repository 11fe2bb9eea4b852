"""The manifest is the one list of C kernels: the extension, KERNEL_NAMES, the registration,
docs/kernels.md and the conformance kit all follow it, and a kernel missing anywhere fails here."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnp.kernels_c import manifest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "packages" / "kernels-c"
CSRC = PKG / "src" / "mnp" / "kernels_c" / "csrc"
MODULE_FUNCTIONS = {"set_num_threads", "get_num_threads", "build_info", "set_deterministic",
                    "get_deterministic", "thresholds"}


def test_docs_table_is_current():
    text = (ROOT / "docs" / "kernels.md").read_text(encoding="utf-8")
    assert manifest.updated_docs(text) == text, (
        "docs/kernels.md is out of date: run `python -m mnp.kernels_c --update-docs docs/kernels.md`")


def test_entries_are_well_formed():
    names = manifest.names()
    assert len(set(names)) == len(names), "a kernel is listed twice"
    for k in manifest.KERNELS:
        assert k.kind in ("unary", "binary", "unary_backward", "custom"), k
        assert k.reference == "numpy" and k.doc and "\n" not in k.doc, k
        assert set(k.dtypes) <= {"float16", "float32", "float64"}, k


def test_every_kernel_is_defined_in_its_family_file():
    for k in manifest.KERNELS:
        src = (CSRC / f"{k.family}.c").read_text()
        assert re.search(rf"KC_DECL\({k.name}\)\s*{{", src), f"kc_{k.name} is not in {k.family}.c"


def test_every_c_file_is_compiled():
    sys.path.insert(0, str(PKG))
    try:
        import hatch_build
    finally:
        sys.path.remove(str(PKG))
    compiled = {Path(s).name for s in hatch_build.sources(hatch_build.load_manifest())}
    assert compiled == {p.name for p in CSRC.glob("*.c")}


def test_build_reads_the_manifest_without_importing_mnp():
    code = ("import sys; before = set(sys.modules); sys.path.insert(0, sys.argv[1]); "
            "import hatch_build; m = hatch_build.load_manifest(); "
            "new = sorted(n for n in set(sys.modules) - before if n.startswith('mnp')); "
            "assert not new, new; "
            "print(len(m.KERNELS), 'KC_KERNEL_METHODS' in m.c_header())")
    out = subprocess.run([sys.executable, "-c", code, str(PKG)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(manifest.KERNELS)), "True"]


def test_every_kernel_is_built_and_nothing_else(ext):
    import mnp.kernels_c as pkg
    assert pkg.KERNEL_NAMES == manifest.names()
    missing = [n for n in manifest.names() if not callable(getattr(ext, n, None))]
    assert not missing, f"declared in manifest.py but not built: {missing}"
    public = {n for n in dir(ext) if callable(getattr(ext, n)) and not n.startswith("__")}
    helpers = {name for name, _, _ in manifest.HELPERS}
    assert public == set(manifest.names()) | helpers | MODULE_FUNCTIONS
    for k in manifest.KERNELS:
        assert getattr(ext, k.name).__doc__.startswith(f"{manifest.signature(k)}: ")


def test_thresholds_follow_the_manifest(ext):
    assert set(ext.thresholds()) == {k.name for k in manifest.KERNELS if k.limits}
    assert all(len(ext.thresholds()[k.name]) == len(k.limits) for k in manifest.KERNELS if k.limits)


def test_registration_follows_the_manifest(ext):
    from mnp.core.plugins import get_host
    spec = get_host().load().backends["c"]
    assert set(spec.kernels) == set(manifest.names())
    assert set(spec.fallbacks) == set(manifest.names()) and set(spec.fallbacks.values()) == {"numpy"}
    assert set(spec.size_rules) == {k.name for k in manifest.KERNELS if k.size_rule}
    assert spec.kinds == {k.name: k.kind for k in manifest.KERNELS if k.kind != "custom"}
    assert all(spec.kernels[k.name][1] == k.dtypes for k in manifest.KERNELS)


@pytest.mark.parametrize("k", manifest.KERNELS, ids=lambda k: k.name)
def test_every_kernel_has_a_reference_and_conformance_cases(k):
    from mnp.core.dispatch import resolve
    from mnp.core.testing.kinds import case_generators
    for dt in k.dtypes:
        _, where = resolve(k.name, np.dtype(dt), backend=k.reference)
        assert where == k.reference, f"{k.name}: no {k.reference!r} reference for {dt}"
    gen, sized = case_generators(k.name, None if k.kind == "custom" else k.kind)
    assert gen is not None, f"{k.name}: the conformance kit has no generator for it"
    assert sized is not None, f"{k.name}: the conformance kit has no sized cases for it"
