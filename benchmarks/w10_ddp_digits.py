"""W10: data-parallel digits CNN, one epoch on 1 process vs 2 processes of 1 thread each.

    python benchmarks/w10_ddp_digits.py [--epochs 3] [--nproc 2] [--out w10.jsonl]

Trains the CNN of examples/digits_cnn.py (Adam lr 2e-3, global batch 32, digits 80/20
split seed 0) with a plain loop: alone (1 process, no MPI), then under mpiexec with
``--nproc`` ranks of 1 thread each, every rank taking its share of each global batch through
`DistributedSampler` and `DistributedDataParallel`. Figures (median over epochs 2…):
``s_per_epoch`` for each; ``speedup`` and ``efficiency`` = speedup / nproc; and, on the
ranks, ``comm_exposed_s`` (waiting for gradient buckets after backward, per epoch) against
``comm_blocking_s`` (the same all-reduces run after backward with nothing to overlap, timed
in an extra epoch), so ``hidden_share`` = 1 − exposed / blocking is how much of the
communication backward hides.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def launched() -> bool:
    return any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"))


def setup():
    sys.path.insert(0, str(ROOT / "examples"))
    import mnp.core as mnp
    from mnp import data, nn, optim
    from digits_cnn import build_model
    mnp.manual_seed(0)
    X, y = data.digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_train, _, y_train, _ = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
    model = build_model()
    return mnp, nn, optim, model, X_train, y_train


def run_epochs(args) -> dict:
    mnp, nn, optim, model, X, y = setup()
    dist = None
    world, rank = 1, 0
    if launched():
        import mnp.distributed as dist
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    net = dist.DistributedDataParallel(model) if dist else model
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    local_batch = args.batch // world
    epochs, exposed, blocking = [], [], []
    for epoch in range(args.epochs + 1):
        order = np.random.default_rng([0, epoch]).permutation(len(X))
        if dist:
            from mnp.distributed.sampler import shard_order
            order = shard_order(order, world, rank)
        overlap = epoch < args.epochs        # the last epoch: communication after backward
        before = dict(net.stats) if dist else None
        comm_after = 0.0
        if dist:
            dist.barrier()
        t0 = time.perf_counter()
        for start in range(0, len(order) - local_batch + 1, local_batch):
            idx = order[start:start + local_batch]
            opt.zero_grad()
            if overlap or not dist:
                loss_fn(net(mnp.from_numpy(X[idx])), mnp.from_numpy(y[idx])).backward()
            else:
                with net.no_sync():
                    loss_fn(net(mnp.from_numpy(X[idx])), mnp.from_numpy(y[idx])).backward()
                grads = [p.grad.data for p in model.parameters()]
                flat = np.concatenate([g.ravel() for g in grads])
                c0 = time.perf_counter()
                dist.all_reduce(flat, op=dist.ReduceOp.AVG)
                comm_after += time.perf_counter() - c0
            opt.step()
        seconds = time.perf_counter() - t0
        if overlap:
            epochs.append(seconds)
            if dist:
                exposed.append(net.stats["wait_seconds"] - before["wait_seconds"])
        else:
            blocking.append(comm_after)
    result = {"nproc": world, "s_per_epoch": statistics.median(epochs[1:] or epochs)}
    if dist:
        result["comm_exposed_s"] = statistics.median(exposed[1:] or exposed)
        result["comm_blocking_s"] = blocking[0]
        mine = np.array([result["s_per_epoch"], result["comm_exposed_s"], result["comm_blocking_s"]])
        dist.all_reduce(mine, op=dist.ReduceOp.MAX)
        result.update(s_per_epoch=mine[0], comm_exposed_s=mine[1], comm_blocking_s=mine[2])
        dist.destroy_process_group()
    result["rank"] = rank
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child or launched():
        result = run_epochs(args)
        if result["rank"] == 0:
            print("RESULT " + json.dumps({k: float(v) for k, v in result.items()}), flush=True)
        return 0
    from mnp.distributed.run import build_command
    env = dict(os.environ, OMP_NUM_THREADS="1", MNP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    argv = [os.path.abspath(__file__), "--child", "--epochs", str(args.epochs), "--batch", str(args.batch)]
    results = {}
    for n in (1, args.nproc):
        cmd = [sys.executable, *argv] if n == 1 else build_command(n, argv, threads=1)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
        results[n] = json.loads(line[len("RESULT "):])
    one, many = results[1], results[args.nproc]
    speedup = one["s_per_epoch"] / many["s_per_epoch"]
    rows = [{"workload": "W10", "nproc": 1, "s_per_epoch": one["s_per_epoch"]},
            {"workload": "W10", "nproc": args.nproc, "s_per_epoch": many["s_per_epoch"],
             "speedup": speedup, "efficiency": speedup / args.nproc,
             "comm_exposed_s": many["comm_exposed_s"], "comm_blocking_s": many["comm_blocking_s"],
             "hidden_share": 1 - many["comm_exposed_s"] / many["comm_blocking_s"]
             if many["comm_blocking_s"] > 0 else None}]
    out = open(args.out, "w") if args.out else None
    for row in rows:
        print(json.dumps(row))
        if out:
            out.write(json.dumps(row) + "\n")
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
