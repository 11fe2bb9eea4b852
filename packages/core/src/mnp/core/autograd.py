"""Reverse-mode autograd: the `Function` base class, grad mode and the backward engine.

An op subclasses `Function` and keeps ``forward`` and ``backward`` side by side::

    class Exp(Function):
        def forward(self, x):
            self.y = np.exp(x)          # saved for backward
            return self.y
        def backward(self, grad):
            return grad * self.y        # one gradient per input

``Exp.apply(t)`` runs forward on ``t.data`` and records the node when grad is enabled.
Backward visits the graph in reverse topological order from a heap of creation numbers
(iterative: no recursion limit). Leaves' gradients are added to in place, as in PyTorch.

In-place changes follow PyTorch's model. Each change of a tensor's memory raises the version
of that memory (`bump_version`; views and ``detach()`` share it, as they share the memory)
and takes a creation number. A node created before the newest change is checked in backward:
if a value its backward reads was changed after it was made, backward raises an
`AutogradError` instead of giving a wrong gradient. A recorded in-place op moves the tensor
onto a new node (`rebase`); nodes made before it still see the value they were given.
"""
from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .errors import ArgumentError, AutogradError, shape_error
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
#: id(leaf) -> (weak reference, {handle id: hook}) for leaves with post-accumulate hooks
_post_hooks: dict[int, tuple[weakref.ref, dict[int, Callable]]] = {}
_hook_ids = itertools.count()
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


# -- the engine -----------------------------------------------------------------------------
def _freed(fn: Function) -> AutogradError:
    return AutogradError(
        f"backward: trying to backward through the graph a second time: the saved values of "
        f"{type(fn).__name__} were freed by the first backward; pass retain_graph=True to the "
        f"first backward() if you need to backward twice")


class SliceGrad:
    """A gradient that is zero except at ``key`` (a basic index), where it is ``value``.

    An op that selects part of its input (indexing, split, unbind) returns one from
    ``backward`` instead of a dense array of zeros: the engine writes ``value`` into the
    input's gradient buffer, so the pieces of one tensor cost one buffer between them.
    """
    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: np.ndarray):
        self.key, self.value = key, value

    def dense(self, like: np.ndarray) -> np.ndarray:
        out = np.zeros(like.shape, like.dtype)
        out[self.key] = self.value
        return out

    def add_to(self, out: np.ndarray) -> None:
        part = out[self.key]
        if type(part) is np.ndarray:        # a view of ``out``
            np.add(part, self.value, out=part, casting="unsafe")
        else:                                # one element
            out[self.key] = part + self.value


def _fit(t: "Tensor", g: Any, op: str) -> np.ndarray:
    g = np.asarray(g)
    if g.shape != t.data.shape:
        if g.size == t.data.size:
            g = g.reshape(t.data.shape)
        else:
            raise AutogradError(f"{op}: backward produced a gradient of shape {g.shape} for an "
                                f"input of shape {t.data.shape}")
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    return g


