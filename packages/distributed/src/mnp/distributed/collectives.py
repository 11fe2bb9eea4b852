"""Collectives with PyTorch's names and arguments, on mnp tensors (or numpy arrays).

Contiguous tensors are reduced in place, MPI working on their own memory (no copies);
others go through one contiguous copy. ``async_op=True`` returns a `Work` handle, as in
PyTorch.

Cross-rank checks, as PyTorch's ``TORCH_DISTRIBUTED_DEBUG=DETAIL``: with
``MNP_DISTRIBUTED_CHECKS=1`` when the group starts (or ``group.check_collectives = True``),
the ranks compare the shape and dtype they pass before each call (one tiny all-reduce), so a
mismatch is a `CollectiveMismatchError` naming every rank's tensor. Off by default, as in
PyTorch: the comparison is one more round trip per call (about 5% of a 1 MB all-reduce on two
ranks of one machine), and without it a mismatch is MPI's error, a hang or a wrong sum.
Arguments each rank can check alone (types, ranks, ops) are always checked.
"""
from __future__ import annotations

import enum
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from mnp.core import Tensor

from . import _mpi
from .errors import CollectiveMismatchError, DistributedError, DistributedTimeoutError
from .process_group import ProcessGroup, _group, seconds


class ReduceOp(str, enum.Enum):
    """How `all_reduce`, `reduce` and `reduce_scatter` combine values."""
    SUM = "SUM"
    AVG = "AVG"
    MAX = "MAX"
    MIN = "MIN"
    PRODUCT = "PRODUCT"

    def __repr__(self) -> str:
        return f"ReduceOp.{self.name}"


_OPS: dict = {}


def _mpi_op(op: ReduceOp, dtype: np.dtype) -> Any:
    MPI = _mpi.load()
    if dtype.kind == "b":        # summed or maxed flags: or; multiplied or minimised: and
        return MPI.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.MIN
    if not _OPS:
        _OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.PRODUCT: MPI.PROD})
    return _OPS[op]


def _as_op(op: Any, where: str) -> ReduceOp:
    try:
        return op if isinstance(op, ReduceOp) else ReduceOp(str(op).upper())
    except ValueError:
        raise DistributedError(f"{where}: unknown op {op!r}; use ReduceOp.SUM, AVG, MAX, MIN "
                               f"or PRODUCT") from None


# -- buffers ----------------------------------------------------------------------------------
def _array(t: Any, where: str) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.data
    if isinstance(t, np.ndarray):
        return t
    raise DistributedError(f"{where}: expected an mnp Tensor or numpy array, got {type(t).__name__}")


class _Buffer:
    """The memory MPI works on for one array: the array itself when it is contiguous and
    writable (and of a type MPI reduces), else a contiguous copy written back at the end."""

    def __init__(self, arr: np.ndarray, reducing: bool = False):
        self.arr = arr
        work = arr
        if reducing and arr.dtype == np.float16:        # MPI has no half-precision sum
            work = arr.astype(np.float32)
        elif not (arr.flags.c_contiguous and arr.flags.writeable):
            work = np.ascontiguousarray(arr)
        if work.dtype == np.bool_:
            work = work.view(np.uint8)
        self.work = work

    @property
    def copied(self) -> bool:
        return self.work is not self.arr and self.work.base is not self.arr

    def finish(self) -> None:
        if self.copied:
            np.copyto(self.arr, self.work.view(self.arr.dtype) if self.arr.dtype == np.bool_
                      else self.work, casting="unsafe")


# -- cross-rank checks ------------------------------------------------------------------------
_MAXDIM = 8


def checks_from_environment() -> bool:
    """Whether a group starting now compares shapes and dtypes across ranks: when
    ``MNP_DISTRIBUTED_CHECKS`` is 1/true/yes/on, or (for scripts ported from PyTorch)
    ``TORCH_DISTRIBUTED_DEBUG`` is DETAIL; ``MNP_DISTRIBUTED_CHECKS=0`` wins over the latter."""
    value = os.environ.get("MNP_DISTRIBUTED_CHECKS", "").strip().lower()
    if value:
        return value in ("1", "true", "yes", "on")
    return os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").strip().upper() == "DETAIL"


def _describe(arr: np.ndarray) -> np.ndarray:
    d = np.full(2 + _MAXDIM, -1, np.int64)
    d[0], d[1] = arr.ndim, arr.dtype.num
    d[2:2 + min(arr.ndim, _MAXDIM)] = arr.shape[:_MAXDIM]
    return d


