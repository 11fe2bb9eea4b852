"""The mnp plugin of mnp-distributed: offers the MPI process group to core's registry, so
that a training loop started under mpiexec finds it without importing this package."""
from __future__ import annotations

from mnp.core import hookimpl


def _from_environment():
    from .process_group import group_from_environment
    return group_from_environment()


@hookimpl
def mnp_register_process_groups(register) -> None:
    register("mpi", _from_environment)
