"""Helpers shared by the benchmark runner, the worker and the workloads: timing with warm-up,
thread settings, memory, and the machine's estimated peak."""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "MNP_NUM_THREADS")


#: how a run gets its thread count: ``limited``, every pool capped through the environment
#: before numpy is imported; ``default``, no thread variables at all, only
#: ``mnp.set_num_threads`` / ``torch.set_num_threads`` in the worker (what a user gets)
THREAD_MODES = ("limited", "default")


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap BLAS/OpenMP thread pools (set before numpy is imported)."""
    return {k: str(threads) for k in THREAD_VARIABLES}


def worker_env(base: dict[str, str], threads: int, mode: str) -> dict[str, str]:
    """The environment of a worker: ``base`` without mnp's variables and, in ``limited`` mode,
    with every pool capped to ``threads``; in ``default`` mode without any thread variable."""
    env = {k: v for k, v in base.items() if not k.startswith("MNP_") and k not in THREAD_VARIABLES}
    if mode == "limited":
        env.update(thread_env(threads))
    return env


def time_per_call(fn: Callable[[], object], repeat: int, min_sample_s: float = 0.05,
                  warmup_s: float = 0.1) -> list[float]:
    """Seconds per call of ``fn``: warm up for ``warmup_s``, then ``repeat`` samples, each
    timing enough calls to last at least ``min_sample_s``."""
    t0 = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - t0 < warmup_s:
        fn()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    inner = max(1, int(min_sample_s / max(per_call, 1e-9)))
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    """This process's resident set size now, in MiB (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (``ru_maxrss``), in MiB; 0 where the
    ``resource`` module is missing."""
    try:
        import resource
    except ImportError:
        return 0.0
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    return kib / 1024


def estimate_peak_gflops(threads: int = 1) -> float | None:
    """A rough float32 peak from the CPU flags and clock: FMA lanes x 2 FMA units x 2 FLOP x GHz
    x threads. None when /proc/cpuinfo is not readable."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    flags: set[str] = set()
    mhz = 0.0
    for line in text.splitlines():
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
        elif line.startswith("cpu MHz"):
            mhz = max(mhz, float(line.split(":", 1)[1]))
    if not mhz:
        return None
    if "avx512f" in flags:
        lanes = 16
    elif "avx2" in flags or "avx" in flags:
        lanes = 8
    else:
        lanes = 4
    units = 2 if "fma" in flags or "avx512f" in flags else 1   # two FMA ports (else one mul + one add)
    return lanes * 2 * units * (mhz / 1000) * threads


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def framework(name: str):
    """``(nn, optim, as_tensor, no_grad)`` of PyTorch or mnp; both are seeded with 0."""
    if name == "torch":
        import torch
        from torch import nn
        torch.manual_seed(0)
        return nn, torch.optim, torch.from_numpy, torch.no_grad
    import mnp.core as mnp
    from mnp import nn, optim
    mnp.manual_seed(0)
    return nn, optim, mnp.from_numpy, mnp.no_grad


def train_step(model, loss_fn, opt, x, y) -> None:
    """One training step, written once for both frameworks (their APIs agree)."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
