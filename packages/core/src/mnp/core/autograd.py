"""Reverse-mode autograd: the `Function` base class, grad mode and the versions of memory
changed in place (the backward engine that walks the recorded nodes is `mnp.core.engine`).

An op subclasses `Function` and keeps ``forward`` and ``backward`` side by side::

    class Exp(Function):
        def forward(self, x):
            self.y = np.exp(x)          # saved for backward
            return self.y
        def backward(self, grad):
            return grad * self.y        # one gradient per input

``Exp.apply(t)`` runs forward on ``t.data`` and records the node when grad is enabled.
Backward (`mnp.core.engine`) visits the graph in reverse topological order from a heap of
creation numbers (iterative: no recursion limit). Leaves' gradients are added to in place,
as in PyTorch.

In-place changes follow PyTorch's model. Each change of a tensor's memory raises the version
of that memory (`bump_version`; views and ``detach()`` share it, as they share the memory)
and takes a creation number. A node created before the newest change is checked in backward:
if a value its backward reads was changed after it was made, backward raises an
`AutogradError` instead of giving a wrong gradient. A recorded in-place op moves the tensor
onto a new node (`rebase`); nodes made before it still see the value they were given.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .errors import ArgumentError, AutogradError
from .tensorbase import TensorBase

if TYPE_CHECKING:
    from .tensor import Tensor


class _GradState(threading.local):
    """Grad mode, per thread as in PyTorch: every thread starts with gradients enabled."""
    enabled = True


_grad = _GradState()
_new = object.__new__
_counter = itertools.count()
#: active op observers (profiler, anomaly detection); empty on the fast path
_observers: list[Any] = []
#: the class of every tensor made here: `mnp.core.tensor.Tensor`, which sits above the ops (its
#: methods call them) and so cannot be imported here; it binds itself with `set_tensor_class`
_tensor_class: type[TensorBase] = TensorBase


def set_tensor_class(cls: type[TensorBase]) -> None:
    """Make ``cls`` the class of the tensors ops and the engine create (`Tensor` calls this
    once, as it is defined)."""
    global _tensor_class
    _tensor_class = cls


class Function:
    """One differentiable op. Subclasses define ``forward(*arrays, **kw)`` and ``backward(grad)``.

    ``backward`` returns one gradient (numpy array, or None) per tensor input, as a tuple,
    or a bare array when the op has a single input. ``self.needs_input_grad`` tells which
    inputs want one.
    """
    __slots__ = ("inputs", "seq", "__dict__")
    #: the attributes holding arrays that backward reads (for the in-place check); None: all.
    #: A property can name only those the inputs needing a gradient call for.
    saved: tuple[str, ...] | None = None

    def forward(self, *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
        raise AutogradError(f"{type(self).__name__} defines no forward")

    def backward(self, grad: np.ndarray) -> Any:
        raise AutogradError(f"{type(self).__name__} is not differentiable")

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple([t.requires_grad for t in self.inputs])

    @classmethod
    def op_name(cls) -> str:
        return cls.__dict__.get("name") or cls.__name__.lower()

    @classmethod
    def apply(cls, *inputs: "Tensor", **kwargs: Any) -> "Tensor":
        fn = _new(cls)
        if _observers:
            return _apply_observed(cls, fn, inputs, kwargs)
        if len(inputs) == 2:                # the common arities without building a list
            out = fn.forward(inputs[0].data, inputs[1].data, **kwargs)
        elif len(inputs) == 1:
            out = fn.forward(inputs[0].data, **kwargs)
        else:
            out = fn.forward(*[t.data for t in inputs], **kwargs)
        result = _new(_tensor_class)               # _make, inlined on the hottest path
        result.data = out
        result.grad = None
        result._retains_grad = False
        if _grad.enabled:
            for t in inputs:
                if t.requires_grad:
                    fn.inputs = inputs
                    fn.seq = next(_counter)
                    result.requires_grad = True
                    result._ctx = fn
                    return result
        result.requires_grad = False
        result._ctx = None
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _apply_observed(cls, fn, inputs, kwargs):
    arrays = [t.data for t in inputs]
    t0 = time.perf_counter()
    out = fn.forward(*arrays, **kwargs)
    dt = time.perf_counter() - t0
    for obs in list(_observers):
        obs.on_forward(cls.op_name(), dt, arrays, out)
    if _grad.enabled and any(t.requires_grad for t in inputs):
        fn.inputs = inputs
        fn.seq = next(_counter)
        return _make(out, True, fn)
    return _make(out, False, None)


def _make(data: np.ndarray, requires_grad: bool, ctx: Function | None) -> "Tensor":
    t = _new(_tensor_class)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t._ctx = ctx
    t._retains_grad = False
    return t


# -- versions of memory changed in place ------------------------------------------------------
class _Version:
    """How often one block of memory was changed in place, when (creation numbers of the
    latest changes) and by which op."""
    __slots__ = ("n", "stamps", "op", "ref")


#: id(memory owner) -> its _Version, for the memory changed in place at least once
_versions: dict[int, _Version] = {}
#: the creation number of the newest in-place change: older nodes are checked in backward
_last_change = -1
#: id(tensor) -> (weak reference, [(creation number of the rebase, the earlier value), ...])
_rebased: dict[int, tuple[weakref.ref, list]] = {}


def _owner(arr: np.ndarray) -> Any:
    base = arr.base
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return arr if base is None else base


def _weak(obj: Any, table: dict, key: int) -> Any:
    def drop(ref, table=table, key=key):
        entry = table.get(key)
        if entry is not None and (entry.ref if isinstance(entry, _Version) else entry[0]) is ref:
            del table[key]
    try:
        return weakref.ref(obj, drop)
    except TypeError:       # memory owned by an object without weak references (bytes, mmap)
        return lambda obj=obj: obj


def bump_version(arr: np.ndarray, op: str) -> None:
    """Record that ``op`` changed the memory of ``arr`` in place (raises the version of every
    tensor on that memory)."""
    global _last_change
    owner = _owner(arr)
    key = id(owner)
    v = _versions.get(key)
    if v is None or v.ref() is not owner:
        v = _Version()
        v.n, v.stamps, v.ref = 0, [], _weak(owner, _versions, key)
        _versions[key] = v
    stamp = next(_counter)
    v.n += 1
    v.op = op
    v.stamps.append(stamp)
    if len(v.stamps) > 64:
        del v.stamps[:32]
    _last_change = stamp


def _version_entry(arr: np.ndarray) -> _Version | None:
    owner = _owner(arr)
    v = _versions.get(id(owner))
    return v if v is not None and v.ref() is owner else None


def version_of(arr: np.ndarray) -> int:
    """How many times the memory of ``arr`` was changed in place (``Tensor._version``)."""
    v = _version_entry(arr)
    return 0 if v is None else v.n


def rebase(t: "Tensor", result: "Tensor", old: "Tensor") -> None:
    """Make ``t`` (whose data now holds ``result``'s values) the output of ``result``'s node;
    nodes made before keep seeing ``old``, a tensor for the value ``t`` had."""
    t._ctx = result._ctx
    t.requires_grad = result.requires_grad
    key = id(t)
    entry = _rebased.get(key)
    if entry is None or entry[0]() is not t:
        entry = (_weak(t, _rebased, key), [])
        _rebased[key] = entry
    entry[1].append((result._ctx.seq, old))


def _value_at(p: "Tensor", seq: int) -> "Tensor":
    """The tensor standing for ``p`` as it was when node ``seq`` was made."""
    entry = _rebased.get(id(p))
    if entry is None or entry[0]() is not p:
        return p
    for rseq, old in entry[1]:
        if rseq >= seq:             # the rebasing node itself took the earlier value
            return old
    return p


def _reads(fn: Function, arr: np.ndarray) -> bool:
    """Whether backward of ``fn`` reads memory shared with ``arr``."""
    names = fn.saved
    values = fn.__dict__.values() if names is None else [fn.__dict__.get(n) for n in names]
    for v in values:
        for a in (v if isinstance(v, (tuple, list)) else (v,)):
            if isinstance(a, np.ndarray) and np.may_share_memory(a, arr):
                try:
                    if np.shares_memory(a, arr, max_work=10_000):
                        return True
                except np.exceptions.TooHardError:
                    return True
    return False


def _describe(t: "Tensor") -> str:
    return f"[mnp.{t.data.dtype.name} {list(t.data.shape)}]"


def _check_versions(fn: Function, t: "Tensor", inputs: tuple) -> tuple:
    """For a node made before an in-place change: raise if a value its backward reads was
    changed since; return its inputs as they were when it was made."""
    seq = fn.seq
    for p, producer in [(t, fn)] + [(p, None) for p in inputs]:
        v = _version_entry(p.data)
        if v is None or v.stamps[-1] < seq or not _reads(fn, p.data):
            continue
        if producer is None:    # as PyTorch: the node the changed tensor now comes from
            producer = p._ctx
        saw = v.n - sum(1 for s in v.stamps if s > seq)
        which = "" if producer is None else f", which is output 0 of {type(producer).__name__},"
        raise AutogradError(
            f"backward of {type(fn).__name__}: one of the variables needed for gradient "
            f"computation has been modified by an inplace operation: {_describe(p)}{which} is at "
            f"version {v.n}; expected version {saw} instead (changed by {v.op}). Use an "
            f"out-of-place op, or clone() the value before changing it")
    if not _rebased:
        return inputs
    return tuple([_value_at(p, seq) for p in inputs])


# -- grad mode ------------------------------------------------------------------------------
def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return _grad.enabled


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        self.prev = _grad.enabled
        _grad.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _grad.enabled = self.prev
        return False

    def _recreate_cm(self):
        return type(self)()


class no_grad(_GradMode):
    """Context manager and decorator (``@no_grad()`` or bare ``@no_grad``): ops inside
    record no graph.

    >>> import mnp.core as mnp
    >>> w = mnp.ones(2, requires_grad=True)
    >>> with mnp.no_grad():
    ...     print((w * 2).requires_grad)
    False
    """
    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        return self if func is None else self(func)

    def __init__(self, func: Callable | None = None):
        super().__init__(False)


class enable_grad(_GradMode):
    """Context manager and decorator (``@enable_grad()`` or bare ``@enable_grad``):
    re-enables graph recording inside `no_grad()`."""
    def __new__(cls, func: Callable | None = None):
        self = super().__new__(cls)
        return self if func is None else self(func)

    def __init__(self, func: Callable | None = None):
        super().__init__(True)


class inference_mode(_GradMode):
    """Context manager and decorator (``@inference_mode()`` or bare ``@inference_mode``):
    with ``mode=True`` ops inside record no graph, as `no_grad`; ``mode=False`` changes
    nothing. (mnp has no inference tensors: the results are ordinary tensors.)"""
    def __new__(cls, mode: "bool | Callable" = True):
        return cls(True)(mode) if callable(mode) else super().__new__(cls)

    def __init__(self, mode: "bool | Callable" = True):
        self.mode = True if callable(mode) else bool(mode)
        super().__init__(False)

    def __enter__(self):
        if not self.mode:
            self.enabled = _grad.enabled
        return super().__enter__()

    def _recreate_cm(self):
        return type(self)(self.mode)


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off (``mode``): called as a function it sets the mode
    (for the current thread) at once; used as a context manager or decorator it sets it
    inside and restores the previous mode on exit, as PyTorch.

    >>> import mnp.core as mnp
    >>> with mnp.set_grad_enabled(False):
    ...     mnp.is_grad_enabled()
    False
    """
    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, int)):
            raise ArgumentError(f"set_grad_enabled: mode must be a bool, got "
                                f"{type(mode).__name__} {mode!r}")
        super().__init__(bool(mode))
        self.prev = _grad.enabled
        _grad.enabled = self.enabled

    def __call__(self, func: Callable) -> Callable:
        _grad.enabled = self.prev    # as a decorator it sets the mode only around calls
        return super().__call__(func)

    def __enter__(self):
        _grad.enabled = self.enabled  # ``prev`` is the mode before the constructor ran
        return self

    def _recreate_cm(self):
        return _GradMode(self.enabled)
