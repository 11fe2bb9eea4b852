"""Every script in examples/ runs as a user runs it (``python examples/<name>.py``, in a
fresh process, from a scratch directory) and reaches the outcome it promises."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    """stdout of ``python examples/<name> args...``; the run must succeed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def percent(pattern: str, text: str) -> float:
    match = re.search(pattern + r"\s*([0-9.]+)%", text)
    assert match, f"no {pattern!r} in the output:\n{text[-2000:]}"
    return float(match.group(1)) / 100


def test_every_example_is_tested():
    tested = {"xor.py", "spiral.py", "digits_mlp.py", "digits_cnn.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_xor_is_solved(tmp_path):
    out = run_example("xor.py", cwd=tmp_path)
    rows = re.findall(r"\[([01])\.0, ([01])\.0\] -> ([0-9.]+)", out)
    assert len(rows) == 4, out
    for a, b, p in rows:
        assert (float(p) > 0.5) == (a != b), (a, b, p)
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", out)]
    assert len(losses) >= 2 and losses[-1] < losses[0] / 4, losses


def test_spiral_is_separated(tmp_path):
    assert percent("training accuracy on the spiral:", run_example("spiral.py", cwd=tmp_path)) >= 0.95


def test_digits_mlp_reaches_97_percent_with_default_epochs(tmp_path):
    assert percent("test accuracy:", run_example("digits_mlp.py", cwd=tmp_path)) >= 0.97


@pytest.mark.slow
def test_digits_cnn_reaches_98_percent_and_saves_model_and_curves(tmp_path):
    out_dir = tmp_path / "run"
    out = run_example("digits_cnn.py", "--no-progress", "--out", str(out_dir), cwd=tmp_path)
    accuracy = percent("test accuracy:", out)
    assert accuracy >= 0.98
    assert "Total params: 38,378" in out

    png = out_dir / "training.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000

    # the saved file is the trained model: it scores the same on the same held-out split
    import mnp.core as mnp
    from mnp import data, nn
    model = nn.load(out_dir / "model.safetensors")
    model.eval()
    X, y = data.digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    _, X_test, _, y_test = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
    with mnp.no_grad():
        predicted = model(mnp.tensor(X_test)).numpy().argmax(axis=1)
    assert float((predicted == y_test).mean()) == pytest.approx(accuracy, abs=1e-4)
