"""Every mnp distribution in a fresh environment: core, nn, optim, data and kernels-c
(which compiles its C extension at install). Everything imports from the environment, the
C backend is selected by default and serves the kernels, results match the numpy
reference, a digits model trains, the plugin listing shows the five plugins, and the example
scripts run on the installed packages (without matplotlib, which none of them requires)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("core", "nn", "optim", "data", "kernels-c")

WORK = """
import json
import numpy as np
import mnp.core as mnp
import mnp.kernels_c as kc
from mnp import data, nn, optim
from mnp.core.dispatch import resolve

out = {"available": kc.available(), "backend": mnp.get_backend()}
# every float32 kernel comes from C when the C backend has it, else from the reference
reference = [b for b in mnp.backends() if b["name"] == "numpy"][0]["kernels"]
served = {k: resolve(k, np.float32)[1] for k in reference}
out["c_kernels"] = sorted(kc.kernels())
out["served_by_c"] = sorted(k for k, b in served.items() if b == "c")
out["served_by_numpy"] = sorted(k for k, b in served.items() if b == "numpy")

# the C backend agrees with the numpy reference: a convolution, forward and backward
rng = np.random.default_rng(0)
xs = rng.normal(size=(2, 3, 9, 9)).astype(np.float32)
ws = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
results = {}
for name in ("c", "numpy"):
    with mnp.use_backend(name):
        x = mnp.tensor(xs, requires_grad=True)
        w = mnp.tensor(ws, requires_grad=True)
        y = nn.functional.conv2d(x, w, padding=1)
        (y * y).sum().backward()
        results[name] = (y.numpy(), x.grad.numpy(), w.grad.numpy())
out["c_matches_numpy"] = [bool(np.allclose(a, b, rtol=1e-4, atol=1e-3))
                          for a, b in zip(results["c"], results["numpy"])]

# the digits, an MLP, Adam: the whole stack under the default (C) backend
mnp.manual_seed(0)
X, y = data.digits()
X = data.standardize(X)
X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
trainer = nn.Trainer(model, optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss())
history = trainer.fit(X_train, y_train, epochs=3, batch_size=32, progress=False, seed=0)
out["loss"] = history.history["loss"]
out["test_accuracy"] = trainer.evaluate(X_test, y_test)["accuracy"]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def venv(make_venv):
    return make_venv("everything", *PACKAGES)


def test_every_part_imports_from_the_environment(venv):
    report = venv.probe()
    assert report["isolated"]
    mods = report["modules"]
    for name in ("mnp.core", "mnp.nn", "mnp.optim", "mnp.data", "mnp.kernels_c"):
        assert mods[name]["ok"] and venv.inside(mods[name]["file"]), mods[name]
    assert not mods["mnp_example_plugin"]["ok"]
    assert report["mnp_file"] is None and all(venv.inside(p) for p in report["mnp_path"])
    assert report["backend"] == "c"
    assert report["backends"] == [{"name": "c", "available": True},
                                  {"name": "numpy", "available": True}]


def test_the_c_backend_serves_kernels_and_the_stack_trains(venv):
    out = venv.json(WORK)
    assert out["available"] and out["backend"] == "c"
    assert {"gemm", "conv2d_forward", "adam_step"} <= set(out["c_kernels"])
    assert out["served_by_c"] == out["c_kernels"]
    # kernels the C backend lacks fall back to the numpy reference
    assert out["served_by_numpy"] and not set(out["served_by_numpy"]) & set(out["c_kernels"])
    assert out["c_matches_numpy"] == [True, True, True]
    assert out["loss"][-1] < out["loss"][0], out["loss"]
    assert out["test_accuracy"] >= 0.9


def test_mnp_backend_variable_selects_the_reference(venv):
    assert venv.code("import mnp.core as m; print(m.get_backend())",
                     MNP_BACKEND="numpy").strip() == "numpy"


def test_info_reports_every_distribution_and_the_c_backend(venv):
    info = json.loads(venv.run("-m", "mnp.core", "info", "--json").stdout)
    assert info["selected_backend"] == "c"
    assert all(info["mnp"][d] for d in ("mnp-core", "mnp-nn", "mnp-optim", "mnp-data",
                                        "mnp-kernels-c")), info["mnp"]
    assert info["plugins"] == {"loaded": 5}


def test_plugin_listing_shows_the_five_builtin_plugins(venv, builtin_rows):
    builtin_rows(venv.list_plugins(), PACKAGES)


def test_check_backend_passes_for_c(venv):
    proc = venv.run("-m", "mnp.core", "check-backend", "c", "--kernel", "gemm",
                    "--kernel", "conv2d_forward", "--json")
    report = json.loads(proc.stdout)
    assert report["backend"] == "c"
    assert report["summary"]["passed"] > 0
    assert report["summary"]["failed"] == 0 and report["summary"]["error"] == 0


def test_the_examples_run_on_the_installed_packages_without_matplotlib(venv):
    assert not venv.code("import importlib.util as u; print(u.find_spec('matplotlib') or '')").strip()
    out = venv.run(str(ROOT / "examples" / "xor.py")).stdout
    assert out.count(" -> ") == 4
    out = venv.run(str(ROOT / "examples" / "digits_cnn.py"), "--epochs", "1", "--no-progress",
                   "--out", "run").stdout
    assert "test accuracy:" in out
    assert (venv.workdir / "run" / "model.safetensors").stat().st_size > 0
    assert "training curves not saved: History.plot needs matplotlib" in out
