"""W2: small-tensor overhead: ``y = ((a*b + a).relu()).sum(); y.backward()`` on 16x16 tensors.

Next to mnp it also times the same step written by hand in numpy with no autograd at all
(``numpy_by_hand_us``, the reference of benchmarks/README.md): the cost of the numpy calls alone, a floor
for any framework whose kernels are those calls.
"""
from __future__ import annotations

import numpy as np

from common import time_per_call

ID = "W2"
TITLE = "small-tensor forward+backward"
FIGURES = {"us_per_step": ("µs", False), "numpy_by_hand_us": ("µs", False)}
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
    figures = {"us_per_step": [s * 1e6 for s in seconds]}
    if framework != "torch":
        by_hand = time_per_call(step_by_hand(an, bn), repeat, min_sample_s=0.1, warmup_s=0.2)
        figures["numpy_by_hand_us"] = [s * 1e6 for s in by_hand]
    return figures


def step_by_hand(a: np.ndarray, b: np.ndarray):
    """The W2 step in plain numpy: forward, then the gradients of a and b accumulated."""
    ga, gb = np.zeros_like(a), np.zeros_like(b)

    def step():
        s = a * b + a
        np.maximum(s, 0).sum()
        gs = np.ones_like(s) * (s > 0)
        ga.__iadd__(gs * b + gs)
        gb.__iadd__(gs * a)
    return step
