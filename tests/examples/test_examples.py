"""Every script in examples/ runs as a user runs it (``python examples/<name>.py``, in a
fresh process, from a scratch directory) and reaches the outcome it promises."""
from __future__ import annotations

import importlib.util
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


def char_gpt_module():
    """examples/char_gpt.py imported as a module (its model and helpers, without running it)."""
    spec = importlib.util.spec_from_file_location("char_gpt", EXAMPLES / "char_gpt.py")
    gpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpt)
    return gpt


def percent(pattern: str, text: str) -> float:
    match = re.search(pattern + r"\s*([0-9.]+)%", text)
    assert match, f"no {pattern!r} in the output:\n{text[-2000:]}"
    return float(match.group(1)) / 100


def test_every_example_is_tested():
    tested = {"xor.py", "spiral.py", "digits_mlp.py", "digits_cnn.py", "char_gpt.py",
              "pytorch_port_cnn.py"}  # the last in test_pytorch_port.py
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


GPT_TINY = ("--steps", "6", "--warmup", "2", "--eval-interval", "3", "--eval-batches", "1",
            "--layers", "1", "--width", "32", "--heads", "2", "--block-size", "16",
            "--sample-tokens", "40", "--no-progress")


def test_char_gpt_trains_checkpoints_plots_and_samples(tmp_path):
    out = run_example("char_gpt.py", *GPT_TINY, "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert re.search(r"step 3: train loss [0-9.]+, validation loss [0-9.]+", out), out
    loss = float(re.search(r"validation loss ([0-9.]+) nats per character over the whole held-out "
                           r"text \([0-9,]+ characters\) after 6 steps", out).group(1))
    assert 2.0 < loss < 4.5              # below uniform guessing (ln 65 = 4.17) is not yet required
    sample = out.split("sample:\n", 1)[1]
    assert len(sample.rstrip("\n")) >= 40
    for name in ("checkpoint.safetensors", "vocab.json"):
        assert (tmp_path / "run" / name).exists(), name
    if "loss curves saved" in out:
        assert (tmp_path / "run" / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_char_gpt_resumes_exactly(tmp_path):
    """Stop at step 4 of 6, resume: the same losses and weights as 6 steps in one go."""
    import mnp.core as mnp
    from mnp import nn
    straight, split = tmp_path / "straight", tmp_path / "split"
    run_example("char_gpt.py", *GPT_TINY, "--out", str(straight), cwd=tmp_path)
    out = run_example("char_gpt.py", *GPT_TINY, "--stop-at", "4", "--out", str(split), cwd=tmp_path)
    assert "stopped at step 4" in out
    out = run_example("char_gpt.py", *GPT_TINY, "--resume", "--out", str(split), cwd=tmp_path)
    assert "resumed from" in out and "at step 4" in out
    a = nn.load_checkpoint(straight / "checkpoint.safetensors")
    b = nn.load_checkpoint(split / "checkpoint.safetensors")
    assert a["epoch"] == b["epoch"] == 6
    assert a["extra"]["log"] == b["extra"]["log"]
    for name, value in a["model"].items():
        assert np.array_equal(value.numpy(), b["model"][name].numpy()), name


def test_gpt_whole_text_evaluation_is_the_mean_over_every_window():
    """`evaluate` scores each held-out position once: the mean of the per-window losses,
    whatever the batch size."""
    import mnp.core as mnp
    from mnp import data
    from mnp.nn import functional as F
    gpt = char_gpt_module()
    mnp.manual_seed(0)
    model = gpt.GPT(vocab_size=11, block_size=8, layers=1, heads=2, width=16)
    windows = data.TokenWindows(np.random.default_rng(0).integers(0, 11, 8 * 7 + 3), 8)
    with mnp.no_grad():
        per_window = [float(F.cross_entropy(model(x[None])[0], y).item())
                      for x, y in (windows[i] for i in range(0, 8 * 7, 8))]
    expected = float(np.mean(per_window))
    for batch_size in (1, 3, 100):
        assert abs(gpt.evaluate(model, windows, batch_size) - expected) < 1e-5
    assert model.training


def test_gpt_generation_with_the_cache_equals_full_recomputation():
    """Each new token from the key/value cache has the logits a full forward pass gives."""
    import mnp.core as mnp
    gpt = char_gpt_module()
    mnp.manual_seed(0)
    model = gpt.GPT(vocab_size=11, block_size=8, layers=2, heads=2, width=16)
    model.eval()
    idx = np.random.default_rng(0).integers(0, 11, (2, 8))
    with mnp.no_grad():
        full = model(mnp.from_numpy(idx)).numpy()
        caches = [{} for _ in model.blocks]
        first = model(mnp.from_numpy(idx[:, :3]), caches, 0).numpy()
        steps = [model(mnp.from_numpy(idx[:, t:t + 1]), caches, t).numpy() for t in range(3, 8)]
    np.testing.assert_allclose(first, full[:, :3], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full[:, 3:], rtol=1e-4, atol=1e-5)
    out = model.generate(mnp.from_numpy(idx[:, :1]), 20, temperature=0.8, top_k=3,
                         generator=np.random.default_rng(0))
    assert out.shape == (2, 21) and out.numpy()[:, 0].tolist() == idx[:, 0].tolist()


def test_gpt_optimizer_decays_the_matrices_only():
    """The example's AdamW: weight decay on every matrix (tied head included once), none on
    biases and norm weights; the reference run's betas unless others are given."""
    gpt = char_gpt_module()
    model = gpt.GPT(vocab_size=11, block_size=8, layers=2, heads=2, width=16)
    decayed, plain = gpt.optimizer_for(model, 1e-3, 0.01).param_groups
    assert (decayed["weight_decay"], plain["weight_decay"]) == (0.01, 0.0)
    assert tuple(decayed["betas"]) == tuple(plain["betas"]) == (0.7, 0.99)
    assert all(p.ndim == 2 for p in decayed["params"]) and all(p.ndim == 1 for p in plain["params"])
    ids = [id(p) for p in decayed["params"] + plain["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    assert len(decayed["params"]) == 2 + 4 * 2          # embeddings, then 4 linear weights a block
    other = gpt.optimizer_for(model, 1e-3, 0.1, betas=(0.9, 0.95)).param_groups[0]
    assert tuple(other["betas"]) == (0.9, 0.95) and other["weight_decay"] == 0.1