def check_same(group: ProcessGroup, arr: np.ndarray, where: str) -> None:
    """Raise `CollectiveMismatchError` on every rank unless all pass the same shape and dtype.

    One all-reduce (max) of ``(h, -h)`` for a hash ``h`` of shape and dtype: the ranks agree
    when the maximum of ``h`` equals the minimum. Only on a mismatch are the full
    descriptions gathered, to name every rank's tensor."""
    if group.world_size == 1 or not group.check_collectives:
        return
    MPI = _mpi.load()
    h = hash((arr.shape, arr.dtype.num)) & 0x3FFFFFFFFFFFFFFF
    both = group._signature
    both[0] = h
    both[1] = -h
    if group.timeout is None:
        group.comm.Allreduce(MPI.IN_PLACE, both, MPI.MAX)
    else:
        wait_request(group, group.comm.Iallreduce(MPI.IN_PLACE, both, MPI.MAX), where)
    hi, neg_lo = both.tolist()
    if hi == -neg_lo:
        return
    mine = _describe(arr)
    every = np.empty((group.world_size, len(mine)), np.int64)
    _run(group, where, lambda: group.comm.Allgather(mine, every),
         lambda: group.comm.Iallgather(mine, every), _nothing, False, ())
    parts = []
    for r, d in enumerate(every):
        shape = tuple(int(s) for s in d[2:2 + int(d[0])])
        parts.append(f"rank {r}: shape {shape} {_dtype_of(int(d[1]))}")
    raise CollectiveMismatchError(f"{where}: the ranks passed tensors of different shapes or "
                                  f"dtypes (every rank must pass the same): " + "; ".join(parts))


def _nothing() -> None:
    return None


def _dtype_of(num: int) -> str:
    for name in ("bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32",
                 "float64", "uint16", "uint32", "uint64", "complex64", "complex128"):
        if np.dtype(name).num == num:
            return name
    return f"dtype#{num}"


# -- waiting ----------------------------------------------------------------------------------
def wait_request(group: ProcessGroup, req: Any, where: str, timeout: float | None = None) -> None:
    """Wait for one MPI request, giving up after the group's timeout."""
    wait_requests(group, [req], where, timeout)


def wait_requests(group: ProcessGroup, reqs: list, where: str,
                  timeout: float | None = None) -> None:
    limit = group.timeout if timeout is None else timeout
    MPI = _mpi.load()
    if limit is None:
        MPI.Request.Waitall(reqs)
        return
    start = time.monotonic()
    pause = 1e-5
    while not MPI.Request.Testall(reqs):
        waited = time.monotonic() - start
        if waited > limit:
            raise DistributedTimeoutError(
                f"{where}: rank {group.rank} of {group.world_size} waited {waited:.1f} s (the "
                f"timeout) and the collective has not completed: another rank is late, stuck "
                f"or calling a different collective")
        time.sleep(pause)
        pause = min(pause * 2, 1e-3)


class Work:
    """The handle of an ``async_op=True`` collective: ``wait()`` blocks until it is done (and
    writes results into the tensors), ``is_completed()`` polls, ``result()`` gives the outputs."""

    def __init__(self, group: ProcessGroup, reqs: list, where: str,
                 finish: Callable[[], None] | None = None, outputs: Sequence[Any] = ()):
        self.group, self._reqs, self.where = group, reqs, where
        self._finish, self._outputs = finish, list(outputs)
        self._done = False
        self._exc: BaseException | None = None

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def is_completed(self) -> bool:
        if not self._done and _mpi.load().Request.Testall(self._reqs):
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            try:
                wait_requests(self.group, self._reqs, self.where, seconds(timeout, "Work.wait"))
            except DistributedError as exc:
                self._exc = exc
                raise
            self._complete()
        return True

    def is_success(self) -> bool:
        return self._done and self._exc is None

    def exception(self) -> BaseException | None:
        return self._exc

    def result(self) -> list[Any]:
        self.wait()
        return list(self._outputs)

    def __repr__(self) -> str:
        return f"Work({self.where}, completed={self._done})"


