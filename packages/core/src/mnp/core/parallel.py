"""The process group that data-parallel training runs in, as seen from core.

Core only keeps the slot: a plugin (such as mnp-distributed) puts its started group here,
and packages that train (mnp-nn's Trainer) ask for it without importing that plugin.
With no group, or a group of one process, training runs as usual.

>>> from mnp.core import parallel
>>> parallel.get_process_group() is None
True
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ProcessGroup(Protocol):
    """What a training loop needs from a group of processes training one model."""

    rank: int
    world_size: int

    def all_reduce(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce ``array`` across ranks (``op``: sum, avg, max, min, product) in place; return it."""

    def all_gather(self, array: np.ndarray) -> np.ndarray:
        """Every rank's ``array`` (first dimensions may differ) concatenated along axis 0 in
        rank order, on every rank."""

    def broadcast(self, array: np.ndarray, src: int = 0) -> np.ndarray:
        """Overwrite ``array`` with rank ``src``'s, in place; return it."""

    def barrier(self) -> None:
        """Wait until every rank has reached this call."""

    def wrap_model(self, model: Any) -> Any:
        """The model wrapped so that backward averages its gradients across ranks."""

    def shard(self, order: np.ndarray) -> np.ndarray:
        """This rank's share of ``order`` (a dataset's indices in epoch order, the same on
        every rank): equal counts on every rank, disjoint but for padding, together covering
        ``order``."""


_active: ProcessGroup | None = None


def set_process_group(group: ProcessGroup | None) -> None:
    """Make ``group`` the process group of this process (None: none)."""
    global _active
    _active = group


def get_process_group() -> ProcessGroup | None:
    """The process group set by `set_process_group`, or None."""
    return _active


def default_process_group() -> ProcessGroup | None:
    """The active group; else the first registered factory (hook
    ``mnp_register_process_groups``) that finds this process started by its launcher with
    several processes starts one; else None."""
    if _active is not None:
        return _active
    from .plugins import registry
    for factory in registry("process_groups").values():
        group = factory()
        if group is not None:
            if _active is None:
                set_process_group(group)
            return _active
    return None


def is_main_process() -> bool:
    """True outside a process group and on rank 0 inside one: the process that prints and
    writes files."""
    return _active is None or _active.rank == 0
