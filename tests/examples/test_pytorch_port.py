"""examples/pytorch_port_cnn.py: one PyTorch training script, run under mnp and under torch
with only its import block switched, on a tiny budget."""
from __future__ import annotations

import importlib.util
import inspect
import math
import re

import pytest

import mnp.core as mnp
import mnp.nn as nn

from .test_examples import run_example

TINY = ("--epochs", "1", "--train-limit", "128", "--batch-size", "32", "--num-workers", "2")
PARAMETERS = 13130   # stem 352 + block1 2464 + block2 9024 + head 1290


def _missing_mnp_names() -> list[str]:
    missing = [f"mnp.nn.{name}" for name in ("SiLU", "AdaptiveAvgPool2d") if not hasattr(nn, name)]
    if "groups" not in inspect.signature(nn.Conv2d).parameters:
        missing.append("mnp.nn.Conv2d(groups=)")
    return missing


def _check_run(out: str, framework: str) -> None:
    assert f"parameters: {PARAMETERS}" in out, out
    loss = float(re.search(r"epoch 1/1: train loss ([0-9.naif]+)", out).group(1))
    assert math.isfinite(loss) and loss < 3.0, out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)%", out).group(1))
    assert 0 <= accuracy <= 100
    assert f"with {framework}" in out


@pytest.mark.skipif(bool(_missing_mnp_names()),
                    reason=f"the script needs {', '.join(_missing_mnp_names())}, not in this mnp")
def test_the_pytorch_script_runs_on_mnp(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")     # 2 workers + the main process on 2 cores
    out = run_example("pytorch_port_cnn.py", "--framework", "mnp", *TINY,
                      "--out", str(tmp_path / "run"), cwd=tmp_path)
    _check_run(out, "mnp")
    state = mnp.load(tmp_path / "run" / "model-mnp.pt")      # mnp's safe format, no pickle
    for key in ("stem.0.weight", "stem.1.running_mean", "block1.depthwise.weight",
                "block2.pointwise.weight", "block2.bn.num_batches_tracked", "head.3.bias"):
        assert key in state, sorted(state)
    assert tuple(state["block1.depthwise.weight"].shape) == (32, 1, 3, 3)


@pytest.mark.slow   # importing torch alone takes seconds
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_the_same_script_runs_on_torch(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = run_example("pytorch_port_cnn.py", "--framework", "torch", *TINY,
                      "--out", str(tmp_path / "run"), cwd=tmp_path)
    _check_run(out, "torch")
    assert (tmp_path / "run" / "model-torch.pt").stat().st_size > 40_000
