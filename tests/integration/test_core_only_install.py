"""``pip install ./packages/core`` alone, in a fresh environment: a working mnp.core whose
only plugin is the numpy backend, and no other mnp distribution."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORK = """
import json
import mnp.core as mnp
x = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = ((x @ x).exp() * 0 + x * x).sum()
y.backward()
print(json.dumps({"grad": x.grad.tolist(), "value": y.item(), "version": mnp.__version__}))
"""


@pytest.fixture(scope="module")
def venv(make_venv):
    return make_venv("core-only", "core")


def test_core_imports_and_differentiates(venv):
    out = venv.json(WORK)
    assert out["grad"] == [[2.0, 4.0], [6.0, 8.0]] and out["value"] == 30.0
    assert out["version"] != "0.0.0"


def test_only_core_is_installed(venv):
    report = venv.probe()
    assert report["isolated"]
    assert report["modules"]["mnp.core"]["ok"] and venv.inside(report["modules"]["mnp.core"]["file"])
    for name in ("mnp.nn", "mnp.optim", "mnp.data", "mnp.kernels_c", "mnp_example_plugin"):
        assert not report["modules"][name]["ok"], name
    assert report["backend"] == "numpy"
    assert report["backends"] == [{"name": "numpy", "available": True}]


def test_only_the_numpy_backend_plugin_is_listed(venv, builtin_rows):
    builtin_rows(venv.list_plugins(), ("core",))


MISSING = """
import sys
out = []
for line in ("from mnp import nn", "import mnp.optim", "from mnp import kernels_c"):
    try:
        exec(line)
    except ModuleNotFoundError as exc:
        out.append(str(exc))
out.append(str("mnp.core" in sys.modules))
print("\\n".join(out))
"""


def test_missing_parts_name_the_distribution_to_install(venv):
    """The wheel's start-up hook answers before mnp.core is imported (and without importing it)."""
    lines = venv.code(MISSING).strip().splitlines()
    assert len(lines) == 4, lines
    for line, dist in zip(lines, ("mnp-nn", "mnp-optim", "mnp-kernels-c")):
        assert f"pip install {dist}" in line, line
    assert lines[3] == "False"
    proc = venv.run("-c", "import mnp.core as m; m.ones(1) + 1", env={"MNP_BACKEND": "c"},
                    check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "MNP_BACKEND='c'" in lines[0], proc.stderr
    assert "pip install mnp-kernels-c" in lines[0]
