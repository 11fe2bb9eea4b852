"""The main-process side of a `DataLoader` with ``num_workers > 0``: `WorkerPool` starts and
stops the worker processes, `WorkerIterator` hands them batches and yields the results in
order.

Batches go to the workers round-robin (batch ``k`` to worker ``k % num_workers``), at most
``prefetch_factor * num_workers`` of them waiting at any time, as in PyTorch. Workers are
daemonic processes: they are stopped when the iterator is exhausted, deleted or left by
``break`` (unless the pool is persistent), when the loader goes away, and at interpreter exit.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.util  # noqa: F401  (its exit handler is registered before ours, so ours runs first)
import pickle
import queue
import signal
import sys
import time
import weakref
from typing import Any, Callable, Iterator

from .errors import DataError, WorkerError
from .worker import worker_loop

#: how often (seconds) the main process checks that its workers are alive while it waits
STATUS_CHECK_INTERVAL = 0.1
#: how long (seconds) a stopping worker may take to finish before it is terminated
JOIN_TIMEOUT = 2.0

_live_pools: "weakref.WeakSet[WorkerPool]" = weakref.WeakSet()


def default_context() -> Any:
    """The start method workers use by default: ``fork`` where the platform has it, except
    on macOS (where Python itself defaults to ``spawn``, fork being unsafe with its system
    libraries); ``spawn`` elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin"
                                       else "spawn")


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class WorkerPool:
    """``num_workers`` processes each running `worker_loop` with ``fetcher``; worker ``i``
    is seeded with ``base_seed + i`` and then runs ``worker_init_fn(i)``."""

    def __init__(self, fetcher: Callable[[Any], Any], num_workers: int, base_seed: int,
                 worker_init_fn: Callable[[int], None] | None, context: Any):
        self.num_workers = num_workers
        self.base_seed = base_seed
        self.result_queue = context.Queue()
        self.index_queues: list = []
        self.workers: list = []
        self.closed = False
        #: the tag of the newest epoch; results carrying an older one are dropped
        self.epoch_tag = 0
        _live_pools.add(self)
        try:
            for i in range(num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                self.index_queues.append(index_queue)
                process = context.Process(
                    target=worker_loop, name=f"mnp-DataLoader-worker-{i}", daemon=True,
                    args=(i, num_workers, base_seed + i, fetcher, worker_init_fn, index_queue,
                          self.result_queue))
                try:
                    process.start()
                except (pickle.PicklingError, AttributeError, TypeError) as exc:
                    raise DataError(
                        f"DataLoader: the {context.get_start_method()!r} start method sends the "
                        f"dataset, collate_fn and worker_init_fn to the workers by pickling, "
                        f"which failed ({exc}); define them at module level, or use "
                        f"multiprocessing_context='fork' where available") from exc
                self.workers.append(process)
        except BaseException:
            self.shutdown()
            raise

    def dead_workers(self) -> list[int]:
        """The ids of workers that are no longer running."""
        return [i for i, p in enumerate(self.workers) if not p.is_alive()]

    def alive(self) -> bool:
        return not self.closed and not self.dead_workers()

    def shutdown(self, wait: bool = True) -> None:
        """Stop every worker and reap them: ask them to stop and give them ``JOIN_TIMEOUT``
        seconds to finish what they are doing (``wait``), then terminate what is left."""
        if self.closed:
            return
        self.closed = True
        _live_pools.discard(self)
        for q in self.index_queues:
            try:
                q.put(None)
            except Exception:
                pass
        deadline = time.monotonic() + (JOIN_TIMEOUT if wait else 0.0)
        for p in self.workers:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join()
        for q in (*self.index_queues, self.result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        try:
            self.shutdown()
        except Exception:
            pass


@atexit.register
def _shutdown_all() -> None:
    for pool in list(_live_pools):
        pool.shutdown()


class WorkerIterator:
    """One epoch over ``batches`` (an iterator of sample positions per batch) fetched by
    ``pool``'s workers, yielded in the order of ``batches``."""

    def __init__(self, pool: WorkerPool, batches: Iterator[Any], prefetch_factor: int,
                 timeout: float, owns_pool: bool):
        pool.epoch_tag += 1
        self.pool, self.tag = pool, pool.epoch_tag
        self.batches = batches
        self.timeout = timeout
        self.owns_pool = owns_pool
        self.next_worker = itertools.cycle(range(pool.num_workers))
        self.sent = self.received = 0
        self.pending: dict[int, tuple[int, Any]] = {}    # batch -> (worker, positions)
        self.arrived: dict[int, tuple[bool, Any]] = {}   # batch -> (ok, batch or failure)
        self.exhausted = False
        try:
            for _ in range(prefetch_factor * pool.num_workers):
                self._send()
        except BaseException:
            self._stop()
            raise

    def __iter__(self) -> "WorkerIterator":
        return self

    def _send(self) -> None:
        if self.exhausted:
            return
        try:
            ids = next(self.batches)
        except StopIteration:
            self.exhausted = True
            return
        worker = next(self.next_worker)
        self.pool.index_queues[worker].put((self.tag, self.sent, ids))
        self.pending[self.sent] = (worker, ids)
        self.sent += 1

    def __next__(self) -> Any:
        if self.pool is None:
            raise StopIteration
        if self.pool.epoch_tag != self.tag:
            raise WorkerError("DataLoader: this iterator's persistent workers have moved on to "
                              "a newer epoch (iter(loader) was called again)")
        while self.received not in self.arrived:
            if self.received == self.sent:
                self._stop()
                raise StopIteration
            tag, k, _, ok, payload = self._receive()
            if tag == self.tag:
                self.arrived[k] = (ok, payload)
        k = self.received
        ok, payload = self.arrived.pop(k)
        worker, ids = self.pending.pop(k)
        self.received += 1
        self._send()
        if not ok:
            raise _worker_exception(payload, worker, k, ids)
        return payload

    def _receive(self) -> tuple:
        start = time.monotonic()
        while True:
            wait = STATUS_CHECK_INTERVAL
            if self.timeout > 0:
                wait = min(wait, max(0.0, start + self.timeout - time.monotonic()))
            try:
                return pickle.loads(self.pool.result_queue.get(timeout=wait))
            except queue.Empty:
                pass
            dead = self.pool.dead_workers()
            if dead:
                i = dead[0]
                waiting = sorted(k for k, (w, _) in self.pending.items() if w == i)
                self._fail(WorkerError(
                    f"DataLoader worker {i} (pid {self.pool.workers[i].pid}) "
                    f"{_exit_description(self.pool.workers[i].exitcode)} unexpectedly"
                    + (f" (batches {waiting} sent to it had not arrived)" if waiting else "")
                    + "; the loader's workers were shut down"))
            if self.timeout > 0 and time.monotonic() - start >= self.timeout:
                worker, _ = self.pending[self.received]
                self._fail(WorkerError(
                    f"DataLoader timed out after {self.timeout} s waiting for batch "
                    f"{self.received} from worker {worker} (timeout={self.timeout})"))

    def _fail(self, error: WorkerError) -> None:
        self.pool.shutdown(wait=False)   # the workers are dead or stuck
        self._stop()
        raise error

    def _stop(self) -> None:
        if self.pool is not None and self.owns_pool:
            self.pool.shutdown()
        self.pool = None

    def __del__(self) -> None:
        try:
            self._stop()
        except Exception:
            pass


def _short(ids: Any) -> str:
    ids = range(ids.start, ids.stop) if isinstance(ids, slice) else [int(i) for i in ids]
    shown = ", ".join(str(i) for i in list(ids[:8]))
    return f"[{shown}{', ...' if len(ids) > 8 else ''}]"


def _worker_exception(failure: dict, worker: int, k: int, ids: Any) -> Exception:
    """The worker's exception re-created in the main process: the same class when it can be
    found among the loaded modules (else `WorkerError`), its message naming the worker and
    the batch and holding the worker's traceback."""
    message = (f"Caught {failure['name']} in DataLoader worker process {worker} "
               f"{failure['where']} batch {k} (indices {_short(ids)}).\n"
               f"Original {failure['traceback']}")
    cls: Any = sys.modules.get(failure["module"])
    for part in failure["name"].split("."):
        cls = getattr(cls, part, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not KeyError:
        try:
            return cls(message)
        except Exception:
            pass
    return WorkerError(message)


__all__ = ["WorkerPool", "WorkerIterator", "default_context"]
