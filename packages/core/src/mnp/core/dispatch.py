"""Kernel dispatch: a kernel is a plain function on numpy arrays, found by name and dtype.

The table is a dict keyed by ``(name, dtype)``, filled on first use of each key from the
selected backend, falling back to the ``numpy`` reference per kernel and per dtype.
Selecting a backend clears it. No plugin hook is ever called per op.

>>> import numpy as np
>>> from mnp.core.dispatch import kernel
>>> kernel("add", np.dtype("float32"))(np.ones(2, "f4"), np.ones(2, "f4"))
array([2., 2.], dtype=float32)
"""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

import numpy as np

from .errors import BackendError
from .memory import tune_allocator
from .plugins import get_host, on_host_change
from .threads import ensure_applied

REFERENCE = "numpy"
_cache: dict[tuple[str, np.dtype], Callable] = {}
_selected: list[str | None] = [None]   # explicit choice; None: env or highest priority


def _invalidate() -> None:
    _cache.clear()


on_host_change(_invalidate)
on_host_change(lambda: _selected.__setitem__(0, None))


def backends() -> list[dict]:
    """Every declared backend: ``{name, available, priority, provider, kernels}``, best first."""
    host = get_host().load()
    rows = [{"name": s.name, "available": s.is_available(), "priority": s.priority,
             "provider": s.provider, "description": s.description,
             "kernels": sorted(s.kernels)} for s in host.backends.values()]
    return sorted(rows, key=lambda r: (-r["priority"], r["name"]))


def _default() -> str:
    env = os.environ.get("MNP_BACKEND", "").strip()
    if env:
        _check(env)
        return env
    rows = [r for r in backends() if r["available"]]
    return rows[0]["name"] if rows else REFERENCE


def _check(name: str) -> None:
    host = get_host().load()
    spec = host.backends.get(name)
    if spec is None:
        raise BackendError(f"unknown backend {name!r}; known: {', '.join(sorted(host.backends))}")
    if not spec.is_available():
        raise BackendError(f"backend {name!r} (from {spec.provider!r}) is not available on this machine")


def get_backend() -> str:
    """The name of the backend ops dispatch to now."""
    if _selected[0] is None:
        _selected[0] = _default()
    return _selected[0]


def set_backend(name: str) -> None:
    """Dispatch to backend ``name`` from now on (kernels it lacks fall back to ``numpy``)."""
    _check(name)
    _selected[0] = name
    _invalidate()


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[str]:
    """Use backend ``name`` inside the block::

        with mnp.use_backend("numpy"):
            y = x @ w
    """
    previous = get_backend()
    set_backend(name)
    try:
        yield name
    finally:
        _selected[0] = previous
        _invalidate()


def resolve(name: str, dtype: np.dtype, backend: str | None = None) -> tuple[Callable, str]:
    """The kernel serving ``name`` for ``dtype`` and the backend it comes from."""
    host = get_host().load()
    tune_allocator()
    ensure_applied()
    dtype = np.dtype(dtype)
    chosen = backend or get_backend()
    for bname in dict.fromkeys((chosen, REFERENCE)):
        spec = host.backends.get(bname)
        if spec is None:
            continue
        entry = spec.kernels.get(name)
        if entry is not None and (entry[1] is None or dtype.name in entry[1]):
            return entry[0], bname
    raise BackendError(f"no kernel {name!r} for dtype {dtype.name} in backend {chosen!r} nor in "
                       f"the {REFERENCE!r} reference (is the package that defines it installed "
                       f"and its plugin loaded? see `python -m mnp.core list-plugins`)")


def kernel(name: str, dtype: np.dtype) -> Callable:
    """The kernel function for ``name`` and ``dtype`` under the current backend (cached)."""
    try:
        return _cache[(name, dtype)]
    except KeyError:
        fn, _ = resolve(name, dtype)
        _cache[(name, dtype)] = fn   # keyed as asked: the next identical call is one dict lookup
        return fn