def run_backward(roots: Sequence["Tensor"], root_grads: Sequence[np.ndarray],
                 retain_graph: bool = False,
                 capture: Sequence["Tensor"] | None = None) -> list[np.ndarray | None] | None:
    """Propagate ``root_grads`` from ``roots``. Without ``capture``, accumulate into leaves'
    ``.grad``; with it, return the gradients of those tensors and touch no ``.grad``.

    One sweep, newest node first: every node records a creation number (``Function.seq``)
    and an op's inputs always exist before it does, so taking the pending node with the
    highest number from a heap visits every node after all the nodes that consume it
    (a reverse topological order without a separate sort; no recursion).
    """
    pending: dict[int, np.ndarray] = {}      # id(tensor) -> gradient summed so far
    owned: set[int] = set()                  # keys of pending arrays made here (safe to add to)
    heap: list[tuple[int, int, Tensor]] = []  # (-seq, id, tensor) of non-leaves with a gradient
    leaves: dict[int, Tensor] = {}
    for r, g in zip(roots, root_grads):
        if g.shape != r.data.shape or g.dtype != r.data.dtype:
            g = _fit(r, g, "backward")
        key = id(r)
        if key in pending:
            pending[key] = pending[key] + g
        else:
            pending[key] = g
            if r._ctx is None:
                leaves[key] = r
            else:
                heapq.heappush(heap, (-r._ctx.seq, key, r))
    wanted = {id(t): None for t in capture} if capture is not None else None
    # hooked leaves -> edges still to come: each is delivered as soon as its gradient is whole
    remaining = _hooked_leaf_uses(heap) if wanted is None and _post_hooks else None
    given: set[int] = set()                  # ids of arrays some tensor now holds as .grad
    observed = bool(_observers)
    changed = _last_change          # nodes made before it are checked (see `_check_versions`)
    ndarray = np.ndarray
    heappop, heappush = heapq.heappop, heapq.heappush
    while heap:
        _, key, t = heappop(heap)
        g = pending.pop(key)
        owned.discard(key)
        fn = t._ctx
        inputs = fn.inputs
        if inputs is None:
            raise _freed(fn)
        if fn.seq < changed:
            inputs = _check_versions(fn, t, inputs)
        if wanted is not None:
            if key in wanted:
                wanted[key] = g
        elif t._retains_grad:   # accumulates across backward calls, as a leaf's does
            t.grad = _as_grad(t, g) if t.grad is None else _as_grad(t, t.grad.data + g)
            given.add(id(t.grad.data))
        if observed:
            t0 = time.perf_counter()
            in_grads = fn.backward(g)
            for obs in list(_observers):
                obs.on_backward(type(fn).op_name(), time.perf_counter() - t0, in_grads)
        else:
            in_grads = fn.backward(g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for p, pg in zip(inputs, in_grads):
            if pg is None or not p.requires_grad:
                if remaining is not None and id(p) in remaining:
                    _edge_done(p, remaining, pending, leaves)
                continue
            pkey = id(p)
            prev = pending.get(pkey)
            fresh = False                    # pg was made here and nothing else holds it
            if type(pg) is SliceGrad:
                if prev is not None and pkey in owned:
                    pg.add_to(prev)
                    pg = None
                else:
                    pg, fresh = pg.dense(p.data), True
            else:
                pd = p.data
                if type(pg) is not ndarray or pg.shape != pd.shape or (
                        pg.dtype is not pd.dtype and pg.dtype != pd.dtype):
                    pg = _fit(p, pg, type(fn).op_name())
            if pg is None:
                pass
            elif prev is None:
                pending[pkey] = pg
                if fresh:
                    owned.add(pkey)
                else:
                    owned.discard(pkey)
                if p._ctx is None:
                    leaves[pkey] = p
                else:
                    heappush(heap, (-p._ctx.seq, pkey, p))
            elif pkey in owned:              # a sum made here: add in place
                np.add(prev, pg, out=prev)
            else:
                if fresh:
                    np.add(pg, prev, out=pg)
                else:
                    pg = prev + pg
                pending[pkey] = pg
                owned.add(pkey)
            if remaining is not None and pkey in remaining:
                _edge_done(p, remaining, pending, leaves)
        if not retain_graph:
            fn.__dict__.clear()
            fn.inputs = None
    if wanted is not None:
        for key in leaves:
            if key in wanted:
                wanted[key] = pending.get(key)
        return [wanted[id(t)] for t in capture]
    for key, leaf in leaves.items():
        g = pending[key]
        if not leaf.requires_grad:
            continue
        acc = leaf.grad
        if acc is None:
            if id(g) in given:           # one array reached two tensors (as from a + b)
                g = np.array(g)
            leaf.grad = _as_grad(leaf, g)
            given.add(id(leaf.grad.data))
        else:
            _accumulate_into(leaf, acc, g)
        if key in _post_hooks:
            _run_post_hooks(leaf)
    return None


# -- post-accumulate gradient hooks -----------------------------------------------------------
def _hooked_leaf_uses(heap: list) -> dict[int, int]:
    """For each hooked leaf below the roots on ``heap``: how many graph edges reach it."""
    uses: dict[int, int] = {}
    seen: set[int] = set()
    stack = [t._ctx for _, _, t in heap]
    while stack:
        fn = stack.pop()
        if id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for p in fn.inputs:
            if not p.requires_grad:
                continue
            if p._ctx is not None:
                stack.append(p._ctx)
            elif id(p) in _post_hooks:
                uses[id(p)] = uses.get(id(p), 0) + 1
    return uses


def _edge_done(leaf: "Tensor", remaining: dict[int, int], pending: dict, leaves: dict) -> None:
    """One edge into a hooked leaf was processed; on the last one, deliver its gradient now."""
    key = id(leaf)
    remaining[key] -= 1
    if remaining[key]:
        return
    del remaining[key]
    g = pending.pop(key, None)
    leaves.pop(key, None)
    if g is None:
        return
    if leaf.grad is None:
        leaf.grad = _make(np.array(g), False, None)   # its own memory: g may be shared
    else:
        _accumulate_into(leaf, leaf.grad, g)
    _run_post_hooks(leaf)


def _run_post_hooks(leaf: "Tensor") -> None:
    entry = _post_hooks.get(id(leaf))
    if entry is not None and entry[0]() is leaf:
        for hook in list(entry[1].values()):
            hook(leaf)


class RemovableHandle:
    """Returned by ``register_post_accumulate_grad_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, key: int, hook_id: int):
        self._key, self.id = key, hook_id

    def remove(self) -> None:
        entry = _post_hooks.get(self._key)
        if entry is not None:
            entry[1].pop(self.id, None)
            if not entry[1]:
                del _post_hooks[self._key]

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_post_accumulate_grad_hook(leaf: "Tensor", hook: Callable[["Tensor"], None]) -> RemovableHandle:
    """Call ``hook(leaf)`` during backward right after ``leaf.grad`` received its full gradient
    of that backward (PyTorch's ``Tensor.register_post_accumulate_grad_hook``)."""
    if leaf._ctx is not None:
        raise AutogradError("register_post_accumulate_grad_hook: only leaf tensors have "
                            "accumulated gradients; this tensor has a grad_fn")
    if not leaf.requires_grad:
        raise AutogradError("register_post_accumulate_grad_hook: the tensor does not require grad")
    if not callable(hook):
        raise AutogradError(f"register_post_accumulate_grad_hook: hook must be callable, "
                            f"got {type(hook).__name__}")
    key = id(leaf)
    entry = _post_hooks.get(key)
    if entry is None or entry[0]() is not leaf:
        entry = (weakref.ref(leaf, lambda _r, k=key: _drop_hooks(k, _r)), {})
        _post_hooks[key] = entry
    hook_id = next(_hook_ids)
    entry[1][hook_id] = hook
    return RemovableHandle(key, hook_id)


def _drop_hooks(key: int, ref: weakref.ref) -> None:
    entry = _post_hooks.get(key)
    if entry is not None and entry[0] is ref:
        del _post_hooks[key]


def _accumulate_into(t: "Tensor", acc: "Tensor", g: np.ndarray) -> None:
    """Add ``g`` to ``t.grad`` in place, as PyTorch does, or rebind ``t.grad`` when the stored
    gradient cannot take it (another shape or dtype, read-only memory)."""
    a = acc.data
    if a.shape == g.shape and a.dtype == g.dtype and a.flags.writeable:
        np.add(a, g, out=a)
    else:
        t.grad = _as_grad(t, a + g)


def _as_grad(t: "Tensor", g: np.ndarray) -> "Tensor":
    if g.base is not None or not g.flags.writeable:
        g = np.array(g)  # own its memory: never alias a view of some other array
    return _make(g, False, None)


def _root_grad(t: "Tensor", gradient: Any, op: str) -> np.ndarray:
    if not t.requires_grad:
        raise AutogradError(f"{op}: the tensor does not require grad and has no grad_fn "
                            f"(create inputs with requires_grad=True)")
    if gradient is None:
        if t.data.size != 1:
            raise AutogradError(f"{op}: grad can be implicitly created only for scalar outputs; "
                                f"got shape {t.data.shape}: pass gradient= of that shape")
        d = t.data
        return np.array(1, d.dtype) if d.ndim == 0 else np.ones(d.shape, d.dtype)
    g = gradient.data if isinstance(gradient, TensorBase) else np.asarray(gradient, dtype=t.data.dtype)
    if g.shape != t.data.shape:
        raise shape_error(op, t.data.shape, g.shape, why="(output and gradient) do not match")
    return np.array(g)   # a copy: leaves' gradients are added to in place later


def backward(tensor: "Tensor", gradient: Any = None, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (see `Tensor.backward`)."""
    g = _root_grad(tensor, gradient, "backward")
    run_backward([tensor], [g], retain_graph=retain_graph)


def grad(outputs: "Tensor | Sequence[Tensor]", inputs: "Tensor | Sequence[Tensor]",
         grad_outputs: Any = None, retain_graph: bool = False,
         allow_unused: bool = False) -> tuple["Tensor | None", ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    >>> import mnp.core as mnp
    >>> x = mnp.tensor([1.0, 2.0], requires_grad=True)
    >>> (gx,) = mnp.grad((x * x).sum(), x)
    >>> gx.tolist()
    [2.0, 4.0]
    """
    outs = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    ins = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif isinstance(grad_outputs, (TensorBase, np.ndarray)):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise AutogradError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise AutogradError(f"grad: input {i} does not require grad")
    roots_g = [_root_grad(o, g, "grad") for o, g in zip(outs, gos)]
    found = run_backward(outs, roots_g, retain_graph=retain_graph, capture=ins)
    result = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None:
            if not allow_unused:
                raise AutogradError(f"grad: input {i} (shape {t.shape}) was not used to compute "
                                    f"the outputs; pass allow_unused=True to get None for it")
            result.append(None)
        else:
            result.append(_make(np.array(g), False, None))
    return tuple(result)
