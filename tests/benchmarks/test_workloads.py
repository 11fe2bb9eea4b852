"""Every benchmark workload runs on mnp and prints well-formed figures (smallest settings;
the timings themselves are measured by ``benchmarks/run.py``, never asserted here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).resolve().parents[2] / "benchmarks" / "worker.py"
#: the cheapest settings of each workload
CASES = {
    "W1": {"sizes": [64]},
    "W2": {},
    "W3": {},
    "W4": {},
    "W5": {},
    "W6": {},
    "W7": {},
    "W8": {"new_tokens": 40},
}


def _worker(workload: str, opts: dict, case: int | None = None, **env: str) -> list[dict]:
    cmd = [sys.executable, str(WORKER), "--workload", workload, "--framework", "mnp",
           "--repeat", "1", "--opts", json.dumps(opts)]
    if case is not None:
        cmd += ["--case", str(case)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MNP_BACKEND": "numpy", **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("workload", sorted(CASES))
def test_workload_reports_positive_figures(workload):
    rows = _worker(workload, CASES[workload], case=0)
    assert rows, f"{workload} printed no figures"
    for row in rows:
        assert row["workload"] == workload and row["framework"] == "mnp"
        assert row["figure"] and row["samples"], row
        assert all(isinstance(v, (int, float)) and v > 0 for v in row["samples"]), row


def test_w2_floor_times_every_variant_and_its_engine_computes_the_gradients(monkeypatch):
    script = WORKER.parent / "w2_floor.py"
    proc = subprocess.run([sys.executable, str(script), "--rounds", "1", "--calls", "5"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line[:16].strip(): line[16:].split() for line in proc.stdout.splitlines()[1:]}
    assert {"numpy by hand", "minimal engine", "mnp numpy"} <= set(rows)
    assert all(float(v[0]) > 0 for v in rows.values())
    # the minimal engine is a real one: its gradients are the true ones
    import importlib.util
    monkeypatch.syspath_prepend(str(script.parent))        # as when run from benchmarks/
    spec = importlib.util.spec_from_file_location("w2_floor", script)
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    a, b = floor._Node(a_np), floor._Node(b_np)
    ((a * b + a).relu()).sum().backward()
    mask = (a_np * b_np + a_np) > 0
    assert np.allclose(a.grad, mask * (b_np + 1)) and np.allclose(b.grad, mask * a_np)


@pytest.mark.parametrize("attention", ["matmul", "sdpa"])
def test_w7_models_compute_the_same_loss_and_gradients_in_both_frameworks(monkeypatch, attention):
    """W7 compares like with like: with torch's weights copied in, mnp's GPT gives torch's loss
    and gradients, with the attention spelled out and through each framework's fused call."""
    torch = pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(WORKER.parent))
    from workloads import w7_gpt_step as w7
    case = next(c for c in w7.cases({}) if c["attention"] == attention)
    case = {**case, "layers": 2, "batch": 3, "context": 16}
    tmodel, tloss_fn, _ = w7.build("torch", case)
    mmodel, mloss_fn, _ = w7.build("mnp", case)
    state = {k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()}
    mmodel.load_state_dict(state)
    x, y = w7._batch(case)
    import mnp.core as mnp
    tloss = tloss_fn(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
    mloss = mloss_fn(mmodel(mnp.from_numpy(x)), mnp.from_numpy(y))
    tloss.backward()
    mloss.backward()
    assert abs(float(mloss.item()) - float(tloss.item())) < 1e-4
    tgrads = dict(tmodel.named_parameters())
    for name, p in mmodel.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_w8_twins_give_the_same_logits_through_the_cache(monkeypatch):
    """W8's PyTorch twin runs the same model: equal logits for a prompt and for cached steps."""
    pytest.importorskip("torch")
    monkeypatch.syspath_prepend(str(WORKER.parent))
    from workloads import w8_gpt_generate as w8
    case = {**w8.cases({})[0], "layers": 2}
    ours, theirs = w8.forward_fn("mnp", case), w8.forward_fn("torch", case)
    idx = np.random.default_rng(0).integers(0, case["vocab"], (1, 10))
    caches = ([{} for _ in range(2)], [{} for _ in range(2)])
    np.testing.assert_allclose(ours(idx, caches[0], 0), theirs(idx, caches[1], 0), rtol=1e-4, atol=1e-4)
    nxt = idx[:, :1]
    np.testing.assert_allclose(ours(nxt, caches[0], 10), theirs(nxt, caches[1], 10), rtol=1e-4, atol=1e-4)


def test_paired_gpt_reports_both_ratios():
    pytest.importorskip("torch")
    script = WORKER.parent / "paired_gpt.py"
    proc = subprocess.run([sys.executable, str(script), "--w7-blocks", "2", "--w8-runs", "2",
                           "--attention", "sdpa"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    for name, unit in (("W7", "time"), ("W8", "tokens/s")):
        line = next(ln for ln in lines if ln.startswith(f"{name}: mnp/torch {unit} median"))
        assert float(line.split("median ")[1].split()[0]) > 0 and "2 pairs" in line
    assert any(ln.startswith("W7 (attention=sdpa) ms per step: mnp ") for ln in lines)
