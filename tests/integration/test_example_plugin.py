"""The third-party plugin of examples/custom_plugin, installed beside every mnp distribution
in a fresh environment: it is listed as a loaded, non-builtin plugin; its layer, optimizer,
dataset and loss are used by name; a model with its Swish layer trains with Lion and
FocalLoss, saves and loads; with the plugin disabled the same file fails to load, naming
the layer."""
from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PACKAGES = ("core", "nn", "optim", "data", "kernels-c", "example-plugin")
PROVIDES = {"datasets": ["checkerboard"], "layers": ["Swish"], "losses": ["FocalLoss"],
            "optimizers": ["Lion"]}

BY_NAME = """
import json
import numpy as np
import mnp.core as mnp
import mnp_example_plugin as ex
from mnp import data, nn, optim

X, y = data.load("checkerboard", n=300, squares=2, seed=0)
p = mnp.tensor([1.0, -2.0], requires_grad=True)
print(json.dumps({
    "same_objects": [mnp.lookup("layers", "Swish") is ex.Swish,
                     mnp.lookup("optimizers", "Lion") is ex.Lion,
                     mnp.lookup("datasets", "checkerboard") is ex.checkerboard,
                     mnp.lookup("losses", "FocalLoss") is ex.FocalLoss,
                     type(optim.create("lion", [p], lr=0.1)) is ex.Lion],
    "listed": "checkerboard" in data.list_datasets(),
    "data": [list(X.shape), X.dtype.name, y.dtype.name, sorted(set(y.tolist())),
             bool(((X >= 0) & (X < 1)).all())],
    "parity": bool((y == ((X[:, 0] >= 0.5) ^ (X[:, 1] >= 0.5))).all()),
}))
"""

RULES = """
import json
import numpy as np
import mnp.core as mnp
from mnp import nn, optim

# Lion against its update rule, written out in numpy, for three steps with weight decay
lr, b1, b2, wd = 0.1, 0.9, 0.99, 0.1
w0 = np.array([0.5, -1.5, 2.0], np.float32)
w = mnp.tensor(w0.copy(), requires_grad=True)
opt = optim.create("Lion", [w], lr=lr, betas=(b1, b2), weight_decay=wd)
ref, m = w0.astype(np.float64), np.zeros(3)
for target in (1.0, -1.0, 0.25):
    opt.zero_grad()
    ((w - target) ** 3).sum().backward()
    opt.step()
    g = 3 * (ref - target) ** 2
    ref = ref * (1 - lr * wd) - lr * np.sign(b1 * m + (1 - b1) * g)
    m = b2 * m + (1 - b2) * g
lion_ok = bool(np.allclose(w.numpy(), ref, atol=1e-5))
state_keys = sorted(opt.state_dict()["state"][0])
try:
    optim.create("Lion", [w], lr=-1.0)
    bad_lr = None
except mnp.MnpError as exc:
    bad_lr = str(exc)

# FocalLoss: cross-entropy at gamma=0, smaller than it for gamma>0, gradients by finite
# differences
Loss = mnp.lookup("losses", "FocalLoss")
rng = np.random.default_rng(0)
logits = rng.normal(size=(6, 3))
target = np.array([0, 1, 2, 2, 1, 0])
ce = nn.CrossEntropyLoss()(mnp.tensor(logits), mnp.tensor(target)).item()
focal0 = Loss(gamma=0.0)(mnp.tensor(logits), mnp.tensor(target)).item()
focal2 = Loss(gamma=2.0)(mnp.tensor(logits), mnp.tensor(target)).item()
x = mnp.tensor(logits, dtype=mnp.float64, requires_grad=True)
grad_ok = mnp.grad_check(lambda t: Loss(gamma=2.0)(t, target), [x])
try:
    Loss()(mnp.tensor(logits), mnp.tensor(target[:4]))
    bad_shape = None
except mnp.ShapeError as exc:
    bad_shape = str(exc)

# Swish: x * sigmoid(beta * x), beta learned
swish = mnp.lookup("layers", "Swish")(beta=0.5)
v = np.linspace(-3, 3, 7).astype(np.float32)
swish_ok = bool(np.allclose(swish(mnp.tensor(v)).numpy(), v / (1 + np.exp(-0.5 * v)), atol=1e-6))
swish(mnp.tensor(v)).sum().backward()
print(json.dumps({"lion_ok": lion_ok, "state_keys": state_keys, "bad_lr": bad_lr,
                  "ce": ce, "focal0": focal0, "focal2": focal2, "grad_ok": grad_ok,
                  "bad_shape": bad_shape, "swish_ok": swish_ok,
                  "beta_grad": swish.beta.grad is not None,
                  "swish_params": [n for n, _ in swish.named_parameters()]}))
"""

