"""``pip install ./packages/core ./packages/nn ./packages/optim`` in a fresh environment: the
usual model-building install without mnp.data or the C backend. Layers, losses,
optimizers, the Trainer and model files work; mnp.data and mnp.kernels_c are absent, and
the plugin listing shows exactly core's, nn's and optim's plugins."""
from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("core", "nn", "optim")

WORK = """
import json, os
import numpy as np
import mnp.core as mnp
from mnp import nn, optim

out = {}
# core: a tiny forward/backward
x = mnp.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
(x.relu() * x).sum().backward()
out["grad"] = x.grad.tolist()

# nn: a layer's forward against numpy, a convolution's output shape
mnp.manual_seed(0)
lin = nn.Linear(3, 2)
a = np.arange(12, dtype=np.float32).reshape(4, 3)
out["linear_ok"] = bool(np.allclose(lin(mnp.tensor(a)).numpy(),
                                    a @ lin.weight.numpy().T + lin.bias.numpy(), atol=1e-5))
out["conv_shape"] = list(nn.Conv2d(1, 4, 3, padding=1)(mnp.zeros((2, 1, 8, 8))).shape)

# optim: one plain SGD step is p - lr * grad exactly
w = mnp.tensor([1.0, -2.0, 3.0], requires_grad=True)
(w * w).sum().backward()
optim.SGD([w], lr=0.25).step()
out["sgd"] = w.tolist()

# nn + optim: train by registered names, without mnp.data
rng = np.random.default_rng(0)
X = rng.normal(size=(256, 2)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
trainer = nn.Trainer(model, optim.create("Adam", model.parameters(), lr=0.05),
                     "CrossEntropyLoss", metrics=("accuracy",))
history = trainer.fit(X, y, epochs=15, batch_size=32, progress=False, seed=0)
out["loss"] = history.history["loss"]
out["accuracy"] = trainer.evaluate(X, y)["accuracy"]

# a model file round trip
path = os.path.abspath("model.safetensors")
nn.save(model, path)
again = nn.load(path)
out["same_outputs"] = bool((again(mnp.tensor(X)).numpy() == model(mnp.tensor(X)).numpy()).all())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def venv(make_venv):
    return make_venv("core-nn-optim", *PACKAGES)


def test_installed_parts_import_from_the_environment_and_the_rest_are_absent(venv):
    report = venv.probe()
    assert report["isolated"]
    mods = report["modules"]
    for name in ("mnp.core", "mnp.nn", "mnp.optim"):
        assert mods[name]["ok"] and venv.inside(mods[name]["file"]), mods[name]
    for name in ("mnp.data", "mnp.kernels_c", "mnp_example_plugin"):
        assert not mods[name]["ok"] and mods[name]["error"].startswith("ModuleNotFoundError")
    assert report["mnp_file"] is None and all(venv.inside(p) for p in report["mnp_path"])
    assert report["backend"] == "numpy"
    assert report["backends"] == [{"name": "numpy", "available": True}]


def test_layers_optimizers_and_training_work(venv):
    out = venv.json(WORK)
    assert out["grad"] == [[2.0, 0.0], [6.0, 1.0]]
    assert out["linear_ok"]
    assert out["conv_shape"] == [2, 4, 8, 8]
    assert out["sgd"] == [0.5, -1.0, 1.5]
    assert out["loss"][-1] < out["loss"][0] / 3, out["loss"]
    assert out["accuracy"] >= 0.95
    assert out["same_outputs"]


def test_plugin_listing_shows_core_nn_and_optim(venv, builtin_rows):
    rows = venv.list_plugins()
    builtin_rows(rows, PACKAGES)
    # the `mnp` console script prints the same listing
    assert json.loads(venv.script("mnp", "list-plugins", "--json").stdout) == rows


def test_mnp_data_missing_is_reported_clearly(venv):
    proc = venv.run("-c", "import mnp.core as mnp; mnp.lookup('datasets', 'digits')", check=False)
    assert proc.returncode != 0
    assert "PluginError: no dataset named 'digits' is registered" in proc.stderr
