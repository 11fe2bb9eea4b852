"""Run the benchmark workloads W1–W8 (defined in benchmarks/README.md) on mnp, once per
installed backend, and on PyTorch when it is importable, interleaved round by round, each run
in its own fresh process.

Prints one JSON line per (workload, case, framework, backend, threads, figure) with the median
over all samples, then a table of ratios mnp/torch::

    python benchmarks/run.py --only W1,W2,W6 --sizes 256,512,1024 --threads 1
    python benchmarks/run.py --backend numpy,c --threads 1,2 --repeat 7 --rounds 3
    python benchmarks/run.py --threads 1,2 --thread-modes limited,default

Thread modes (``--thread-modes``): ``limited`` (default) caps every thread pool through the
environment (OMP/OPENBLAS/MKL/MNP_NUM_THREADS); ``default`` sets no thread variable and only
calls ``mnp.set_num_threads(n)`` / ``torch.set_num_threads(n)`` in the worker, which is
what a user's program gets. Every row and the table say which mode measured it.

The machine is shared and its speed flips between levels within seconds: read ratios of
medians, and treat differences under ~30% as noise.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import THREAD_MODES, cpu_count, estimate_peak_gflops, median, worker_env  # noqa: E402
from workloads import discover  # noqa: E402

BENCH_PEAK = 156.5   # GFLOP/s, the development machine's estimated peak (benchmarks/README.md)
NOISE = 1.3          # ratios closer to 1 than this are read as a tie ("~") on this machine


def _csv(text: str | None, cast=str) -> list | None:
    return None if not text else [cast(p.strip()) for p in text.split(",") if p.strip()]


def installed_backends() -> list[dict]:
    """mnp's backends as a fresh process sees them (keeps this process free of mnp state)."""
    code = "import json, mnp.core as m; print(json.dumps(m.backends()))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MNP_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"run.py: cannot import mnp.core: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def run_worker(workload: str, framework: str, backend: str | None, threads: int, repeat: int,
               opts: dict, case: int | None = None,
               mode: str = "limited") -> tuple[list[dict], str | None]:
    env = worker_env(dict(os.environ), threads, mode)
    if backend:
        env["MNP_BACKEND"] = backend
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--workload", workload, "--framework",
           framework, "--threads", str(threads), "--repeat", str(repeat), "--opts", json.dumps(opts),
           "--thread-mode", mode]
    if case is not None:
        cmd += ["--case", str(case)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    error = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return rows, error


def main(argv: list[str] | None = None) -> int:
    workloads = discover()
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help=f"comma list of workloads (default all: {','.join(workloads)})")
    p.add_argument("--backend", help="comma list of mnp backends (default: every available one)")
    p.add_argument("--threads", default="1", help="comma list of thread counts (default 1)")
    p.add_argument("--thread-modes", default="limited",
                   help=f"comma list of {', '.join(THREAD_MODES)} (default limited; see above)")
    p.add_argument("--repeat", type=int, default=5, help="timed samples per run, after warm-up")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds of fresh processes")
    p.add_argument("--sizes", help="W1 matrix sizes (default 256,512,1024,2048)")
    p.add_argument("--peak", type=float, default=BENCH_PEAK,
                   help=f"the machine's float32 peak in GFLOP/s for W1's share (default {BENCH_PEAK}, "
                        f"the development machine's estimate; see benchmarks/README.md)")
    p.add_argument("--no-torch", action="store_true", help="measure mnp only")
    p.add_argument("--out", help="also write the JSON lines to this file")
    args = p.parse_args(argv)

    only = _csv(args.only) or list(workloads)
    unknown = [w for w in only if w not in workloads]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; known: {list(workloads)}")
    threads = _csv(args.threads, int)
    modes = _csv(args.thread_modes) or ["limited"]
    if [m for m in modes if m not in THREAD_MODES]:
        p.error(f"unknown thread mode(s) in {args.thread_modes!r}; known: {', '.join(THREAD_MODES)}")
    rows = installed_backends()
    available = [b["name"] for b in rows if b["available"]]
    backends = _csv(args.backend) or available
    for b in [b for b in backends if b not in available]:
        print(f"run.py: backend {b!r} is not installed or not available here; skipped", file=sys.stderr)
    backends = [b for b in backends if b in available]
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    opts = {"sizes": _csv(args.sizes, int), "peak": args.peak}
    estimate = estimate_peak_gflops(cpu_count())
    print(f"# {cpu_count()} cpus; peak used {args.peak} GFLOP/s (estimate from cpu flags/clock: "
          f"{estimate and round(estimate, 1)}); backends {backends}; torch {'yes' if with_torch else 'no'}",
          file=sys.stderr)

    samples: dict[tuple, list[float]] = defaultdict(list)
    meta: dict[tuple, dict] = {}
    errors = []
    t_start = time.perf_counter()
    for wid in only:
        w = workloads[wid]
        targets = [("mnp", b) for b in (backends if w.PER_BACKEND else [None])]
        if with_torch:
            targets.append(("torch", None))
        # one process per case where a case's figures depend on what ran before it
        jobs = list(range(len(w.cases(opts)))) if getattr(w, "PROCESS_PER_CASE", False) else [None]
        for mode in modes:
            for nthreads in (threads if w.THREADED else [1]):
                for r in range(args.rounds):
                    for case in jobs:
                        for framework, backend in (targets if r % 2 == 0 else targets[::-1]):
                            got, err = run_worker(wid, framework, backend, nthreads, args.repeat,
                                                  opts, case, mode)
                            if err:
                                errors.append({"workload": wid, "framework": framework,
                                               "backend": backend or "-", "threads": nthreads,
                                               "mode": mode, "case": case, "error": err})
                            for row in got:
                                key = (wid, json.dumps(row["case"], sort_keys=True), row["framework"],
                                       row["backend"], row["threads"], row["figure"],
                                       row.get("mode", mode))
                                samples[key].extend(row["samples"])
                                meta[key] = row

    out = open(args.out, "w") if args.out else None
    results = {}
    for key, values in samples.items():
        row = meta[key]
        unit, higher = workloads[key[0]].FIGURES[key[5]]
        line = {"workload": key[0], "case": row["case"], "framework": key[2], "backend": key[3],
                "threads": key[4], "mode": key[6], "figure": key[5], "value": median(values), "unit": unit,
                "higher_is_better": higher, "samples": len(values), "min": min(values), "max": max(values)}
        if key[0] == "W1":
            line["peak_gflops"] = args.peak
        results[key] = line
        text = json.dumps(line)
        print(text)
        if out:
            out.write(text + "\n")
    for e in errors:
        print(json.dumps(e))
        if out:
            out.write(json.dumps(e) + "\n")
    if out:
        out.close()
    print_ratios(results)
    print(f"# {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    return 1 if errors else 0


def _case_text(case: dict) -> str:
    return ",".join(f"{k}={'x'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in case.items())


def print_ratios(results: dict[tuple, dict]) -> None:
    """mnp/torch per workload, case, figure, threads, thread mode and mnp backend; ``better``
    names the faster/better framework, or ``~`` when the ratio is within the noise band
    (``NOISE``)."""
    rows = []
    for key, line in results.items():
        if key[2] != "mnp":
            continue
        tkey = next((k for k in results if k[0] == key[0] and k[1] == key[1] and k[2] == "torch"
                     and k[4] == key[4] and k[5] == key[5] and k[6] == key[6]), None)
        torch_value = results[tkey]["value"] if tkey else None
        ratio = line["value"] / torch_value if torch_value else None
        if ratio is None:
            better = "-"
        elif ratio <= 0 or max(ratio, 1 / ratio) < NOISE:
            better = "~"
        else:
            better = "mnp" if (ratio > 1) == line["higher_is_better"] else "torch"
        rows.append([key[0], _case_text(line["case"]), line["figure"], str(key[4]), key[6], key[3],
                     f"{line['value']:.4g}", "-" if torch_value is None else f"{torch_value:.4g}",
                     "-" if ratio is None else f"{ratio:.3f}", better, line["unit"]])
    if not rows:
        return
    head = ["workload", "case", "figure", "threads", "mode", "backend", "mnp", "torch", "mnp/torch",
            "better", "unit"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    print()
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    raise SystemExit(main())
