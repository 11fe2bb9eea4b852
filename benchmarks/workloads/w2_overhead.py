"""W2: small-tensor overhead: ``y = ((a*b + a).relu()).sum(); y.backward()`` on 16x16 tensors."""
from __future__ import annotations

import numpy as np

from common import time_per_call

ID = "W2"
TITLE = "small-tensor forward+backward"
FIGURES = {"us_per_step": ("µs", False)}
PER_BACKEND = True
THREADED = True


def cases(opts: dict) -> list[dict]:
    return [{"shape": [16, 16]}]


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    an = rng.standard_normal(case["shape"], dtype=np.float32)
    bn = rng.standard_normal(case["shape"], dtype=np.float32)
    if framework == "torch":
        import torch
        a, b = torch.tensor(an, requires_grad=True), torch.tensor(bn, requires_grad=True)
    else:
        import mnp.core as mnp
        a, b = mnp.tensor(an, requires_grad=True), mnp.tensor(bn, requires_grad=True)

    def step():
        y = ((a * b + a).relu()).sum()
        y.backward()
    seconds = time_per_call(step, repeat, min_sample_s=0.1, warmup_s=0.2)
    return {"us_per_step": [s * 1e6 for s in seconds]}
