"""W7 and W8 with mnp and PyTorch alternated in one process, one thread each: the ratio of
each pair of neighbouring blocks, so that the machine's drift (which moves separate-process
runs by up to 30% on a shared 2-core machine) cancels.

    python benchmarks/paired_gpt.py [--w7-blocks 40] [--w8-runs 30] [--attention sdpa]

W7: blocks of 3 training steps of W7's model (ms per step); W8: generations of 100 tokens
with W8's sampling loop (tokens per second). Prints the median of the per-pair ratios
mnp / torch (W7: lower is better; W8: higher is better) with their interquartile range.
Both frameworks run on one thread (``MNP_NUM_THREADS=1`` is set here; torch's pool is set
to 1 thread): two thread pools in one process would slow each other. Needs torch.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MNP_NUM_THREADS", "1")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "workloads")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

import w7_gpt_step as w7  # noqa: E402
import w8_gpt_generate as w8  # noqa: E402
from common import framework as framework_api  # noqa: E402
from common import train_step  # noqa: E402


def alternate(calls: dict, pairs: int) -> dict[str, list[float]]:
    """Seconds per call of each framework, alternating which goes first."""
    times: dict[str, list[float]] = {fw: [] for fw in calls}
    for i in range(pairs):
        for fw in (("mnp", "torch") if i % 2 == 0 else ("torch", "mnp")):
            t0 = time.perf_counter()
            calls[fw]()
            times[fw].append(time.perf_counter() - t0)
    return times


def summary(name: str, ratios: list[float], unit: str) -> str:
    q1, q3 = np.percentile(ratios, [25, 75])
    return (f"{name}: mnp/torch {unit} median {statistics.median(ratios):.3f} "
            f"(IQR {q1:.3f}-{q3:.3f}, {len(ratios)} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--w7-blocks", type=int, default=40)
    parser.add_argument("--w8-runs", type=int, default=30)
    parser.add_argument("--attention", choices=("matmul", "sdpa"), default="matmul",
                        help="W7's case: attention spelled out or the fused call")
    args = parser.parse_args()
    torch.set_num_threads(1)

    case = next(c for c in w7.cases({}) if c["attention"] == args.attention)
    steps = {}
    for fw in ("mnp", "torch"):
        *_, as_tensor, _ = framework_api(fw)
        model, loss_fn, opt = w7.build(fw, case)
        x, y = (as_tensor(a) for a in w7._batch(case))

        def block(m=model, f=loss_fn, o=opt, x=x, y=y):
            for _ in range(3):
                train_step(m, f, o, x, y)
        block()
        steps[fw] = block
    t = alternate(steps, args.w7_blocks)
    print(f"W7 (attention={args.attention}) ms per step: mnp {statistics.median(t['mnp']) / 3 * 1e3:.1f}, "
          f"torch {statistics.median(t['torch']) / 3 * 1e3:.1f}")
    print(summary("W7", [m / p for m, p in zip(t["mnp"], t["torch"])], "time"))

    case8 = w8.cases({"new_tokens": 100})[0]
    forwards = {fw: w8.forward_fn(fw, case8) for fw in ("mnp", "torch")}
    runs = {fw: (lambda f=f: w8.generate(f, case8["layers"], case8["context"],
                                          case8["new_tokens"], case8["top_k"],
                                          np.random.default_rng(0)))
            for fw, f in forwards.items()}
    for run in runs.values():
        run()
    t = alternate(runs, args.w8_runs)
    print(summary("W8", [p / m for m, p in zip(t["mnp"], t["torch"])], "tokens/s"))


if __name__ == "__main__":
    main()