def _run(group: ProcessGroup, where: str, blocking: Callable[[], None],
         nonblocking: Callable[[], Any], finish: Callable[[], None], async_op: bool,
         outputs: Sequence[Any]) -> Work | None:
    """Run a collective: blocking MPI when it may wait forever and the caller waits; else the
    non-blocking form, waited on here (with the timeout) or handed back as a `Work`."""
    if not async_op and group.timeout is None:
        blocking()
        finish()
        return None
    work = Work(group, [nonblocking()], where, finish, outputs)
    if async_op:
        return work
    work.wait()
    return None


# -- numpy-level forms (shared with mnp.core.parallel's interface) ----------------------------
def reduce_array(group: ProcessGroup, arr: np.ndarray, op: ReduceOp) -> np.ndarray:
    _all_reduce(group, arr, op, False, "all_reduce", [arr])
    return arr


def broadcast_array(group: ProcessGroup, arr: np.ndarray, src: int = 0) -> np.ndarray:
    _broadcast(group, arr, src, False, "broadcast", [arr])
    return arr


def gather_rows(group: ProcessGroup, arr: np.ndarray) -> np.ndarray:
    """Every rank's rows concatenated in rank order (first dimensions may differ)."""
    if group.world_size == 1:
        return arr.copy()
    check_same(group, arr[:0].reshape((0,) + arr.shape[1:]) if arr.ndim else arr, "all_gather")
    sizes = np.empty((group.world_size, 2), np.int64)
    mine = np.array([arr.size, arr.shape[0] if arr.ndim else 1], np.int64)
    _run(group, "all_gather", lambda: group.comm.Allgather(mine, sizes),
         lambda: group.comm.Iallgather(mine, sizes), lambda: None, False, ())
    counts = np.ascontiguousarray(sizes[:, 0])
    src = arr.view(np.uint8) if arr.dtype == np.bool_ else arr
    out = np.empty((int(sizes[:, 1].sum()),) + arr.shape[1:], arr.dtype)
    dst = out.view(np.uint8) if out.dtype == np.bool_ else out
    displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
    _run(group, "all_gather", lambda: group.comm.Allgatherv(src, [dst, (counts, displs)]),
         lambda: group.comm.Iallgatherv(src, [dst, (counts, displs)]), lambda: None, False, ())
    return out


# -- the collectives --------------------------------------------------------------------------
def _all_reduce(group, arr, op, async_op, where, outputs):
    if op is ReduceOp.AVG and arr.dtype.kind not in "fc":
        raise DistributedError(f"{where}: ReduceOp.AVG needs a floating-point tensor, got "
                               f"{arr.dtype.name}; use SUM and divide")
    check_same(group, arr, where)
    buf = _Buffer(arr, reducing=True)
    MPI = _mpi.load()
    mop = _mpi_op(op, arr.dtype)

    def finish():
        if op is ReduceOp.AVG:
            np.divide(buf.work, group.world_size, out=buf.work)
        buf.finish()
    return _run(group, where, lambda: group.comm.Allreduce(MPI.IN_PLACE, buf.work, mop),
                lambda: group.comm.Iallreduce(MPI.IN_PLACE, buf.work, mop), finish,
                async_op, outputs)


_DIRECT = frozenset(np.dtype(t) for t in ("float32", "float64", "int32", "int64"))


