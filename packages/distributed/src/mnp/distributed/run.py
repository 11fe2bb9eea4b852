"""Launch a script on several processes: ``python -m mnp.distributed.run -n 4 train.py [args]``.

A thin wrapper over the MPI's own ``mpiexec`` (the one beside this Python, from
``pip install mnp-distributed[mpich]``, else the first on PATH): it passes a hostfile
through, sets the threads per rank (``OMP_NUM_THREADS``/``MNP_NUM_THREADS``, default: the
cores of this machine divided among its ranks), adds what the MPI flavour needs (Open MPI
as root: ``--allow-run-as-root``) and exits with mpiexec's status. If any rank fails,
mpiexec ends the others. ``--dry-run`` prints the command instead of running it.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys

from . import _mpi
from .errors import MPINotAvailableError


def build_command(nprocs: int, target: list[str], hostfile: str | None = None,
                  threads: int | None = None, mpiexec: str | None = None,
                  flavour: str | None = None, extra: list[str] | None = None,
                  module: bool = False) -> list[str]:
    """The mpiexec command line that runs ``target`` (a script and its arguments, or with
    ``module`` a module name and its arguments) on ``nprocs`` processes."""
    exe = mpiexec or _mpi.find_mpiexec()
    kind = flavour or _mpi.flavour(exe)
    if threads is None:
        threads = max(1, (os.cpu_count() or 1) // nprocs) if hostfile is None else 1
    env = {"OMP_NUM_THREADS": str(threads), "MNP_NUM_THREADS": str(threads)}
    cmd = [exe]
    if kind == "openmpi":
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        if hostfile:
            cmd += ["--hostfile", hostfile]
        else:
            cmd += ["--oversubscribe"]
        for k, v in env.items():
            cmd += ["-x", f"{k}={v}"]
    else:                                   # MPICH's Hydra and most others
        if hostfile:
            cmd += ["-f", hostfile]
        for k, v in env.items():
            cmd += ["-genv", k, v]
    cmd += list(extra or [])
    cmd += ["-n", str(nprocs), sys.executable]
    cmd += (["-m"] if module else []) + list(target)
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnp.distributed.run",
        description="Run a training script on several processes through mpiexec.")
    parser.add_argument("-n", "--nproc", "--np", type=int, default=2, dest="n",
                        help="number of processes (ranks), default 2")
    parser.add_argument("--hostfile", "-f", default=None,
                        help="MPI hostfile naming the nodes (and slots per node)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per rank (default: cores / ranks on one machine, 1 with a hostfile)")
    parser.add_argument("--mpiexec", default=None, help="the mpiexec to use")
    parser.add_argument("--mpi-arg", action="append", default=[], dest="extra",
                        help="an extra argument for mpiexec (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="print the command, do not run it")
    parser.add_argument("-m", dest="module", action="store_true",
                        help="run the target as a module (python -m)")
    parser.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args ...]")
    args = parser.parse_args(argv)
    if not args.target:
        parser.error("name the script to run: python -m mnp.distributed.run -n 2 train.py [args]")
    if args.n < 1:
        parser.error(f"-n must be at least 1, got {args.n}")
    try:
        cmd = build_command(args.n, args.target, args.hostfile, args.threads, args.mpiexec,
                            extra=args.extra, module=args.module)
    except MPINotAvailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    proc = subprocess.Popen(cmd)

    def forward(signum, _frame):
        proc.send_signal(signum)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    code = proc.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
