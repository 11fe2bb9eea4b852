"""One thread budget for all of mnp's compute, and deterministic algorithms (PyTorch's names).

``set_num_threads(n)`` sets the threads of every registered backend's own pool (through the
``set_threads`` it declared at registration) and of the BLAS behind numpy (threadpoolctl),
once, at the call: no op pays for it. ``MNP_NUM_THREADS`` sets the default; without it the
default is the number of cores this process may use (its CPU affinity, capped by a cgroup
CPU quota), not the machine's.

No oversubscription by construction: when a backend with its own pool is installed and the
budget is above one thread, its pool gets the budget and BLAS one thread (mnp's own GEMM runs
the products threaded, so the two pools never spin against each other); otherwise BLAS gets
the budget.

>>> import mnp.core as mnp
>>> mnp.set_num_threads(1)
>>> mnp.get_num_threads()
1
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

from .errors import ArgumentError
from .plugins import get_host, on_host_change

ENV = "MNP_NUM_THREADS"
_state: dict = {"threads": None, "deterministic": False, "blas": None, "applied": False}
_listeners: list[Callable[[], None]] = []


def on_threads_change(listener: Callable[[], None]) -> None:
    """Call ``listener()`` whenever the thread budget or deterministic mode is applied
    (dispatch forgets its resolved kernels: size rules may depend on both)."""
    _listeners.append(listener)


def _cgroup_quota() -> float | None:
    """CPUs allowed by the cgroup CPU quota (v2 ``cpu.max`` or v1 ``cfs_quota_us``), or None."""
    quotas = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        rel = parts[2].lstrip("/")
        if parts[0] == "0":                                           # cgroup v2
            roots = [Path("/sys/fs/cgroup")]
            name = ("cpu.max",)
        elif "cpu" in parts[1].split(","):                            # cgroup v1
            roots = [Path("/sys/fs/cgroup/cpu"), Path("/sys/fs/cgroup/cpu,cpuacct")]
            name = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        else:
            continue
        for root in roots:
            d = root / rel
            while True:       # the tightest quota on the way up to the root
                q = _read_quota(d, name)
                if q is not None:
                    quotas.append(q)
                if d == root or root not in d.parents:
                    break
                d = d.parent
    return min(quotas) if quotas else None


def _read_quota(d: Path, name: tuple[str, ...]) -> float | None:
    try:
        if len(name) == 1:
            quota, period = (d / name[0]).read_text().split()[:2]
        else:
            quota, period = ((d / n).read_text().strip() for n in name)
        if quota == "max" or int(quota) <= 0:
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        return None


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def default_num_threads() -> int:
    """``MNP_NUM_THREADS`` if set to a positive integer, else `available_cores`."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ArgumentError(f"{ENV}={value!r} is not a positive integer") from None
        if n < 1:
            raise ArgumentError(f"{ENV}={value!r} is not a positive integer")
        return n
    return available_cores()


def _pools() -> list:
    """The available backends that declared their own thread control."""
    return [s for s in get_host().load().backends.values()
            if s.set_threads is not None and s.is_available()]


def blas_threads(n: int) -> int:
    """BLAS threads under a budget of ``n``: one while a backend's own pool holds the
    budget (n > 1) or in deterministic mode (numpy's BLAS results depend on its thread
    count), else ``n``."""
    if _state["deterministic"] or (n > 1 and _pools()):
        return 1
    return n


def _limit_blas(n: int) -> None:
    try:
        import threadpoolctl
    except ImportError:   # not installed: BLAS keeps its own setting
        return
    # applied once and kept (the object is not used as a context manager)
    _state["blas"] = threadpoolctl.threadpool_limits(limits=n, user_api="blas")


def _apply() -> None:
    if _state["threads"] is None:
        _state["threads"] = default_num_threads()
    n = _state["threads"]
    _state["applied"] = True
    for spec in _pools():
        spec.set_threads(n)
        if spec.set_deterministic is not None:
            spec.set_deterministic(_state["deterministic"])
    _limit_blas(blas_threads(n))
    for listener in _listeners:
        listener()


def set_num_threads(n: int) -> None:
    """Threads of all compute mnp runs: every backend's pool and numpy's BLAS (see module doc)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError(f"set_num_threads: n must be a positive integer, got {n!r}")
    _state["threads"] = n
    _apply()


def get_num_threads() -> int:
    """The thread budget (`set_num_threads`, else the default)."""
    ensure_applied()
    return _state["threads"]


def ensure_applied() -> None:
    """Apply the budget once (dispatch calls this when it resolves a kernel: the first op)."""
    if not _state["applied"]:
        _apply()


def use_deterministic_algorithms(mode: bool) -> None:
    """``True``: every result is bit-identical for any thread count and from run to run.

    Backends switch their thread-count-dependent paths off (the C backend then never hands
    large products to BLAS) and numpy's BLAS runs on one thread.
    """
    _state["deterministic"] = bool(mode)
    _apply()


def are_deterministic_algorithms_enabled() -> bool:
    """Whether `use_deterministic_algorithms` is on."""
    return _state["deterministic"]


def _reapply() -> None:
    """A new plugin host: its backends get the budget when the next kernel is resolved."""
    _state["applied"] = False


on_host_change(_reapply)
