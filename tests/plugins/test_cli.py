"""The `mnp` command line: list-plugins, info, check-backend (in-process against fake
distributions, plus the real entry points in subprocesses)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.cli import main, summarize_provides
from mnp.core.plugins import use_host

CLI_PLUGIN = """
    import numpy as np
    from mnp.core import hookimpl

    def wrong_mul(a, b):
        return np.add(a, b)

    @hookimpl
    def mnp_register_backends(register):
        register("good", {"add": np.add, "exp": np.exp, "sqrt": np.sqrt}, priority=3)
        register("wrong", {"mul": wrong_mul, "add": np.add}, priority=-2)
        register("absent", {"add": np.add}, available=False,
                 description="not built here: run the build step")

    @hookimpl
    def mnp_register_layers(register):
        register("CliLayer", object)
        register("CliLayer2", object)
"""


@pytest.fixture
def cli_host(site, src):
    site.add("mnp-cli", {"cli": CLI_PLUGIN}, version="2.0.1")
    site.add("mnp-broken", {"broken": src.BROKEN_IMPORT})
    site.add("mnp-blocked", {"blocked": src.GOOD})
    with use_host(site.host(environ={"MNP_DISABLE_PLUGINS": "blocked"})) as host:
        yield host


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_plugins_table(cli_host, capsys):
    code, out, _ = run(capsys, "list-plugins")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "version", "status", "error", "provides"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"numpy", "cli", "broken", "blocked"}
    assert "2.0.1" in rows["cli"] and "loaded" in rows["cli"]
    assert "backends: absent, good, wrong; kernels: 1 absent, 3 good, 2 wrong; layers: 2" in rows["cli"]
    assert "failed" in rows["broken"] and "ModuleNotFoundError" in rows["broken"]
    assert "blocked" in rows["blocked"] and "MNP_DISABLE_PLUGINS" in rows["blocked"]
    n_numpy = len(next(p for p in mnp.plugins() if p["name"] == "numpy")["provides"]["kernels"])
    assert f"kernels: {n_numpy} numpy" in rows["numpy"]


def test_list_plugins_truncates_long_errors_in_the_table_only(cli_host, capsys):
    _, out, _ = run(capsys, "list-plugins", "--width", "20")
    broken = next(line for line in out.splitlines() if line.startswith("broken"))
    assert "..." in broken and "mnp_no_such_module_anywhere" not in broken
    _, out, _ = run(capsys, "list-plugins", "--json")
    assert "mnp_no_such_module_anywhere" in next(p for p in json.loads(out) if p["name"] == "broken")["error"]


def test_list_plugins_json_is_complete(cli_host, capsys):
    code, out, _ = run(capsys, "list-plugins", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows == mnp.plugins()
    cli = next(p for p in rows if p["name"] == "cli")
    assert cli["provides"]["kernels"] == ["absent:add", "good:add", "good:exp", "good:sqrt",
                                          "wrong:add", "wrong:mul"]
    assert {"name", "version", "module", "builtin", "status", "error", "provides"} <= set(cli)


def test_info(cli_host, capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0
    assert f"numpy {np.__version__}" in out and "python 3." in out
    assert "selected backend: good (highest-priority available backend)" in out
    assert "dtypes: float16, float32, float64, int32, int64, bool" in out
    assert "default dtype: float32" in out
    table = {line.split()[0]: line.split() for line in out.splitlines()
             if line.split() and line.split()[0] in ("good", "wrong", "absent", "numpy")}
    assert table["good"][:4] == ["good", "yes", "3", "3"]
    assert table["absent"][:2] == ["absent", "no"]
    assert "backend absent is not available: not built here: run the build step" in out
    assert "backend good is not available" not in out
    assert "plugins: 1 blocked, 1 failed, 2 loaded" in out


def test_info_json_follows_state(cli_host, capsys):
    mnp.set_default_dtype(mnp.float64)
    try:
        with mnp.use_backend("wrong"):
            code, out, _ = run(capsys, "info", "--json")
    finally:
        mnp.set_default_dtype(mnp.float32)
    info = json.loads(out)
    assert code == 0
    assert info["selected_backend"] == "wrong" and info["default_dtype"] == "float64"
    assert info["mnp"]["mnp-core"] == mnp.__version__
    assert {b["name"]: b["kernels"] for b in info["backends"]}["good"] == 3
    assert info["dtypes"] == ["float16", "float32", "float64", "int32", "int64", "bool"]


def test_check_backend_passes(cli_host, capsys):
    code, out, _ = run(capsys, "check-backend", "good")
    assert code == 0
    assert out.splitlines()[0] == "conformance of backend 'good' against 'numpy'"
    assert out.splitlines()[-1] == "6 passed, 0 failed, 0 error, 0 skipped"


def test_check_backend_fails_with_exit_1(cli_host, capsys):
    code, out, _ = run(capsys, "check-backend", "wrong")
    assert code == 1
    rows = [line.split()[:3] for line in out.splitlines() if line.startswith("mul  ")]   # table rows
    assert sorted(rows) == [["mul", "float32", "failed"], ["mul", "float64", "failed"]]
    full = [line for line in out.splitlines() if line.startswith("mul [")]     # each failure in full
    assert len(full) == 2 and all("beyond rtol" in line and "inputs float" in line for line in full)
    assert out.splitlines()[-1] == "2 passed, 2 failed, 0 error, 0 skipped"
    code, out, _ = run(capsys, "check-backend", "wrong", "--kernel", "add", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"] == {"passed": 2, "failed": 0, "error": 0, "skipped": 0}
    assert {r["name"] for r in data["results"]} == {"add"}


@pytest.mark.parametrize("name, message", [("nope", "unknown backend 'nope'"),
                                           ("absent", "'absent' (from 'cli') is not available")])
def test_check_backend_unknown_or_unavailable_exits_2(cli_host, capsys, name, message):
    code, out, err = run(capsys, "check-backend", name)
    assert code == 2 and out == ""
    assert message in err


ODD_PLUGIN = """
    import numpy as np
    from mnp.core import hookimpl

    class Opaque:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("no array here")

    def exp_opaque(x):
        return Opaque()

    def neg_raises(x):
        raise ZeroDivisionError("division by zero in the neg kernel")

    def sum_wrong(x, axes, keepdims):
        return np.sum(x, axis=axes, keepdims=keepdims) + 1

    @hookimpl
    def mnp_register_backends(register):
        register("odd", {"exp": exp_opaque, "neg": neg_raises, "sum": sum_wrong}, priority=-3)
