"""The hooks a plugin can implement (pluggy project ``"mnp"``, entry-point group ``"mnp"``).

Every hook receives a ``register`` callback and returns nothing. Hooks are called once,
lazily, the first time a registry is used; ``import mnp.core`` calls none of them.

A plugin is a module (named by an entry point in group ``mnp``) holding hook implementations::

    # pyproject.toml:  [project.entry-points.mnp]  myplugin = "my_pkg.mnp_plugin"
    from mnp.core import hookimpl

    @hookimpl
    def mnp_register_layers(register):
        register("MyLayer", MyLayer)
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

import pluggy

PROJECT = "mnp"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterBackend(Protocol):
    def __call__(self, name: str, kernels: dict[str, Callable] | None = None, *,
                 priority: int = 0, available: bool | Callable[[], bool] = True,
                 dtypes: dict[str, tuple[str, ...]] | None = None,
                 description: str = "", fallback: str | None = None,
                 size_rules: dict[str, Any] | None = None,
                 kinds: dict[str, str] | None = None, **options: Any) -> None: ...


class RegisterKernel(Protocol):
    def __call__(self, backend: str, name: str, fn: Callable, *,
                 dtypes: tuple[str, ...] | None = None, fallback: str | None = None,
                 size_rule: Any = None, kind: str | None = None) -> None: ...


class RegisterName(Protocol):
    def __call__(self, name: str, obj: Any) -> None: ...


@hookspec
def mnp_register_backends(register: RegisterBackend) -> None:
    """Declare kernel backends.

    ``register(name, kernels, priority=0, available=True, dtypes=None)``: ``kernels`` maps
    kernel names to plain functions on numpy arrays; ``dtypes`` maps a kernel name to the
    dtype names it handles (absent: every dtype). ``available`` may be a callable checked
    when the dispatch table is built. The highest-priority available backend is the default;
    kernels it lacks fall back to the ``numpy`` reference, per kernel and per dtype.

    Optional: ``thresholds`` maps a kernel name (or ``"*"`` for all) to the element counts at
    which the kernel changes path (threading, blocking), so the conformance kit tests both
    sides of each; ``set_threads(n)``/``get_threads()`` give mnp control of the backend's
    threads (``mnp.core.set_num_threads``), passed together; ``set_deterministic(mode)``
    receives ``mnp.core.use_deterministic_algorithms(mode)`` (a backend whose results may
    depend on its thread count switches to its thread-count-independent paths).

    Routing, resolved by `mnp.core.dispatch`, never inside a kernel: ``fallback="numpy"``
    says the backend's kernels may *decline* an input they do not take by returning
    ``NotImplemented``, and dispatch then runs that backend's kernel of the same name;
    ``size_rules`` maps a kernel name to a `mnp.core.plugins.SizeRule` that hands calls of at
    least a given work to another backend (e.g. large products to numpy's BLAS).
    ``kinds`` maps a kernel name to its signature kind (``"unary"``, ``"binary"``,
    ``"unary_backward"``): the conformance kit then makes inputs for a kernel it has no
    generator of its own for.
    """


@hookspec
def mnp_register_kernels(register: RegisterKernel) -> None:
    """Add kernels to a backend declared by any plugin: ``register(backend, name, fn, dtypes=None)``
    (optional ``fallback`` and ``size_rule``, as for `mnp_register_backends`).

    A package that defines ops registers its ``numpy`` reference kernels here; a faster
    backend registers its own implementation under the same name.
    """


@hookspec
def mnp_register_layers(register: RegisterName) -> None:
    """Register layer classes by name: ``register("Linear", Linear)``. Saved models name them."""


@hookspec
def mnp_register_losses(register: RegisterName) -> None:
    """Register loss classes by name: ``register("MSELoss", MSELoss)``."""


@hookspec
def mnp_register_optimizers(register: RegisterName) -> None:
    """Register optimizer classes by name: ``register("Adam", Adam)``."""


@hookspec
def mnp_register_schedulers(register: RegisterName) -> None:
    """Register learning-rate scheduler classes by name: ``register("StepLR", StepLR)``."""


@hookspec
def mnp_register_datasets(register: RegisterName) -> None:
    """Register dataset factories by name: ``register("digits", digits)``; each returns ``(X, y)``."""


@hookspec
def mnp_register_loaders(register: RegisterName) -> None:
    """Register batch-loader classes by name: ``register("DataLoader", DataLoader)``.

    A loader takes ``(dataset, batch_size=, shuffle=, sampler=, drop_last=)`` as PyTorch's
    ``DataLoader`` does; mnp.nn's ``Trainer`` batches arrays with the one named
    ``"DataLoader"`` when a plugin registers it, and slices them itself otherwise.
    """


@hookspec
def mnp_register_metrics(register: RegisterName) -> None:
    """Register metric functions by name: ``register("accuracy", accuracy)``."""


@hookspec
def mnp_register_process_groups(register: RegisterName) -> None:
    """Register process-group factories by name: ``register("mpi", factory)``.

    ``factory()`` returns a started group (see `mnp.core.parallel.ProcessGroup`) when this
    process was started by that backend's launcher with more than one process, else None;
    `mnp.core.parallel.default_process_group` asks each in turn.
    """


#: hook name -> registry kind
REGISTRY_HOOKS = {
    "mnp_register_layers": "layers",
    "mnp_register_losses": "losses",
    "mnp_register_optimizers": "optimizers",
    "mnp_register_schedulers": "schedulers",
    "mnp_register_datasets": "datasets",
    "mnp_register_loaders": "loaders",
    "mnp_register_metrics": "metrics",
    "mnp_register_process_groups": "process_groups",
}
