"""Kernel dispatch: a kernel is a plain function on numpy arrays, found by name and dtype.

The table is a dict keyed by ``(name, dtype)``, filled on first use of each key from the
selected backend, falling back to the ``numpy`` reference per kernel and per dtype.
Selecting a backend, `set_num_threads` and `use_deterministic_algorithms` clear it. No plugin
hook is ever called per op.

Routing is decided here, from what the backend declared at registration: a kernel with a
``fallback`` may *decline* an input (it returns ``NotImplemented``) and the fallback
backend's kernel runs instead; a kernel with a `SizeRule` hands calls of at least the rule's
work to another backend (not in deterministic mode, unless the rule says so). The table then
holds a small wrapper; a kernel with neither is the backend's function itself.
`served()` counts which backend ran each call.

>>> import numpy as np
>>> from mnp.core.dispatch import kernel
>>> kernel("add", np.dtype("float32"))(np.ones(2, "f4"), np.ones(2, "f4"))
array([2., 2.], dtype=float32)
"""
from __future__ import annotations

import contextlib
import difflib
import math
import os
import sys
from collections import Counter
from typing import Callable, Iterator

import numpy as np

from .. import _hints as hints
from .errors import BackendError
from .memory import tune_allocator
from .plugins import PluginHost, get_host, on_host_change
from .threads import are_deterministic_algorithms_enabled, ensure_applied, on_threads_change

REFERENCE = "numpy"
_cache: dict[tuple[str, np.dtype], Callable] = {}
_selected: list[str | None] = [None]   # explicit choice; None: env or highest priority
_tracers: list[Counter] = []           # the open `served()` blocks


def _invalidate() -> None:
    _cache.clear()


def clear_cache() -> None:
    """Forget every resolved kernel: the next call of each resolves it again (for a backend
    whose routing inputs, such as a size rule's threshold, changed)."""
    _invalidate()


on_host_change(_invalidate)
on_threads_change(_invalidate)
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


def _tally(fn: Callable, name: str, backend: str) -> Callable:
    """``fn`` counting its calls as served by ``backend`` in every open `served()` block."""
    key = (name, backend)

    def counted(*args):
        out = fn(*args)
        if out is not NotImplemented:
            for counts in _tracers:
                counts[key] += 1
        return out
    return counted


def _declining(fn: Callable, other: Callable) -> Callable:
    """``fn``, and ``other`` for the calls ``fn`` declines."""
    def run(*args):
        out = fn(*args)
        return other(*args) if out is NotImplemented else out
    return run


def _sized(fn: Callable, other: Callable | None, big: Callable, work: Callable[..., float],
           at_least: float) -> Callable:
    """``big`` for the calls of at least ``at_least`` work, else ``fn`` (and ``other`` for the
    calls ``fn`` declines, if given): one wrapper, whatever the combination."""
    if other is None:
        def run(*args):
            return big(*args) if work(*args) >= at_least else fn(*args)
        return run

    def run_declining(*args):
        if work(*args) >= at_least:
            return big(*args)
        out = fn(*args)
        return other(*args) if out is NotImplemented else out
    return run_declining


def route(name: str, dtype: np.dtype, backend: str | None = None) -> Callable:
    """The callable that serves ``name`` for ``dtype`` under ``backend`` (default: the
    current one), its fallback and size rule applied: what `kernel` caches."""
    host = get_host().load()
    dtype = np.dtype(dtype)
    fn, bname = resolve(name, dtype, backend)
    return _route(host, name, dtype, fn, bname, set())


def _route(host: PluginHost, name: str, dtype: np.dtype, fn: Callable, bname: str,
           seen: set[str]) -> Callable:
    seen = seen | {bname}
    spec = host.backends[bname]
    fallback, rule = spec.fallbacks.get(name), spec.size_rules.get(name)
    tracing = bool(_tracers)
    served = _tally(fn, name, bname) if tracing else fn
    other = None
    if fallback is not None and fallback not in seen:
        other_fn, other_name = resolve(name, dtype, fallback)
        other = _route(host, name, dtype, other_fn, other_name, seen)
    if rule is not None and rule.to not in seen and (
            rule.deterministic or not are_deterministic_algorithms_enabled()):
        at_least = float(rule.at_least(dtype.name))
        if not math.isinf(at_least):
            big_fn, big_name = resolve(name, dtype, rule.to)
            big = _route(host, name, dtype, big_fn, big_name, seen)
            return _sized(served, other, big, rule.work, at_least)
    if other is not None:
        served = _declining(served, other)
    return served


def kernel(name: str, dtype: np.dtype) -> Callable:
    """The kernel function for ``name`` and ``dtype`` under the current backend (cached)."""
    try:
        return _cache[(name, dtype)]
    except KeyError:
        fn = route(name, dtype)
        _cache[(name, dtype)] = fn   # keyed as asked: the next identical call is one dict lookup
        return fn


@contextlib.contextmanager
def served() -> Iterator[Counter]:
    """Count, inside the block, the calls of each kernel by the backend that ran them::

        with mnp.core.dispatch.served() as calls:
            y = x @ w
        calls  # Counter({('matmul', 'c'): 1})

    Keys are ``(kernel, backend)``: a call a kernel declined counts for the backend that ran
    it instead, one handed over by a size rule for that rule's backend. Outside such blocks
    the table holds the uncounted functions: counting costs nothing then.
    """
    counts: Counter = Counter()
    _tracers.append(counts)
    _invalidate()
    try:
        yield counts
    finally:
        del _tracers[next(i for i, c in enumerate(_tracers) if c is counts)]
        _invalidate()
