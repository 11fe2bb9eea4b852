"""The default process group: one MPI communicator over every launched process.

PyTorch's names: `init_process_group`, `is_available`, `is_initialized`, `get_rank`,
`get_world_size`, `destroy_process_group`. Starting a group also puts it in
`mnp.core.parallel`, where mnp-nn's Trainer finds it, and installs the fault handler
(an uncaught exception on any rank prints that rank's traceback and ends every rank).
"""
from __future__ import annotations

import datetime
import importlib.util
import os
from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import parallel

from . import _mpi, faults
from .errors import DistributedError


class ProcessGroup:
    """A group of ranks over one MPI communicator (the default group spans all of them).

    It is also `mnp.core.parallel.ProcessGroup`: numpy-level collectives, model wrapping and
    dataset sharding for training loops that know nothing of MPI.
    """

    def __init__(self, comm: Any, timeout: float | None = None):
        from .collectives import checks_from_environment
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.world_size: int = comm.Get_size()
        self.timeout = timeout
        #: compare shapes and dtypes across ranks before each collective (off by default)
        self.check_collectives = checks_from_environment()
        self._signature = np.empty(2, np.int64)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', rank={self.rank}, world_size={self.world_size})"

    # -- mnp.core.parallel.ProcessGroup ---------------------------------------------------
    def all_reduce(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        from .collectives import ReduceOp, reduce_array
        return reduce_array(self, array, ReduceOp(op.upper()))

    def all_gather(self, array: np.ndarray) -> np.ndarray:
        from .collectives import gather_rows
        return gather_rows(self, np.ascontiguousarray(array))

    def broadcast(self, array: np.ndarray, src: int = 0) -> np.ndarray:
        from .collectives import broadcast_array
        return broadcast_array(self, array, src)

    def barrier(self) -> None:
        from .collectives import wait_request
        if self.timeout is None:
            self.comm.Barrier()
        else:
            wait_request(self, self.comm.Ibarrier(), "barrier")

    def wrap_model(self, model: Any) -> Any:
        from .ddp import DistributedDataParallel
        if isinstance(model, DistributedDataParallel):
            return model
        return DistributedDataParallel(model, process_group=self)

    def shard(self, order: np.ndarray) -> np.ndarray:
        from .sampler import shard_order
        return shard_order(order, self.world_size, self.rank)


_default: ProcessGroup | None = None


def seconds(timeout: Any, where: str = "init_process_group") -> float | None:
    """A timeout given as seconds or a ``timedelta``, in seconds (None: no limit)."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        raise DistributedError(f"{where}: timeout must be seconds or a timedelta, "
                               f"got {timeout!r}") from None
    if not value > 0:
        raise DistributedError(f"{where}: timeout must be positive, got {value}")
    return value


def is_available() -> bool:
    """True when mpi4py is installed (the MPI library itself loads on `init_process_group`)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    """True between `init_process_group` and `destroy_process_group`."""
    return _default is not None


def is_mpi_launched() -> bool:
    """True when this process was started by mpiexec (or srun) among several processes."""
    return _mpi.launched_size() > 1


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "") -> None:
    """Start the default process group over every process mpiexec launched.

    ``backend``: ``"mpi"`` (the only one). ``timeout``: seconds or a ``timedelta`` after which
    a collective that has not completed raises `DistributedTimeoutError` (default: wait
    forever, as MPI does). ``world_size``/``rank``, if given, must match what mpiexec set up;
    ``init_method``/``store`` are accepted for PyTorch compatibility and must be None
    (MPI's launcher does the rendezvous). Run alone (no mpiexec), the group has one rank.
    """
    global _default
    if backend not in (None, "mpi"):
        raise DistributedError(f"init_process_group: backend {backend!r} is not supported; "
                               f"mnp.distributed runs over MPI: use backend='mpi'")
    if init_method not in (None, "env://") or store is not None:
        raise DistributedError("init_process_group: init_method and store are not used with "
                               "the MPI backend (mpiexec starts and connects the processes); "
                               "leave them unset")
    if _default is not None:
        raise DistributedError("init_process_group: the default process group is already "
                               "initialised; call destroy_process_group() first")
    limit = seconds(timeout)
    MPI = _mpi.load()
    comm = MPI.COMM_WORLD.Dup()
    group = ProcessGroup(comm, limit)
    for name, wanted, actual in (("world_size", world_size, group.world_size),
                                 ("rank", rank, group.rank)):
        if wanted not in (-1, None) and int(wanted) != actual:
            comm.Free()
            raise DistributedError(f"init_process_group: {name}={wanted} was requested but "
                                   f"mpiexec started this process with {name} {actual}")
    _default = group
    _share_cores(comm)
    faults.install()
    parallel.set_process_group(group)


def _share_cores(comm: Any) -> None:
    """Divide the compute-thread budget among the ranks on this node, so that ranks started by
    a plain ``mpiexec`` do not oversubscribe its cores (``mnp.distributed.run`` and
    ``MNP_NUM_THREADS`` set the threads themselves and are left alone)."""
    if os.environ.get("MNP_NUM_THREADS", "").strip():
        return
    local = comm.Split_type(_mpi.load().COMM_TYPE_SHARED)
    ranks_here = local.Get_size()
    local.Free()
    budget = mnp.get_num_threads()
    if ranks_here > 1 and budget > 1:
        mnp.set_num_threads(max(1, budget // ranks_here))


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """End the default process group (MPI itself stays up until the process exits)."""
    global _default
    if _default is None:
        return
    if group is not None and group is not _default:
        raise DistributedError("destroy_process_group: only the default group exists")
    comm, _default = _default.comm, None
    if parallel.get_process_group() is not None:
        parallel.set_process_group(None)
    faults.uninstall()
    comm.Free()


def _group(group: ProcessGroup | None, op: str) -> ProcessGroup:
    if group is not None:
        return group
    if _default is None:
        raise DistributedError(f"{op}: the default process group has not been initialised; "
                               f"call mnp.distributed.init_process_group() first")
    return _default


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in the group (0 … world size − 1)."""
    return _group(group, "get_rank").rank


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in the group."""
    return _group(group, "get_world_size").world_size


def get_backend(group: ProcessGroup | None = None) -> str:
    """``"mpi"``."""
    _group(group, "get_backend")
    return "mpi"


def group_from_environment() -> ProcessGroup | None:
    """The default group, started now when this process was launched by mpiexec with several
    processes; None otherwise (the factory mnp-nn's Trainer reaches through core's hooks)."""
    if _default is not None:
        return _default
    if not is_mpi_launched():
        return None
    init_process_group("mpi")
    return _default


__all__ = ["ProcessGroup", "is_available", "is_initialized", "is_mpi_launched",
           "init_process_group", "destroy_process_group", "get_rank", "get_world_size",
           "get_backend", "group_from_environment"]
