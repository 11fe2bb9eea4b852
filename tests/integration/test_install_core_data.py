"""``pip install ./packages/core ./packages/data`` in a fresh environment: mnp.data works
from the installed wheel (the bundled digits included), mnp.nn, mnp.optim and
mnp.kernels_c are absent, and the plugin listing shows the numpy backend and the datasets
and nothing else."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("core", "data")
DATASETS = ["blobs", "circles", "digits", "linear", "moons", "regression", "spiral", "xor"]

WORK = """
import importlib, json
import numpy as np
import mnp.core as mnp
import mnp.data as data
X, y = data.digits()
loader = data.DataLoader(data.TensorDataset(X[:10], y[:10]), batch_size=4)
batches = [(type(xb).__name__, list(xb.shape), yb.tolist()) for xb, yb in loader]
w = mnp.tensor(np.ones((64, 1), np.float32), requires_grad=True)
(mnp.tensor(X[:2]) @ w).sum().backward()
print(json.dumps({
    "digits_file": importlib.import_module("mnp.data.digits").__file__,
    "shape": list(X.shape), "dtype": X.dtype.name, "ydtype": y.dtype.name,
    "counts": np.bincount(y).tolist(),
    "datasets": data.list_datasets(),
    "xor": data.load("xor")[1].tolist(),
    "batches": batches, "labels": y[:10].tolist(),
    "grad_ok": bool(np.allclose(w.grad.numpy().ravel(), X[:2].sum(axis=0))),
}))
"""


@pytest.fixture(scope="module")
def venv(make_venv):
    return make_venv("core-data", *PACKAGES)


def test_installed_parts_import_from_the_environment_and_the_rest_are_absent(venv):
    report = venv.probe()
    assert report["isolated"]
    mods = report["modules"]
    for name in ("mnp.core", "mnp.data"):
        assert mods[name]["ok"] and venv.inside(mods[name]["file"]), mods[name]
    for name in ("mnp.nn", "mnp.optim", "mnp.kernels_c", "mnp_example_plugin"):
        assert not mods[name]["ok"] and mods[name]["error"].startswith("ModuleNotFoundError")
    assert report["mnp_file"] is None                      # mnp is a namespace package
    assert all(venv.inside(p) for p in report["mnp_path"])
    assert report["backend"] == "numpy"
    assert report["backends"] == [{"name": "numpy", "available": True}]


def test_datasets_load_from_the_installed_wheel(venv):
    out = venv.json(WORK)
    assert venv.inside(out["digits_file"])
    assert out["shape"] == [1797, 64] and out["dtype"] == "float32" and out["ydtype"] == "int64"
    assert out["counts"] == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert out["datasets"] == DATASETS
    assert out["xor"] == [0, 1, 1, 0]
    assert [b[:2] for b in out["batches"]] == [["Tensor", [4, 64]], ["Tensor", [4, 64]],
                                               ["Tensor", [2, 64]]]
    assert sum((b[2] for b in out["batches"]), []) == out["labels"]
    assert out["grad_ok"]


def test_plugin_listing_shows_the_numpy_backend_and_the_datasets(venv, builtin_rows):
    rows = venv.list_plugins()
    builtin_rows(rows, PACKAGES)
    assert rows[1]["provides"]["datasets"] == sorted(DATASETS)
    assert rows[1]["provides"]["loaders"] == ["DataLoader"]