def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` across ranks in place: afterwards every rank holds the result."""
    g = _group(group, "all_reduce")
    arr = tensor.data if isinstance(tensor, Tensor) else _array(tensor, "all_reduce")
    if (not async_op and g.timeout is None and arr.dtype in _DIRECT and arr.flags.c_contiguous
            and arr.flags.writeable and (op is ReduceOp.SUM or op is ReduceOp.MAX
                                         or op is ReduceOp.MIN or op is ReduceOp.PRODUCT)):
        check_same(g, arr, "all_reduce")          # the common case: MPI on the tensor's memory
        g.comm.Allreduce(_mpi.load().IN_PLACE, arr, _mpi_op(op, arr.dtype))
        return None
    return _all_reduce(g, arr, _as_op(op, "all_reduce"), async_op, "all_reduce", [tensor])


def _root(group: ProcessGroup, root: int, name: str, where: str) -> int:
    if not isinstance(root, (int, np.integer)) or not 0 <= int(root) < group.world_size:
        raise DistributedError(f"{where}: {name}={root!r} is not a rank of this group "
                               f"(0 … {group.world_size - 1})")
    return int(root)


def _broadcast(group, arr, src, async_op, where, outputs):
    src = _root(group, src, "src", where)
    check_same(group, arr, where)
    buf = _Buffer(arr)
    return _run(group, where, lambda: group.comm.Bcast(buf.work, root=src),
                lambda: group.comm.Ibcast(buf.work, root=src), buf.finish, async_op, outputs)


def broadcast(tensor: Any, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False) -> Work | None:
    """Overwrite ``tensor`` on every rank with rank ``src``'s, in place."""
    g = _group(group, "broadcast")
    return _broadcast(g, _array(tensor, "broadcast"), src, async_op, "broadcast", [tensor])


def reduce(tensor: Any, dst: int = 0, op: ReduceOp = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` across ranks into rank ``dst``'s ``tensor`` (others keep theirs)."""
    g = _group(group, "reduce")
    arr, op = _array(tensor, "reduce"), _as_op(op, "reduce")
    dst = _root(g, dst, "dst", "reduce")
    if op is ReduceOp.AVG and arr.dtype.kind not in "fc":
        raise DistributedError(f"reduce: ReduceOp.AVG needs a floating-point tensor, got {arr.dtype.name}")
    check_same(g, arr, "reduce")
    buf = _Buffer(arr, reducing=True)
    MPI, mop = _mpi.load(), _mpi_op(op, arr.dtype)
    root = g.rank == dst
    send = MPI.IN_PLACE if root else buf.work
    recv = buf.work if root else None

    def finish():
        if root:
            if op is ReduceOp.AVG:
                np.divide(buf.work, g.world_size, out=buf.work)
            buf.finish()
    return _run(g, "reduce", lambda: g.comm.Reduce(send, recv, mop, root=dst),
                lambda: g.comm.Ireduce(send, recv, mop, root=dst), finish, async_op, [tensor])


def _same_shapes(items: Sequence[Any], arr: np.ndarray, n: int, name: str, where: str) -> list:
    if items is None or len(items) != n:
        got = "None" if items is None else f"{len(items)} tensors"
        raise DistributedError(f"{where}: {name} must hold one tensor per rank ({n}), got {got}")
    arrays = [_array(t, where) for t in items]
    for i, a in enumerate(arrays):
        if a.shape != arr.shape or a.dtype != arr.dtype:
            raise CollectiveMismatchError(f"{where}: {name}[{i}] has shape {a.shape} "
                                          f"{a.dtype.name}, but the tensor has shape "
                                          f"{arr.shape} {arr.dtype.name}")
    return arrays


