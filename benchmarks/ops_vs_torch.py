"""The GPT step's non-GEMM ops, mnp against PyTorch in one process, float32: softmax
over causally masked attention scores (12, 4, 64, 64), GELU on (12, 64, 512), LayerNorm(128) on
(12, 64, 128) and an add on (12, 64, 128). Times are medians of 7 samples in µs, forward
under no_grad and forward + backward from a gradient of ones; ratio = mnp / torch.

    python benchmarks/ops_vs_torch.py [THREADS]      # default 1

A check of single kernels beside W7 (the whole step); needs torch. The forward + backward of
the cheap ops (add, layer_norm) moves by 2-5x between runs with the allocator's state: fresh
arrays of this size may come from new pages, whose first touch is the cost. W7, which runs
each framework in fresh processes, is the figure to trust.
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np
import torch

import mnp.core as mnp
import mnp.nn as nn
import mnp.nn.functional as F


def seconds(fn: Callable[[], object]) -> float:
    """Median of 7 samples, each a loop lasting ~0.1 s."""
    fn()
    t, calls = time.perf_counter(), 0
    while time.perf_counter() - t < 0.1:
        fn()
        calls += 1
    samples = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t) / calls)
    return statistics.median(samples)


def forward_and_backward(lib, op: Callable, x: np.ndarray) -> tuple[float, float]:
    """Seconds of ``op(x)`` under no_grad, and of ``op(x).backward(ones)``."""
    t = lib.tensor(x, requires_grad=True)
    ones = lib.tensor(np.ones(op(t).shape, np.float32))

    def both():
        t.grad = None
        op(t).backward(ones)
    with lib.no_grad():
        forward = seconds(lambda: op(t))
    return forward, seconds(both)


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    mnp.set_num_threads(threads)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    mask = np.triu(np.full((64, 64), -np.inf, np.float32), 1)
    scores = rng.standard_normal((12, 4, 64, 64), dtype=np.float32) + mask
    hidden = rng.standard_normal((12, 64, 512), dtype=np.float32)
    stream = rng.standard_normal((12, 64, 128), dtype=np.float32)
    norms = nn.LayerNorm(128), torch.nn.LayerNorm(128)
    cases = [("softmax", scores, lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
             ("gelu", hidden, F.gelu, torch.nn.functional.gelu),
             ("layer_norm", stream, norms[0], norms[1]),
             ("add", stream, lambda x: x + x, lambda x: x + x)]
    print(f"threads {threads}: µs, mnp / torch")
    print(f"{'op':11} {'fwd mnp':>8} {'torch':>8} {'ratio':>6}   "
          f"{'fwd+bwd mnp':>11} {'torch':>8} {'ratio':>6}")
    # every mnp case before any torch op: torch's OpenMP threads keep spinning after its
    # parallel regions and would take the cores from mnp's threads measured right after
    mine = [forward_and_backward(mnp, mnp_op, x) for _, x, mnp_op, _ in cases]
    theirs = [forward_and_backward(torch, torch_op, x) for _, x, _, torch_op in cases]
    for (name, *_), (mf, mb), (tf, tb) in zip(cases, mine, theirs):
        print(f"{name:11} {mf * 1e6:8.1f} {tf * 1e6:8.1f} {mf / tf:6.2f}   "
              f"{mb * 1e6:11.1f} {tb * 1e6:8.1f} {mb / tb:6.2f}")


if __name__ == "__main__":
    main()
