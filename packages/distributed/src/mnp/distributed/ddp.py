"""`DistributedDataParallel`: the same model on every rank, gradients averaged during backward.

At wrap time rank 0's parameters and buffers are broadcast to every rank. Gradients are
grouped into buckets of about ``bucket_cap_mb`` (the first one smaller, 1 MiB) in reverse
order of registration, which is roughly the order backward produces them, and after the first
iteration rebuilt in the order its gradients actually arrived (rank 0's). A
post-accumulate hook on each parameter copies its gradient into its bucket; when a bucket
is full its non-blocking all-reduce (MPI Iallreduce) starts at once, overlapping the rest
of backward. Buckets start in the same order on every rank, as MPI requires. When the last
one has started, they are waited for and the averaged gradients written back into each
parameter's ``.grad``: identical on every rank.
"""
from __future__ import annotations

import contextlib
import time
import weakref
import zlib
from typing import Any, Iterator

import numpy as np

import mnp.core as mnp
from mnp.core import Tensor
from mnp.core.engine import leaf_edges

from . import _mpi
from .collectives import _run, wait_requests
from .errors import DistributedError
from .process_group import ProcessGroup, _group

FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    """A flat buffer holding the gradients of some parameters of one dtype."""

    def __init__(self, index: int, params: list[tuple[int, Tensor]]):
        self.index = index
        self.params = params                        # (parameter number, parameter)
        dtype = params[0][1].dtype
        self.dtype = np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)
        self.slices: dict[int, slice] = {}
        start = 0
        for number, p in params:
            self.slices[number] = slice(start, start + p.data.size)
            start += p.data.size
        self.buffer = np.empty(start, self.dtype)
        self.ready: set[int] = set()
        self.request: Any = None

    @property
    def full(self) -> bool:
        return len(self.ready) == len(self.params)

    def put(self, number: int, grad: np.ndarray | None) -> None:
        view = self.buffer[self.slices[number]]
        if grad is None:
            view.fill(0)
        else:
            np.copyto(view, grad.reshape(-1), casting="unsafe")
        self.ready.add(number)


def _build_buckets(params: list[Tensor], cap: int, order: list[int] | None = None) -> list[_Bucket]:
    """Buckets filled in ``order`` (parameter numbers; default: reverse registration order),
    one dtype each, the first capped at 1 MiB."""
    buckets: list[_Bucket] = []
    open_: dict[Any, tuple[list, int]] = {}
    for number in (reversed(range(len(params))) if order is None else order):
        p = params[number]
        key = p.dtype
        members, size = open_.get(key, ([], 0))
        limit = min(cap, FIRST_BUCKET_BYTES) if not buckets else cap
        nbytes = p.data.nbytes
        if members and size + nbytes > limit:
            buckets.append(_Bucket(len(buckets), members))
            members, size = [], 0
        members.append((number, p))
        open_[key] = (members, size + nbytes)
    for members, _ in open_.values():
        if members:
            buckets.append(_Bucket(len(buckets), members))
    return buckets


def _named(module: Any, kind: str) -> list[tuple[str, Tensor]]:
    named = getattr(module, f"named_{kind}", None)
    if named is not None:
        return list(named())
    return [(str(i), t) for i, t in enumerate(getattr(module, kind)())]


def _leaves(outputs: Any) -> set[int]:
    """ids of the leaves the autograd graph of ``outputs`` reaches."""
    found: set[int] = set()
    stack: list[Any] = []
    todo = [outputs]
    while todo:
        item = todo.pop()
        if isinstance(item, Tensor):
            if item.requires_grad:
                if item._ctx is None:
                    found.add(id(item))
                else:
                    stack.append(item._ctx)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    found.update(id(t) for t in leaf_edges(stack))
    return found


