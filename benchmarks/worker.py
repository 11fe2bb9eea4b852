"""Run one workload for one framework in this (fresh) process; print one JSON line per case
and figure with the raw samples. Started by run.py, which sets ``MNP_BACKEND`` and, in the
``limited`` thread mode, the thread variables before this process imports numpy; in the
``default`` mode the threads are set here only, by ``mnp.set_num_threads`` /
``torch.set_num_threads``::

    python benchmarks/worker.py --workload W1 --framework mnp --repeat 5 --opts '{"sizes": [256]}'
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workloads import discover  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--framework", choices=("mnp", "torch"), required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--opts", default="{}")
    p.add_argument("--case", type=int, help="run only this case (index into cases(opts))")
    p.add_argument("--thread-mode", choices=("limited", "default"), default="limited")
    args = p.parse_args()
    workload = discover()[args.workload]
    opts = json.loads(args.opts)
    backend = "-"
    if args.framework == "torch":
        import torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
    elif workload.PER_BACKEND:
        import mnp.core as mnp
        backend = mnp.get_backend()
        wanted = os.environ.get("MNP_BACKEND")
        if wanted and backend != wanted:
            raise SystemExit(f"worker: asked for backend {wanted!r}, got {backend!r}")
        if hasattr(mnp, "set_num_threads"):     # every pool mnp runs, BLAS included
            mnp.set_num_threads(args.threads)
        elif backend == "c":
            import mnp.kernels_c
            mnp.kernels_c.set_num_threads(args.threads)
    cases = workload.cases(opts)
    for case in cases if args.case is None else [cases[args.case]]:
        samples = workload.measure(args.framework, case, args.repeat, opts)
        for figure, values in samples.items():
            print(json.dumps({"workload": workload.ID, "case": case, "framework": args.framework,
                              "backend": backend, "threads": args.threads,
                              "mode": args.thread_mode, "figure": figure, "samples": values}),
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