"""

#: names of the suite's own helpers, which a user must never see
INTERNAL = ("Traceback", "_run_kernel", "_compare", "_check", "_Kernel", "_Failure", "_Mismatch",
            "_clone", "_describe", "run_conformance", "conformance.py")


def test_check_backend_reports_kernel_dtype_case_and_difference_without_internals(site, capsys):
    site.add("mnp-odd", {"odd": ODD_PLUGIN})
    with use_host(site.host()):
        code, out, err = run(capsys, "check-backend", "odd")
    assert code == 1 and err == ""
    assert not [name for name in INTERNAL if name in out], out
    full = {line.split(" [")[0]: line for line in out.splitlines() if " [float" in line[:20]}
    assert set(full) == {"exp", "neg", "sum"}
    assert "returned Opaque, which does not compare with the reference" in full["exp"]
    assert "raised ZeroDivisionError: division by zero in the neg kernel" in full["neg"]
    assert "max error 1" in full["sum"] and "beyond rtol" in full["sum"]
    for line in full.values():
        assert "case '" in line and "inputs float" in line      # the case and its shapes


@pytest.mark.parametrize("argv", [("check-backend", "nope"), ("check-backend", "good", "--kernel", "conv9d")])
def test_check_backend_errors_are_one_line(cli_host, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("mnp check-backend: ")
    assert not [name for name in INTERNAL if name in err], err


def test_strict_failure_exits_1(site, src, capsys):
    site.add("mnp-broken", {"broken": src.BROKEN_IMPORT})
    with use_host(site.host(environ={"MNP_STRICT_PLUGINS": "1"})):
        code, out, err = run(capsys, "list-plugins")
    assert code == 1 and "PluginError" in err and "broken" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_summarize_provides():
    assert summarize_provides({}) == "-"
    assert summarize_provides({"kernels": ["numpy:a", "c:b", "c:d"], "datasets": ["x"]}) == \
        "kernels: 2 c, 1 numpy; datasets: 1"


# -- the real entry points ------------------------------------------------------------------
def _clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("MNP_")}


def test_python_dash_m_list_plugins_json():
    proc = subprocess.run([sys.executable, "-m", "mnp.core", "list-plugins", "--json"],
                          capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows[0]["name"] == "numpy" and rows[0]["status"] == "loaded"
    assert all(r["status"] == "loaded" for r in rows if r["builtin"]), rows


def test_mnp_console_script():
    exe = shutil.which("mnp", path=os.path.dirname(sys.executable)) or shutil.which("mnp")
    if exe is None:
        pytest.skip("the mnp console script is not on PATH")
    proc = subprocess.run([exe, "info", "--json"], capture_output=True, text=True,
                          env=_clean_env(), timeout=60)
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"{exe} belongs to another environment")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["selected_backend"] in {b["name"] for b in mnp.backends()}
