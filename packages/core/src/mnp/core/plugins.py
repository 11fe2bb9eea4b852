"""The plugin host: finds entry points in group ``mnp``, isolates failures, keeps the registries.

Nothing is loaded on ``import mnp.core``; the host loads on first registry use
(a kernel lookup, ``plugins()``, ``registry(kind)``). Tests inject their own host::

    host = PluginHost(entry_points=lambda: [...], environ={})
    with use_host(host):
        ...
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

import pluggy

from . import hookspecs
from .errors import PluginError

GROUP = "mnp"
#: distributions of mnp itself, loaded first in this order
BUILTIN_DISTRIBUTIONS = ("mnp-core", "mnp-nn", "mnp-optim", "mnp-data", "mnp-kernels-c",
                         "mnp-distributed")
#: the reference backend of mnp-core; always loaded, whatever the environment says
CORE_PLUGIN = ("numpy", "mnp.core.numpy_backend")
KINDS = tuple(hookspecs.REGISTRY_HOOKS.values())
_SINGULAR = {"layers": "layer", "losses": "loss", "optimizers": "optimizer",
             "schedulers": "scheduler", "datasets": "dataset", "metrics": "metric"}


@dataclass(frozen=True)
class SizeRule:
    """Calls of a kernel whose ``work(*args)`` is at least ``at_least`` go to backend ``to``.

    ``at_least(dtype_name) -> float`` is read when dispatch resolves the kernel (again after
    any `set_num_threads` or `use_deterministic_algorithms`), so a backend can make it depend
    on its thread count (``float("inf")``: the rule is off). The rule never applies in
    deterministic mode unless ``deterministic`` is True.
    """
    work: Callable[..., float]
    at_least: Callable[[str], float]
    to: str = "numpy"
    deterministic: bool = False


@dataclass
class BackendSpec:
    """A declared kernel backend and the kernels registered for it."""
    name: str
    provider: str
    priority: int = 0
    available: bool | Callable[[], bool] = True
    description: str = ""
    kernels: dict[str, tuple[Callable, tuple[str, ...] | None, str]] = field(default_factory=dict)
    # element counts at which a kernel changes path (threads, blocking); "*" applies to all
    thresholds: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # the backend's own thread control, if it has threads: set_threads(n), get_threads() -> n
    set_threads: Callable[[int], None] | None = None
    get_threads: Callable[[], int] | None = None
    # use_deterministic_algorithms(mode) reaches the backend through this, if it has such paths
    set_deterministic: Callable[[bool], None] | None = None
    # kernel -> backend that runs the calls it declines (the kernel returns NotImplemented)
    fallbacks: dict[str, str] = field(default_factory=dict)
    # kernel -> the size rule that hands large calls to another backend
    size_rules: dict[str, SizeRule] = field(default_factory=dict)
    # kernel -> its signature kind ("unary", "binary", "unary_backward"): the conformance
    # kit makes inputs by kind for a kernel it has no generator of its own for
    kinds: dict[str, str] = field(default_factory=dict)

    def is_available(self) -> bool:
        if callable(self.available):
            try:
                return bool(self.available())
            except KeyboardInterrupt:
                raise
            except BaseException:   # SystemExit and the like included: a plugin never ends mnp
                return False
        return bool(self.available)


@dataclass
class Entry:
    """One registered object and the plugin that registered it."""
    name: str
    obj: Any
    provider: str


@dataclass
class PluginInfo:
    name: str
    version: str
    module: str
    distribution: str
    builtin: bool
    status: str = "pending"          # loaded | failed | blocked
    error: str | None = None
    provides: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "module": self.module,
                "distribution": self.distribution, "builtin": self.builtin,
                "status": self.status, "error": self.error,
                "provides": {k: list(v) for k, v in self.provides.items()}}


def _entry_points() -> list[md.EntryPoint]:
    return list(md.entry_points(group=GROUP))


def _normalize(dist_name: str) -> str:
    """A distribution name in PEP 503 form (``MNP_Core`` -> ``mnp-core``)."""
    return re.sub(r"[-_.]+", "-", dist_name).lower()


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {p.strip() for p in value.split(",") if p.strip()}


class _Staging:
    """What one plugin registers, committed only if the whole plugin succeeds."""

    def __init__(self, host: "PluginHost", info: PluginInfo):
        self.host, self.info = host, info
        self.backends: dict[str, BackendSpec] = {}
        self.kernels: list[tuple[str, str, Callable, tuple[str, ...] | None]] = []
        self.routes: list[tuple[str, str, str | None, SizeRule | None, str | None]] = []
        self.entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}

    def register_backend(self, name: str, kernels: Mapping[str, Callable] | None = None, *,
                         priority: int = 0, available: bool | Callable[[], bool] = True,
                         dtypes: Mapping[str, Iterable[str]] | None = None,
                         description: str = "",
                         thresholds: Mapping[str, Iterable[int]] | None = None,
                         set_threads: Callable[[int], None] | None = None,
                         get_threads: Callable[[], int] | None = None,
                         set_deterministic: Callable[[bool], None] | None = None,
                         fallback: str | None = None,
                         size_rules: Mapping[str, SizeRule] | None = None,
                         kinds: Mapping[str, str] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"backend name must be a non-empty string, got {name!r}")
        prior = self.host.backends.get(name) or self.backends.get(name)
        if prior is not None:
            raise PluginError(f"duplicate backend {name!r}: registered by {prior.provider!r} "
                              f"and by {self.info.name!r}")
        if (set_threads is None) != (get_threads is None):
            raise PluginError(f"backend {name!r} from {self.info.name!r}: set_threads and "
                              f"get_threads come together")
        limits = {k: tuple(sorted(int(n) for n in v)) for k, v in (thresholds or {}).items()}
        self.backends[name] = BackendSpec(name, self.info.name, int(priority), available, description,
                                          thresholds=limits, set_threads=set_threads,
                                          get_threads=get_threads,
                                          set_deterministic=set_deterministic)
        rules = dict(size_rules or {})
        unknown = sorted(set(rules) - set(kernels or {}))
        if unknown:
            raise PluginError(f"backend {name!r} from {self.info.name!r}: size rules for kernels "
                              f"it does not register: {', '.join(unknown)}")
        for kname, fn in (kernels or {}).items():
            kd = (dtypes or {}).get(kname)
            self.register_kernel(name, kname, fn, dtypes=kd, fallback=fallback,
                                 size_rule=rules.get(kname), kind=(kinds or {}).get(kname))

    def register_kernel(self, backend: str, name: str, fn: Callable, *,
                        dtypes: Iterable[str] | None = None, fallback: str | None = None,
                        size_rule: SizeRule | None = None, kind: str | None = None) -> None:
        """``fallback``: the backend that runs the calls this kernel declines (it returns
        ``NotImplemented`` for inputs it does not take); ``size_rule``: a `SizeRule`;
        ``kind``: its signature kind, for the conformance kit (`BackendSpec.kinds`)."""
        if not callable(fn):
            raise PluginError(f"kernel {backend}:{name} from {self.info.name!r} is not callable")
        spec = self.backends.get(backend) or self.host.backends.get(backend)
        if spec is None:
            raise PluginError(f"kernel {name!r} registered by {self.info.name!r} for unknown "
                              f"backend {backend!r}; known: {sorted(self.host.backends)}")
        if name in spec.kernels or any(k[0] == backend and k[1] == name for k in self.kernels):
            other = spec.kernels[name][2] if name in spec.kernels else self.info.name
            raise PluginError(f"duplicate kernel {backend}:{name}: registered by {other!r} "
                              f"and by {self.info.name!r}")
        if fallback is not None and (not isinstance(fallback, str) or fallback == backend):
            raise PluginError(f"kernel {backend}:{name} from {self.info.name!r}: fallback must "
                              f"name another backend, got {fallback!r}")
        if size_rule is not None and not isinstance(size_rule, SizeRule):
            raise PluginError(f"kernel {backend}:{name} from {self.info.name!r}: size_rule must "
                              f"be a SizeRule, got {type(size_rule).__name__}")
        if kind is not None and not isinstance(kind, str):
            raise PluginError(f"kernel {backend}:{name} from {self.info.name!r}: kind must be a "
                              f"string, got {kind!r}")
        self.kernels.append((backend, name, fn, tuple(dtypes) if dtypes is not None else None))
        if fallback is not None or size_rule is not None or kind is not None:
            self.routes.append((backend, name, fallback, size_rule, kind))

    def register_name(self, kind: str, name: str, obj: Any) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"{kind} name must be a non-empty string, got {name!r}")
        prior = self.host.registries[kind].get(name) or self.entries[kind].get(name)
        if prior is not None:
            raise PluginError(f"duplicate {_SINGULAR.get(kind, kind)} name {name!r}: registered by "
                              f"{prior.provider!r} and by {self.info.name!r}")
        self.entries[kind][name] = Entry(name, obj, self.info.name)

    def commit(self) -> None:
        host, provides = self.host, self.info.provides
        for name, spec in self.backends.items():
            host.backends[name] = spec
        if self.backends:
            provides["backends"] = sorted(self.backends)
        for backend, name, fn, dtypes in self.kernels:
            host.backends[backend].kernels[name] = (fn, dtypes, self.info.name)
        for backend, name, fallback, rule, kind in self.routes:
            spec = host.backends[backend]
            if fallback is not None:
                spec.fallbacks[name] = fallback
            if rule is not None:
                spec.size_rules[name] = rule
            if kind is not None:
                spec.kinds[name] = kind
        if self.kernels:
            provides["kernels"] = sorted({f"{b}:{n}" for b, n, _, _ in self.kernels})
        for kind, entries in self.entries.items():
            host.registries[kind].update(entries)
            if entries:
                provides[kind] = sorted(entries)


class PluginHost:
    """Loads the ``mnp`` entry points once and holds backends and name registries.

    ``entry_points``: a callable returning entry points (default: the installed ones).
    ``environ``: where ``MNP_LOAD_PLUGINS``, ``MNP_DISABLE_PLUGINS`` and
    ``MNP_STRICT_PLUGINS`` are read (default: ``os.environ`` at load time).
    """

    def __init__(self, entry_points: Callable[[], Iterable[Any]] | None = None,
                 environ: Mapping[str, str] | None = None):
        self._entry_points = entry_points or _entry_points
        self._environ = environ
        self._lock = threading.RLock()
        self.loaded = False
        self._failure: PluginError | None = None   # strict mode: raised again on every load()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.backends: dict[str, BackendSpec] = {}
        self.registries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}

    # -- loading -------------------------------------------------------------------------
    def _env(self, key: str) -> str | None:
        env = os.environ if self._environ is None else self._environ
        return env.get(key)

    @property
    def strict(self) -> bool:
        return (self._env("MNP_STRICT_PLUGINS") or "").strip().lower() in ("1", "true", "yes", "on")

    def load(self) -> "PluginHost":
        """Load every plugin once (idempotent, thread-safe)."""
        if self.loaded and self._failure is None:
            return self
        with self._lock:
            if not self.loaded:
                try:
                    self._load_all()
                except PluginError as exc:
                    self._failure = exc
                finally:
                    self.loaded = True
        if self._failure is not None:
            raise self._failure
        return self

    def _candidates(self) -> list[tuple[PluginInfo, Any]]:
        seen: set[tuple[str, str]] = set()
        found = []
        for ep in self._entry_points():
            key = (ep.name, ep.value)
            if key in seen:
                continue
            seen.add(key)
            dist = getattr(ep, "dist", None)
            dname = (dist.metadata["Name"] if dist is not None else "") or ""
            version = (dist.version if dist is not None else "") or ""
            info = PluginInfo(ep.name, version, ep.value, dname,
                              builtin=_normalize(dname) in BUILTIN_DISTRIBUTIONS)
            found.append((info, ep))
        if not any(i.module == CORE_PLUGIN[1] for i, _ in found):
            found.append((PluginInfo(CORE_PLUGIN[0], _core_version(), CORE_PLUGIN[1],
                                     "mnp-core", True), None))

        def order(item):
            info = item[0]
            d = _normalize(info.distribution)
            rank = BUILTIN_DISTRIBUTIONS.index(d) if info.builtin else len(BUILTIN_DISTRIBUTIONS)
            return (rank, d, info.name)
        return sorted(found, key=order)

    def _blocked_reason(self, info: PluginInfo) -> str | None:
        if info.module == CORE_PLUGIN[1]:
            return None  # the reference backend is always there
        names = {info.name, info.distribution}
        only = _split(self._env("MNP_LOAD_PLUGINS"))
        if only is not None and not names & only:
            return f"not listed in MNP_LOAD_PLUGINS={self._env('MNP_LOAD_PLUGINS')!r}"
        off = _split(self._env("MNP_DISABLE_PLUGINS")) or set()
        if names & off:
            return f"disabled by MNP_DISABLE_PLUGINS={self._env('MNP_DISABLE_PLUGINS')!r}"
        return None

    def _load_all(self) -> None:
        for info, ep in self._candidates():
            self.plugins.append(info)
            reason = self._blocked_reason(info)
            if reason:
                info.status, info.error = "blocked", reason
                continue
            try:
                module = ep.load() if ep is not None else importlib.import_module(info.module)
                self._check_hooks(module)
                self.pm.register(module, name=f"{info.distribution}:{info.name}")
                staging = _Staging(self, info)
                self._call_hooks(module, staging)
                staging.commit()
                info.status = "loaded"
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # isolate every plugin, SystemExit and the like included
                with contextlib.suppress(Exception):
                    self.pm.unregister(name=f"{info.distribution}:{info.name}")
                info.status, info.error = "failed", f"{type(exc).__name__}: {exc}"
                if self.strict:
                    raise PluginError(f"plugin {info.name!r} ({info.module}) failed to load: "
                                      f"{info.error}") from exc

    def _check_hooks(self, module: Any) -> None:
        """Refuse hook implementations that match no hookspec (a misspelt hook would
        otherwise be ignored without a word)."""
        known = {n for n in dir(hookspecs) if n.startswith("mnp_")}
        for attr in dir(module):
            opts = self.pm.parse_hookimpl_opts(module, attr)
            if opts is not None:
                name = opts.get("specname") or attr
                if name not in known:
                    raise PluginError(f"{getattr(module, '__name__', module)} implements unknown "
                                      f"hook {name!r}; known hooks: {', '.join(sorted(known))}")

    def _call_hooks(self, module: Any, staging: _Staging) -> None:
        calls: list[tuple[str, Callable]] = [
            ("mnp_register_backends", staging.register_backend),
            ("mnp_register_kernels", staging.register_kernel),
        ]
        for hook, kind in hookspecs.REGISTRY_HOOKS.items():
            calls.append((hook, lambda name, obj, _k=kind: staging.register_name(_k, name, obj)))
        for hook, register in calls:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin is module:
                    impl.function(register=register)

    # -- queries -------------------------------------------------------------------------
    def registry(self, kind: str) -> dict[str, Entry]:
        if kind not in self.registries:
            raise PluginError(f"unknown registry {kind!r}; known: {', '.join(KINDS)}")
        self.load()
        return self.registries[kind]

    def lookup(self, kind: str, name: str) -> Any:
        reg = self.registry(kind)
        if name not in reg:
            raise PluginError(f"no {_SINGULAR.get(kind, kind)} named {name!r} is registered; "
                              f"known: {', '.join(sorted(reg)) or '(none)'}")
        return reg[name].obj


def _core_version() -> str:
    try:
        return md.version("mnp-core")
    except md.PackageNotFoundError:
        return ""


_host: PluginHost | None = None
_listeners: list[Callable[[], None]] = []


def get_host() -> PluginHost:
    """The active plugin host (created on first use; loading still waits for first registry use)."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def set_host(host: PluginHost | None) -> None:
    """Replace the active host (``None``: a fresh default host on next use)."""
    global _host
    _host = host
    for listener in _listeners:
        listener()


@contextlib.contextmanager
def use_host(host: PluginHost) -> Iterator[PluginHost]:
    """Use ``host`` inside the block, then restore the previous one."""
    previous = _host
    set_host(host)
    try:
        yield host
    finally:
        set_host(previous)


def on_host_change(listener: Callable[[], None]) -> None:
    _listeners.append(listener)


def plugins() -> list[dict]:
    """Every plugin found: ``{name, version, module, builtin, status, error, provides, ...}``."""
    return [p.as_dict() for p in get_host().load().plugins]


def registry(kind: str) -> dict[str, Any]:
    """A snapshot of one registry (``layers``, ``losses``, ``optimizers``, ``schedulers``,
    ``datasets``, ``metrics``) as ``{name: object}``."""
    return {n: e.obj for n, e in get_host().registry(kind).items()}


def lookup(kind: str, name: str) -> Any:
    """The object registered as ``name`` in registry ``kind``; a `PluginError` lists the known names."""
    return get_host().lookup(kind, name)
