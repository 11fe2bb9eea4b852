"""W1: square float32 matmul, n = 256, 512, 1024, 2048: GFLOP/s and the share of the peak."""
from __future__ import annotations

import numpy as np

from common import time_per_call

ID = "W1"
TITLE = "square matmul"
FIGURES = {"gflops": ("GFLOP/s", True), "peak_share": ("fraction of peak", True)}
PER_BACKEND = True
THREADED = True
SIZES = (256, 512, 1024, 2048)


def cases(opts: dict) -> list[dict]:
    return [{"n": n} for n in opts.get("sizes") or SIZES]


def _operands(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32))


def measure(framework: str, case: dict, repeat: int, opts: dict) -> dict[str, list[float]]:
    n = case["n"]
    a, b = _operands(n)
    if framework == "torch":
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        with torch.no_grad():
            seconds = time_per_call(lambda: ta @ tb, repeat)
    else:
        import mnp.core as mnp
        ma, mb = mnp.from_numpy(a), mnp.from_numpy(b)
        with mnp.no_grad():
            seconds = time_per_call(lambda: ma @ mb, repeat)
    gflops = [2 * n ** 3 / s / 1e9 for s in seconds]
    peak = float(opts.get("peak") or 156.5)
    return {"gflops": gflops, "peak_share": [g / peak for g in gflops]}