TRAIN = """
import json, os, sys
import numpy as np
import mnp.core as mnp
from mnp import data, nn, optim

mnp.manual_seed(0)
X, y = data.load("checkerboard", n=512, squares=2, seed=0)
X = (X - 0.5) * 4
Swish = mnp.lookup("layers", "Swish")
model = nn.Sequential(nn.Linear(2, 32), Swish(), nn.Linear(32, 32), Swish(beta=1.5),
                      nn.Linear(32, 2))
trainer = nn.Trainer(model, optim.create("Lion", model.parameters(), lr=2e-3), "FocalLoss")
history = trainer.fit(X, y, epochs=10, batch_size=32, progress=False, seed=0)
path = os.path.abspath(sys.argv[1])
nn.save(model, path)
with mnp.no_grad():
    out = model(mnp.tensor(X[:16])).numpy()
print(json.dumps({"loss": history.history["loss"], "accuracy": history.history["accuracy"],
                  "betas": [model[1].beta.item(), model[3].beta.item()],
                  "outputs": out.tolist(), "inputs": X[:16].tolist()}))
"""

LOAD = """
import json, sys
import numpy as np
import mnp.core as mnp
from mnp import nn
try:
    model = nn.load(sys.argv[1])
except mnp.MnpError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    raise SystemExit(0)
with mnp.no_grad():
    out = model(mnp.tensor(np.array(json.loads(sys.argv[2]), np.float32))).numpy()
print(json.dumps({"types": [type(m).__name__ for m in model],
                  "betas": [model[1].beta.item(), model[3].beta.item()],
                  "outputs": out.tolist()}))
"""


@pytest.fixture(scope="module")
def venv(make_venv):
    return make_venv("with-plugin", *PACKAGES)


@pytest.fixture(scope="module")
def trained(venv):
    """Train in one process and save the model; the file path and what the run printed."""
    path = venv.workdir / "swish.safetensors"
    return path, venv.json(TRAIN, str(path))


def test_listing_shows_the_plugin_after_the_builtins(venv, builtin_rows):
    rows = venv.list_plugins()
    builtin_rows(rows[:-1], PACKAGES[:-1])
    example = rows[-1]
    assert (example["name"], example["distribution"], example["version"]) == \
        ("example", "mnp-example-plugin", "0.1.0")
    assert (example["status"], example["error"], example["builtin"]) == ("loaded", None, False)
    assert example["module"] == "mnp_example_plugin.plugin"
    assert example["provides"] == PROVIDES


def test_everything_is_found_by_name(venv):
    out = venv.json(BY_NAME)
    assert out["same_objects"] == [True] * 5
    assert out["listed"]
    assert out["data"] == [[300, 2], "float32", "int64", [0, 1], True]
    assert out["parity"]


def test_the_layer_optimizer_and_loss_follow_their_definitions(venv):
    out = venv.json(RULES)
    assert out["lion_ok"] and out["state_keys"] == ["exp_avg"]
    assert "Lion" in out["bad_lr"] and "-1.0" in out["bad_lr"]
    assert out["focal0"] == pytest.approx(out["ce"], rel=1e-6)
    assert 0 < out["focal2"] < out["ce"]
    assert out["grad_ok"] is True
    assert "FocalLoss" in out["bad_shape"] and "(6, 3)" in out["bad_shape"] \
        and "(4,)" in out["bad_shape"]
    assert out["swish_ok"] and out["beta_grad"] and out["swish_params"] == ["beta"]


def test_lion_and_focal_loss_train_a_swish_model(trained):
    _, out = trained
    loss = out["loss"]
    assert loss[-1] < loss[0] / 5, loss
    assert out["accuracy"][-1] >= 0.95
    assert out["betas"] != [1.0, 1.5]                # beta is trained


def test_a_saved_swish_model_loads_with_identical_outputs(venv, trained):
    path, saved = trained
    out = venv.json(LOAD, str(path), json.dumps(saved["inputs"]))
    assert out["types"] == ["Linear", "Swish", "Linear", "Swish", "Linear"]
    assert out["betas"] == saved["betas"]
    assert out["outputs"] == saved["outputs"]


def test_with_the_plugin_disabled_the_file_names_the_unknown_layer(venv, trained):
    path, saved = trained
    env = {"MNP_DISABLE_PLUGINS": "example"}
    out = venv.json(LOAD, str(path), json.dumps(saved["inputs"]), **env)
    assert out["error"] == "ModelFormatError"
    assert "'Swish'" in out["message"] and "not registered" in out["message"]
    assert str(path) in out["message"]
    assert "saved with it from plugin 'example' of distribution mnp-example-plugin" \
        in out["message"] and "that plugin is blocked here" in out["message"]
    rows = {r["name"]: r for r in venv.list_plugins(**env)}
    assert rows["example"]["status"] == "blocked" and rows["example"]["provides"] == {}
    assert "MNP_DISABLE_PLUGINS" in rows["example"]["error"]
    assert all(r["status"] == "loaded" for n, r in rows.items() if n != "example")
