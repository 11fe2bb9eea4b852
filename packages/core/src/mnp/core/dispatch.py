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
import difflib
import os
import sys
from typing import Callable, Iterator

import numpy as np

from .. import _hints as hints
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


ENV = "MNP_BACKEND"


class BackendEnvError(BackendError):
    """``MNP_BACKEND`` names a backend that cannot be used. Uncaught, it prints as one line."""


def _default() -> str:
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            _check(env)
        except BackendError as exc:
            _brief_excepthook()
            raise BackendEnvError(f"{ENV}={env!r}: {exc} (unset {ENV} or set it to an "
                                  f"available backend)") from None
        return env
    rows = [r for r in backends() if r["available"]]
    return rows[0]["name"] if rows else REFERENCE


def _check(name: str) -> None:
    host = get_host().load()
    spec = host.backends.get(name)
    if spec is None:
        known = ", ".join(sorted(host.backends))
        dist = hints.BACKENDS.get(name)
        if dist is not None and not hints.installed(dist):
            raise BackendError(f"unknown backend {name!r}: it comes with {dist}, which is not "
                               f"installed: pip install {dist} (known: {known})")
        if dist is not None:
            raise BackendError(f"unknown backend {name!r}: {dist} is installed but its plugin "
                               f"did not register it (see `python -m mnp.core list-plugins`; "
                               f"known: {known})")
        close = difflib.get_close_matches(name, list(host.backends), n=1)
        maybe = f"; did you mean {close[0]!r}?" if close else ""
        raise BackendError(f"unknown backend {name!r}; known: {known}{maybe}")
    if not spec.is_available():
        why = f": {spec.description}" if spec.description else ""
        raise BackendError(f"backend {name!r} (from {spec.provider!r}) is not available on this "
                           f"machine{why}")


def _brief_excepthook() -> None:
    """Print an uncaught `BackendEnvError` as its one-line message, not a traceback through
    the op that first dispatched: the fix is in the environment, not in the code."""
    previous = sys.excepthook
    if getattr(previous, "_mnp_brief", False):
        return

    def hook(kind, value, tb):
        if isinstance(value, BackendEnvError):
            sys.stderr.write(f"mnp: {value}\n")
        else:
            previous(kind, value, tb)
    hook._mnp_brief = True
    sys.excepthook = hook


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
