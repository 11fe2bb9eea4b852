"""Trainer batches arrays with mnp-data's DataLoader, found through core's registry (mnp.nn
never imports mnp.data), and with its own slicing without it: the same batches either way."""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core import PluginHost, use_host
from mnp.nn import Trainer, trainer_data

optim = pytest.importorskip("mnp.optim")
data = pytest.importorskip("mnp.data")


def _run(loader, monkeypatch, **fit):
    monkeypatch.setattr(trainer_data, "_loader", lambda: loader)
    g = np.random.default_rng(0)
    x = g.normal(size=(50, 1, 6, 6))                    # float64 into a float32 model
    y = g.integers(0, 3, 50)
    mnp.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.3),
                          nn.Linear(32, 3))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), "CrossEntropyLoss")
    history = trainer.fit(x, y, epochs=3, batch_size=16, progress=False, seed=3,
                          validation_data=(x[:10], y[:10]), **fit)
    out = trainer.predict(x[:7], batch_size=4).data
    return [p.data.copy() for p in model.parameters()], history.history, out


@pytest.mark.parametrize("shuffle", [True, False])
def test_loader_and_fallback_train_bit_identically(monkeypatch, shuffle):
    made = []

    class Counting(data.DataLoader):
        def __init__(self, *args, **kw):
            made.append(kw.get("sampler"))
            super().__init__(*args, **kw)
    p1, h1, o1 = _run(Counting, monkeypatch, shuffle=shuffle)
    p2, h2, o2 = _run(None, monkeypatch, shuffle=shuffle)
    assert made, "the registered DataLoader was not used"
    assert (made[0] is not None) == shuffle
    assert h1 == h2
    for a, b in zip(p1, p2):
        assert np.array_equal(a, b)
    assert np.array_equal(o1, o2)


def test_the_loader_is_found_through_core_registry():
    assert trainer_data._loader() is mnp.lookup("loaders", trainer_data.LOADER)
    with use_host(PluginHost(entry_points=lambda: [], environ={})):
        assert trainer_data._loader() is None          # no mnp-data plugin: the fallback


def test_nn_does_not_import_mnp_data():
    root = pathlib.Path(nn.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+mnp\.data\b|from mnp import data",
                              p.read_text(), re.M)]
    assert offenders == []
