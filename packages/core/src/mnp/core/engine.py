"""The backward engine: `run_backward` (one sweep over the graph, newest node first),
`backward` and `grad`, the `SliceGrad` gradients of tensor pieces, and post-accumulate hooks.

The ops record `mnp.core.autograd.Function` nodes; this module walks them.
"""
from __future__ import annotations

import heapq
import itertools
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from . import autograd as _autograd
from .autograd import Function, _check_versions, _make, _observers
from .errors import AutogradError, shape_error
from .tensorbase import TensorBase

if TYPE_CHECKING:
    from .tensor import Tensor

#: id(leaf) -> (weak reference, {handle id: hook}) for leaves with post-accumulate hooks
_post_hooks: dict[int, tuple[weakref.ref, dict[int, Callable]]] = {}
_hook_ids = itertools.count()


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
        # laid out as ``like`` (a permuted view's gradient stays a view of one C-ordered
        # buffer, so the reshape back to the producer's shape costs no copy)
        out = np.zeros_like(like)
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
    changed = _autograd._last_change  # nodes made before it are checked (see `_check_versions`)
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


def leaf_edges(nodes: Iterable[Function]) -> Iterator["Tensor"]:
    """The leaves that require grad at the ends of the graph's edges below ``nodes``: a leaf
    once per edge into it. Each node is visited once; freed nodes (after a backward) are
    skipped."""
    seen: set[int] = set()
    stack = list(nodes)
    while stack:
        fn = stack.pop()
        if id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for p in fn.inputs:
            if p.requires_grad:
                if p._ctx is None:
                    yield p
                else:
                    stack.append(p._ctx)


# -- post-accumulate gradient hooks -----------------------------------------------------------
def _hooked_leaf_uses(heap: list) -> dict[int, int]:
    """For each hooked leaf below the roots on ``heap``: how many graph edges reach it."""
    uses: dict[int, int] = {}
    for p in leaf_edges(t._ctx for _, _, t in heap):
        if id(p) in _post_hooks:
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