def all_gather(tensor_list: list, tensor: Any, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank."""
    g = _group(group, "all_gather")
    arr = _array(tensor, "all_gather")
    outs = _same_shapes(tensor_list, arr, g.world_size, "tensor_list", "all_gather")
    check_same(g, arr, "all_gather")
    send = _Buffer(arr).work
    recv = np.empty((g.world_size,) + arr.shape, send.dtype)

    def finish():
        for r, out in enumerate(outs):
            np.copyto(out, recv[r].view(out.dtype) if out.dtype == np.bool_ else recv[r])
    return _run(g, "all_gather", lambda: g.comm.Allgather(send, recv),
                lambda: g.comm.Iallgather(send, recv), finish, async_op, tensor_list)


def all_gather_into_tensor(output_tensor: Any, input_tensor: Any,
                           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Rank ``r``'s ``input_tensor`` into block ``r`` of ``output_tensor`` (shape
    ``(world * n, ...)`` or ``(world, n, ...)``), written in place when it is contiguous."""
    g = _group(group, "all_gather_into_tensor")
    arr, out = _array(input_tensor, "all_gather_into_tensor"), _array(output_tensor, "all_gather_into_tensor")
    if out.size != arr.size * g.world_size or out.dtype != arr.dtype:
        raise CollectiveMismatchError(f"all_gather_into_tensor: output has shape {out.shape} "
                                      f"{out.dtype.name}; it must hold {g.world_size} × the input "
                                      f"{arr.shape} {arr.dtype.name}")
    check_same(g, arr, "all_gather_into_tensor")
    send, recv = _Buffer(arr).work, _Buffer(out)
    return _run(g, "all_gather_into_tensor", lambda: g.comm.Allgather(send, recv.work),
                lambda: g.comm.Iallgather(send, recv.work), recv.finish, async_op, [output_tensor])


def gather(tensor: Any, gather_list: list | None = None, dst: int = 0,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (others pass None)."""
    g = _group(group, "gather")
    arr = _array(tensor, "gather")
    dst = _root(g, dst, "dst", "gather")
    root = g.rank == dst
    outs = _same_shapes(gather_list, arr, g.world_size, "gather_list", "gather") if root else []
    check_same(g, arr, "gather")
    send = _Buffer(arr).work
    recv = np.empty((g.world_size,) + arr.shape, send.dtype) if root else None

    def finish():
        for r, out in enumerate(outs):
            np.copyto(out, recv[r].view(out.dtype) if out.dtype == np.bool_ else recv[r])
    return _run(g, "gather", lambda: g.comm.Gather(send, recv, root=dst),
                lambda: g.comm.Igather(send, recv, root=dst), finish, async_op, gather_list or [])


def scatter(tensor: Any, scatter_list: list | None = None, src: int = 0,
            group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Rank ``src``'s ``scatter_list[r]`` into rank ``r``'s ``tensor`` (others pass None)."""
    g = _group(group, "scatter")
    arr = _array(tensor, "scatter")
    src = _root(g, src, "src", "scatter")
    root = g.rank == src
    check_same(g, arr, "scatter")
    buf = _Buffer(arr)
    send = None
    if root:
        ins = _same_shapes(scatter_list, arr, g.world_size, "scatter_list", "scatter")
        send = np.stack(ins)
        send = send.view(np.uint8) if send.dtype == np.bool_ else send
    return _run(g, "scatter", lambda: g.comm.Scatter(send, buf.work, root=src),
                lambda: g.comm.Iscatter(send, buf.work, root=src), buf.finish, async_op, [tensor])


def _reduce_scatter(g, out_arr, send, op, async_op, where, outputs):
    check_same(g, out_arr, where)
    buf = _Buffer(out_arr, reducing=True)
    if send.dtype != buf.work.dtype:
        send = send.astype(buf.work.dtype)
    mop = _mpi_op(op, out_arr.dtype)

    def finish():
        if op is ReduceOp.AVG:
            np.divide(buf.work, g.world_size, out=buf.work)
        buf.finish()
    return _run(g, where, lambda: g.comm.Reduce_scatter_block(send, buf.work, mop),
                lambda: g.comm.Ireduce_scatter_block(send, buf.work, mop), finish, async_op, outputs)


def reduce_scatter(output: Any, input_list: list, op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``output`` on rank ``r`` = the reduction over ranks of their ``input_list[r]``."""
    g = _group(group, "reduce_scatter")
    out, op = _array(output, "reduce_scatter"), _as_op(op, "reduce_scatter")
    if op is ReduceOp.AVG and out.dtype.kind not in "fc":
        raise DistributedError(f"reduce_scatter: ReduceOp.AVG needs a floating-point tensor, got {out.dtype.name}")
    ins = _same_shapes(input_list, out, g.world_size, "input_list", "reduce_scatter")
    send = np.stack(ins)
    send = send.view(np.uint8) if send.dtype == np.bool_ else send
    return _reduce_scatter(g, out, send, op, async_op, "reduce_scatter", [output])


def reduce_scatter_tensor(output: Any, input: Any, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Block ``r`` of ``input`` (``world`` equal blocks along the first axis), reduced over
    ranks, into rank ``r``'s ``output``."""
    g = _group(group, "reduce_scatter_tensor")
    out, inp = _array(output, "reduce_scatter_tensor"), _array(input, "reduce_scatter_tensor")
    op = _as_op(op, "reduce_scatter_tensor")
    if inp.size != out.size * g.world_size or inp.dtype != out.dtype:
        raise CollectiveMismatchError(f"reduce_scatter_tensor: input has shape {inp.shape} "
                                      f"{inp.dtype.name}; it must hold {g.world_size} × the "
                                      f"output {out.shape} {out.dtype.name}")
    if op is ReduceOp.AVG and out.dtype.kind not in "fc":
        raise DistributedError(f"reduce_scatter_tensor: ReduceOp.AVG needs a floating-point tensor, got {out.dtype.name}")
    send = np.ascontiguousarray(inp)
    send = send.view(np.uint8) if send.dtype == np.bool_ else send
    return _reduce_scatter(g, out, send, op, async_op, "reduce_scatter_tensor", [output])


def barrier(group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has called `barrier`."""
    g = _group(group, "barrier")
    return _run(g, "barrier", g.comm.Barrier, g.comm.Ibarrier, lambda: None, async_op, [])


__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "reduce", "all_gather",
           "all_gather_into_tensor", "gather", "scatter", "reduce_scatter",
           "reduce_scatter_tensor", "barrier"]
