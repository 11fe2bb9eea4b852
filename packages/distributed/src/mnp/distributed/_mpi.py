"""Loading mpi4py with an error that says what to install, and telling MPIs apart."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

from .errors import MPINotAvailableError

INSTALL_HINT = ("install one with `pip install mnp-distributed[mpich]` (MPICH and its mpiexec "
                "from the package registry), or on a cluster load its MPI module and "
                "`pip install mpi4py` against it")

_MPI: Any = None


def load() -> Any:
    """The ``mpi4py.MPI`` module (initialising MPI on first use)."""
    global _MPI
    if _MPI is None:
        try:
            import mpi4py
        except ImportError:
            raise MPINotAvailableError(f"mnp.distributed needs mpi4py, which is not installed: "
                                       f"{INSTALL_HINT}") from None
        mpi4py.rc.thread_level = "serialized"
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError, OSError) as exc:
            raise MPINotAvailableError(f"mnp.distributed: mpi4py is installed but no MPI library "
                                       f"could be loaded ({exc}): {INSTALL_HINT}") from None
        _MPI = MPI
    return _MPI


def library_version() -> str:
    """The MPI library's own version string (first line)."""
    return load().Get_library_version().strip().splitlines()[0]


def launched_size() -> int:
    """The number of processes the launcher started, read from its environment (1 when this
    process was not started by mpiexec). Reading it does not initialise MPI."""
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS",
                "SLURM_NTASKS"):
        value = os.environ.get(key)
        if value and value.isdigit():
            if key == "SLURM_NTASKS" and "PMI_RANK" not in os.environ and "PMIX_RANK" not in os.environ:
                continue   # inside an allocation, but this process was not started by srun/mpiexec
            return int(value)
    return 1


def find_mpiexec() -> str:
    """``mpiexec`` beside this Python (the ``mpich`` wheel puts it there), else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise MPINotAvailableError(f"mnp.distributed: no mpiexec was found beside "
                                   f"{sys.executable} or on PATH: {INSTALL_HINT}")
    return found


def flavour(mpiexec: str) -> str:
    """``"mpich"`` (Hydra), ``"openmpi"`` or ``"other"``, from ``mpiexec --version``."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "other"
    if "HYDRA" in out or "MPICH" in out.upper():
        return "mpich"
    if "Open MPI" in out or "OpenRTE" in out or "open-mpi" in out:
        return "openmpi"
    return "other"