class DistributedDataParallel:
    """Wrap ``module`` for data-parallel training over the process group (PyTorch's class).

    Call it as the module; after ``loss.backward()`` every parameter's ``.grad`` holds the
    average over ranks of the local gradients, the same on every rank, so each rank's
    optimizer takes the same step. ``module`` is the wrapped module; `state_dict` keys carry
    the ``module.`` prefix. ``find_unused_parameters=True``: parameters that a forward does
    not reach count as zero gradients on that rank (a parameter unused on every rank keeps
    its ``.grad``). ``broadcast_buffers``: rank 0's buffers (batch-norm statistics) are
    copied to every rank at each training forward. `no_sync` skips averaging (gradient
    accumulation). ``device_ids``/``output_device`` must be None (CPU).
    """

    def __init__(self, module: Any, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True,
                 process_group: ProcessGroup | None = None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False):
        if device_ids not in (None, []) or output_device is not None:
            raise DistributedError("DistributedDataParallel: mnp runs on the CPU; leave "
                                   "device_ids and output_device unset")
        if not callable(module) or not hasattr(module, "parameters"):
            raise DistributedError(f"DistributedDataParallel: module must be a callable with "
                                   f"parameters(), got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise DistributedError(f"DistributedDataParallel: bucket_cap_mb must be positive, "
                                   f"got {bucket_cap_mb}")
        self.module = module
        self.process_group = _group(process_group, "DistributedDataParallel")
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_bytes_cap = int(bucket_cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        named, seen = [], set()
        for name, p in _named(module, "parameters"):
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                named.append((name, p))
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._number = {id(p): i for i, p in enumerate(self._params)}
        self._check_layout()
        self._sync_params_and_buffers()
        self._set_buckets(None)
        self._arrival: list[int] | None = []    # the first backward's order, then None
        self._armed = False
        self._next = 0
        self._used: np.ndarray | None = None
        #: exposed communication: seconds spent waiting for buckets after the last one started
        self.stats = {"iterations": 0, "wait_seconds": 0.0, "allreduce_bytes": 0}
        ref = weakref.ref(self)

        def hook(p: Tensor) -> None:
            ddp = ref()
            if ddp is not None:
                ddp._on_grad(p)
        self._handles = [p.register_post_accumulate_grad_hook(hook) for p in self._params]
        weakref.finalize(self, _remove, list(self._handles))

    # -- setup ------------------------------------------------------------------------------
    def _check_layout(self) -> None:
        g = self.process_group
        if g.world_size == 1:
            return
        layout = repr([(tuple(p.shape), p.dtype.str) for p in self._params]).encode()
        mine = np.array([len(self._params), zlib.crc32(layout)], np.int64)
        every = np.empty((g.world_size, 2), np.int64)
        _run(g, "DistributedDataParallel", lambda: g.comm.Allgather(mine, every),
             lambda: g.comm.Iallgather(mine, every), lambda: None, False, ())
        bad = [r for r in range(g.world_size) if not np.array_equal(every[r], every[0])]
        if bad:
            raise DistributedError(
                f"DistributedDataParallel: the module's parameters differ across ranks (rank "
                f"0 has {int(every[0][0])} parameters; rank(s) {bad} have a different count, "
                f"shapes or dtypes: {[int(every[r][0]) for r in bad]} parameters); build the "
                f"same model on every rank")

    def _sync_params_and_buffers(self) -> None:
        g = self.process_group
        if g.world_size == 1:
            return
        for p in self._params:
            _bcast(g, _contiguous(p))
        self._sync_buffers()

    def _sync_buffers(self) -> None:
        buffers = getattr(self.module, "buffers", None)
        if buffers is None:
            return
        for b in buffers():
            _bcast(self.process_group, _contiguous(b))

    # -- forward ------------------------------------------------------------------------------
    def __call__(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.forward(*inputs, **kwargs)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        g = self.process_group
        if self._armed and any(b.ready for b in self._buckets):
            missing = [self._names[n] for b in self._buckets for n, _ in b.params
                       if n not in b.ready]
            self._armed = False
            raise DistributedError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                "iteration before starting a new one: these parameters received no gradient "
                f"in that backward: {missing[:10]}{' …' if len(missing) > 10 else ''}. If "
                "the forward does not use every parameter, pass find_unused_parameters=True")
        sync = g.world_size > 1 and mnp.is_grad_enabled() and self.require_backward_grad_sync
        if g.world_size > 1 and self.broadcast_buffers and mnp.is_grad_enabled() and \
                getattr(self.module, "training", True):
            self._sync_buffers()
        if sync:
            self._arm()
        out = self.module(*inputs, **kwargs)
        if sync and self.find_unused_parameters:
            reached = _leaves(out)
            self._used = np.array([id(p) in reached for p in self._params], np.uint8)
            for n, p in enumerate(self._params):
                if not self._used[n]:
                    self._bucket_of[n].put(n, None if p.grad is None else p.grad.data)
            self._launch_ready()
        return out

    def _set_buckets(self, order: list[int] | None) -> None:
        self._buckets = _build_buckets(self._params, self.bucket_bytes_cap, order)
        self._bucket_of = {n: b for b in self._buckets for n, _ in b.params}

    def _rebuild_buckets(self) -> None:
        """After the first synchronised backward, rebuild the buckets in the order its
        gradients arrived on rank 0 (as PyTorch does), so each bucket fills as early as it
        can; every rank takes rank 0's order so that buckets match across ranks."""
        arrival, self._arrival = self._arrival, None
        seen = set(arrival)
        order = np.array(arrival + [n for n in reversed(range(len(self._params)))
                                    if n not in seen], np.int64)
        _bcast(self.process_group, order)
        if order.tolist() != [n for b in self._buckets for n, _ in b.params]:
            self._set_buckets(order.tolist())

    def _arm(self) -> None:
        for b in self._buckets:
            b.ready.clear()
            b.request = None
        self._next = 0
        self._used = None
        self._armed = bool(self._buckets)

    # -- backward -----------------------------------------------------------------------------
    def _on_grad(self, p: Tensor) -> None:
        if not self._armed:
            return
        n = self._number[id(p)]
        bucket = self._bucket_of[n]
        if n in bucket.ready:
            self._armed = False
            raise DistributedError(f"DistributedDataParallel: parameter {self._names[n]!r} "
                                   f"received a second gradient in one iteration (backward "
                                   f"twice after one forward?); call the model again before "
                                   f"each backward, or use no_sync()")
        bucket.put(n, p.grad.data)
        if self._arrival is not None:
            self._arrival.append(n)
        self._launch_ready()

    def _launch_ready(self) -> None:
        g, MPI = self.process_group, _mpi.load()
        while self._next < len(self._buckets) and self._buckets[self._next].full:
            b = self._buckets[self._next]
            b.request = g.comm.Iallreduce(MPI.IN_PLACE, b.buffer, MPI.SUM)
            self._next += 1
        for b in self._buckets[:self._next]:          # drive MPI's progress, oldest first
            if b.request is not None:
                if not b.request.Test():
                    break
                b.request = None
        if self._next == len(self._buckets) and self._armed:
            self._finish()

    def _finish(self) -> None:
        self._armed = False
        g = self.process_group
        t0 = time.perf_counter()
        pending = [b.request for b in self._buckets if b.request is not None]
        if pending:
            wait_requests(g, pending, "DistributedDataParallel (gradient all-reduce)")
        used = None
        if self._used is not None:
            MPI = _mpi.load()
            used = self._used
            _run(g, "DistributedDataParallel", lambda: g.comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX),
                 lambda: g.comm.Iallreduce(MPI.IN_PLACE, used, MPI.MAX), lambda: None, False, ())
        self.stats["wait_seconds"] += time.perf_counter() - t0
        self.stats["iterations"] += 1
        scale = 1.0 / g.world_size
        for b in self._buckets:
            b.request = None
            np.multiply(b.buffer, scale, out=b.buffer)
            self.stats["allreduce_bytes"] += b.buffer.nbytes
            for n, p in b.params:
                if used is not None and not used[n]:
                    continue
                avg = b.buffer[b.slices[n]].reshape(p.shape)
                if p.grad is None:
                    p.grad = mnp.from_numpy(avg.astype(p.dtype))
                else:
                    np.copyto(p.grad.data, avg, casting="unsafe")
        if self._arrival is not None:
            self._rebuild_buckets()

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward accumulates local gradients without averaging them; the first
        backward after the block averages the accumulated sum (gradient accumulation)."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before

    # -- the Module surface -------------------------------------------------------------------
    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        return iter(self.module.parameters())

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        for name, p in _named(self.module, "parameters"):
            yield f"{prefix}{'.' if prefix else ''}module.{name}", p

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return iter(self.module.buffers()) if hasattr(self.module, "buffers") else iter(())

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        for name, b in _named(self.module, "buffers") if hasattr(self.module, "buffers") else ():
            yield f"{prefix}{'.' if prefix else ''}module.{name}", b

    def children(self) -> Iterator[Any]:
        yield self.module

    def named_children(self) -> Iterator[tuple[str, Any]]:
        yield "module", self.module

    def modules(self) -> Iterator[Any]:
        yield self
        if hasattr(self.module, "modules"):
            yield from self.module.modules()
        else:
            yield self.module

    @property
    def training(self) -> bool:
        return bool(getattr(self.module, "training", True))

    def train(self, mode: bool = True) -> "DistributedDataParallel":
        self.module.train(mode)
        return self

    def eval(self) -> "DistributedDataParallel":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.module.zero_grad(set_to_none)

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict:
        """The module's state dict with keys prefixed ``module.``, as PyTorch's."""
        return self.module.state_dict(destination=destination, prefix=prefix + "module.",
                                      keep_vars=keep_vars)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> Any:
        """Load a state dict saved from the wrapper (``module.`` keys) or from the bare module."""
        stripped = {(k[len("module."):] if k.startswith("module.") else k): v
                    for k, v in state_dict.items()}
        return self.module.load_state_dict(stripped, strict=strict)

    def __repr__(self) -> str:
        return (f"DistributedDataParallel(\n  (module): {self.module!r}\n)  # "
                f"{len(self._buckets)} bucket(s), world size {self.process_group.world_size}")


def _contiguous(t: Tensor) -> np.ndarray:
    arr = t.data
    if not (arr.flags.c_contiguous and arr.flags.writeable):
        arr = np.ascontiguousarray(arr)
        t.data = arr
    return arr


def _bcast(g: ProcessGroup, arr: np.ndarray) -> None:
    _run(g, "DistributedDataParallel (broadcast from rank 0)", lambda: g.comm.Bcast(arr, root=0),
         lambda: g.comm.Ibcast(arr, root=0), lambda: None, False, ())


def _remove(handles: list) -> None:
    for h in handles:
        h.remove()
