"""W9: all-reduce time by message size on 2 processes, mnp.distributed vs raw mpi4py.

    python benchmarks/w9_allreduce.py [--nproc 2] [--rounds 5] [--min-mb 0] [--max-mb 64] [--out w9.jsonl]

Run plainly, it starts itself under mpiexec (``mnp.distributed.run``'s command, 1 thread per
rank). For float32 messages of 1 KB to 64 MB it times, interleaved round by round:
``raw`` (``comm.Allreduce(IN_PLACE, array)`` on the tensor's own numpy array, so that
every case reduces the same memory), ``mnp`` (
``mnp.distributed.all_reduce(tensor)``, as it runs by default) and ``mnp_checked`` (the
same with the cross-rank shape and dtype check: ``group.check_collectives = True``, as
``MNP_DISTRIBUTED_CHECKS=1`` sets). A sample is the slowest rank's
mean over enough calls to last ~50 ms; figures are medians over rounds. Prints JSON lines
(µs per call, GB/s = bytes / time, overhead = mnp / raw − 1 of the medians, and
``paired_overhead``: the median over rounds of each round's own mnp / raw − 1, which cancels
the machine's slow drifts) and a table, then the alpha-beta fit
``t = alpha + bytes / bandwidth`` of the raw times.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SIZES = [1 << k for k in range(10, 27, 2)]          # 1 KB, 4 KB, ..., 64 MB


def launched() -> bool:
    return any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"))


def relaunch(args: argparse.Namespace) -> int:
    from mnp.distributed.run import build_command
    argv = [os.path.abspath(__file__), "--rounds", str(args.rounds), "--min-mb", str(args.min_mb),
            "--max-mb", str(args.max_mb)]
    if args.out:
        argv += ["--out", args.out]
    return subprocess.call(build_command(args.nproc, argv, threads=1))


def sample(fn, comm, target_s: float = 0.05) -> float:
    """Slowest rank's mean seconds per call over a loop lasting ~target_s."""
    from mpi4py import MPI
    comm.Barrier()
    t = time.perf_counter()
    fn()
    once = np.array([time.perf_counter() - t])
    comm.Allreduce(MPI.IN_PLACE, once, MPI.MAX)
    calls = max(3, int(target_s / max(once[0], 1e-7)))
    comm.Barrier()
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    per = np.array([(time.perf_counter() - t) / calls])
    comm.Allreduce(MPI.IN_PLACE, per, MPI.MAX)
    return float(per[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-mb", type=float, default=0)
    parser.add_argument("--max-mb", type=float, default=64)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if not launched():
        return relaunch(args)

    import mnp.core as mnp
    import mnp.distributed as dist
    from mpi4py import MPI
    dist.init_process_group("mpi")
    from mnp.distributed.process_group import _default as group
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    sizes = [s for s in SIZES if args.min_mb * (1 << 20) <= s <= args.max_mb * (1 << 20)]
    times: dict[tuple[int, str], list[float]] = {}
    for rnd in range(args.rounds):
        for nbytes in sizes:
            t = mnp.from_numpy(np.ones(nbytes // 4, np.float32))
            arr = t.data            # one buffer for every case: placement changes MPI's speed
            cases = {
                "raw": lambda: comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM),
                "mnp": lambda: dist.all_reduce(t),
                "mnp_checked": lambda: dist.all_reduce(t),
            }
            order = list(cases) if rnd % 2 == 0 else list(reversed(cases))
            for name in order:
                group.check_collectives = name == "mnp_checked"
                times.setdefault((nbytes, name), []).append(sample(cases[name], comm))
                arr.fill(1.0)
    if rank != 0:
        dist.destroy_process_group()
        return 0
    rows = []
    out = open(args.out, "w") if args.out else None
    for nbytes in sizes:
        raw = statistics.median(times[(nbytes, "raw")])
        for name in ("raw", "mnp", "mnp_checked"):
            med = statistics.median(times[(nbytes, name)])
            paired = statistics.median(m / r - 1 for m, r in zip(times[(nbytes, name)],
                                                                 times[(nbytes, "raw")]))
            row = {"workload": "W9", "bytes": nbytes, "case": name, "nproc": comm.Get_size(),
                   "us_per_call": med * 1e6, "min_us": min(times[(nbytes, name)]) * 1e6,
                   "gb_per_s": nbytes / med / 1e9, "overhead": med / raw - 1,
                   "paired_overhead": paired,
                   "samples": len(times[(nbytes, name)])}
            rows.append(row)
            line = json.dumps(row)
            print(line)
            if out:
                out.write(line + "\n")
    print(f"\n{'size':>8} {'raw µs':>10} {'mnp µs':>10} {'checked µs':>11} {'raw GB/s':>9} "
          f"{'overhead':>9} {'checked':>8} {'paired':>8} {'checked':>8}")
    for nbytes in sizes:
        r = {row["case"]: row for row in rows if row["bytes"] == nbytes}
        size = f"{nbytes >> 20} MB" if nbytes >= 1 << 20 else f"{nbytes >> 10} KB"
        print(f"{size:>8} {r['raw']['us_per_call']:>10.1f} {r['mnp']['us_per_call']:>10.1f} "
              f"{r['mnp_checked']['us_per_call']:>11.1f} {r['raw']['gb_per_s']:>9.2f} "
              f"{r['mnp']['overhead']:>+9.1%} {r['mnp_checked']['overhead']:>+8.1%} "
              f"{r['mnp']['paired_overhead']:>+8.1%} {r['mnp_checked']['paired_overhead']:>+8.1%}")
    if len(sizes) >= 2:
        x = np.array(sizes, float)
        y = np.array([statistics.median(times[(s, "raw")]) for s in sizes])
        beta, alpha = np.polyfit(x, y, 1, w=1 / y)        # relative least squares
        fit = {"workload": "W9", "fit": "alpha-beta (raw)", "alpha_us": alpha * 1e6,
               "bandwidth_gb_per_s": 1 / beta / 1e9 if beta > 0 else None}
        print(json.dumps(fit))
        if out:
            out.write(json.dumps(fit) + "\n")
    if out:
        out.close()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
