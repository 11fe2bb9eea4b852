"""Files written by earlier mnp releases (the fixtures were written by mnp-nn 0.1.0's own
container writer) still load, with the same values, order and metadata."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import mnp.core as mnp
from mnp.nn import serialization as S
from mnp.nn.serialization_io import read_file

FIXTURES = Path(__file__).parent / "fixtures"


def _expected_weights():
    shapes = {"0.weight": (2, 3), "0.bias": (2,), "2.weight": (1, 2), "2.bias": (1,)}
    return {k: (np.arange(int(np.prod(s)), dtype=np.float32).reshape(s) + i) / 4
            for i, (k, s) in enumerate(shapes.items())}


def test_v1_state_dict_file_loads_in_file_order_with_every_dtype():
    path = FIXTURES / "v1_state_dict.safetensors"
    sd = S.load_state_dict(path)
    assert list(sd) == ["z", "a", "m", "i", "h", "k", "e"]
    want = {"z": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.array([1.5, -2.0]),
            "m": np.array([[True, False]]), "i": np.arange(3, dtype=np.int64) - 1,
            "h": np.array([0.5, 2.0], dtype=np.float16), "k": np.array([7, -8], np.int32),
            "e": np.zeros((0, 2), np.float32)}
    for k, v in want.items():
        assert sd[k].dtype == v.dtype and sd[k].shape == v.shape, k
        assert np.array_equal(sd[k].data, v), k
    _, meta = read_file(path)
    assert meta["note"] == "fixture" and meta["mnp.kind"] == "state_dict"


def test_v1_model_file_loads_and_computes():
    model = S.load(FIXTURES / "v1_model.safetensors")
    weights = _expected_weights()
    for k, v in model.state_dict().items():
        assert np.array_equal(v.data, weights[k]), k
    x = np.array([[1.0, -2.0, 0.5]], np.float32)
    hidden = np.maximum(x @ weights["0.weight"].T + weights["0.bias"], 0)
    want = hidden @ weights["2.weight"].T + weights["2.bias"]
    assert np.allclose(model(mnp.tensor(x)).data, want)


def test_v1_checkpoint_loads_its_optimizer_state_epoch_and_extra():
    ck = S.load_checkpoint(FIXTURES / "v1_checkpoint.safetensors")
    assert ck["epoch"] == 4
    assert ck["extra"] == {"tag": "x", "t": (1, 2.5)}
    opt = ck["optimizer"]
    assert opt["lr"] == 0.1 and opt["state"][0]["step"] == 3
    assert np.array_equal(opt["state"][0]["buf"], np.ones(2))
    weights = _expected_weights()
    assert sorted(ck["model"]) == sorted(weights)
    for k, v in weights.items():
        assert np.array_equal(ck["model"][k].data, v), k
