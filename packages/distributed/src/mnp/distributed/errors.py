"""The errors mnp.distributed raises (all `mnp.core.MnpError` subclasses)."""
from __future__ import annotations

from mnp.core import MnpError


class DistributedError(MnpError, RuntimeError):
    """A process-group misuse or a failed collective; the message names the call and rank."""


class MPINotAvailableError(DistributedError, ImportError):
    """mpi4py or the MPI library it needs is not installed; the message says what to install."""


class CollectiveMismatchError(DistributedError, ValueError):
    """Ranks called one collective with tensors of different shapes or dtypes."""


class DistributedTimeoutError(DistributedError, TimeoutError):
    """A collective did not complete within the process group's timeout."""
