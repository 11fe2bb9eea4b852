"""Running test jobs under mpiexec on this machine."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mpi_worker.py"


def mpiexec() -> str | None:
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    return shutil.which("mpiexec")


def _skip_reason() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install mnp-distributed[mpich])"
    if mpiexec() is None:
        return "no mpiexec is installed (pip install mnp-distributed[mpich])"
    return None


SKIP = _skip_reason()
needs_mpi = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


def mpi_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(MNP_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for key in [k for k in env if k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_"))]:
        del env[key]          # a job started from inside another MPI job is a job of its own
    return env


def mpi_command(n: int, *args: str) -> list[str]:
    from mnp.distributed.run import build_command
    return build_command(n, [str(WORKER), *args], threads=1, mpiexec=mpiexec())


def run_mpi(n: int, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the worker on ``n`` ranks; a job still running after ``timeout`` s fails the test."""
    try:
        return subprocess.run(mpi_command(n, *args), capture_output=True, text=True,
                              timeout=timeout, env=mpi_env(), cwd=HERE)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"mpiexec -n {n} {' '.join(args)} still running after {timeout} s:\n"
                    f"{exc.stdout}\n{exc.stderr}")
