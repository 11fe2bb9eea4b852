"""What runs inside a `DataLoader` worker process: `worker_loop`, and `get_worker_info`
for datasets and ``worker_init_fn`` to see which worker they are in.

Messages between the processes are pickled by multiprocessing's own pickler; mnp tensors
travel as their numpy array and ``requires_grad`` (never their autograd graph). This
pickling is for talking to worker processes only: nothing is ever unpickled from a file.
"""
from __future__ import annotations

import os
import queue
import random
import traceback
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable

import numpy as np

import mnp.core as mnp

#: how often (seconds) an idle worker checks that the main process is still there
PARENT_CHECK_INTERVAL = 0.5


class WorkerInfo:
    """Which worker this is: ``id`` (0-based), ``num_workers``, ``seed`` (the seed its
    ``random``, numpy and mnp generators got) and ``dataset`` (this process's copy)."""
    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The `WorkerInfo` of the current `DataLoader` worker process; None in the main process.

    >>> from mnp.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _info


def _rebuild_tensor(data: np.ndarray, requires_grad: bool) -> mnp.Tensor:
    t = mnp.from_numpy(data)
    return t.requires_grad_(True) if requires_grad else t


def _reduce_tensor(t: mnp.Tensor) -> tuple:
    return _rebuild_tensor, (t.data, bool(t.requires_grad))


ForkingPickler.register(mnp.Tensor, _reduce_tensor)


def seed_worker(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and mnp's generator with ``seed``
    (numpy's legacy seed takes it modulo 2**32)."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    mnp.manual_seed(seed)


def _failure(exc: BaseException, where: str) -> dict:
    """An exception as plain data: its class's module and name and the traceback text."""
    return {"module": type(exc).__module__, "name": type(exc).__qualname__, "where": where,
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}


def worker_loop(worker_id: int, num_workers: int, seed: int, fetcher: Callable[[Any], Any],
                init_fn: Callable[[int], None] | None, index_queue: Any, result_queue: Any) -> None:
    """Fetch batches until told to stop: each task ``(tag, k, ids)`` from ``index_queue`` is
    answered on ``result_queue`` with ``(tag, k, worker_id, ok, payload)`` pickled to bytes,
    the payload being the batch or, if fetching raised, a description of the exception.
    ``None`` stops the worker; so does the main process going away."""
    global _info
    parent = os.getppid()
    _info = WorkerInfo(worker_id, num_workers, seed, getattr(fetcher, "dataset", None))
    seed_worker(seed)
    mnp.set_num_threads(1)    # one compute thread per worker, as PyTorch's; init_fn may change it
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as exc:
        init_error = _failure(exc, "in worker_init_fn, failing")
    try:
        while True:
            try:
                task = index_queue.get(timeout=PARENT_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    break
                continue
            if task is None:
                break
            tag, k, ids = task
            if init_error is not None:
                message = (tag, k, worker_id, False, init_error)
            else:
                try:
                    message = (tag, k, worker_id, True, fetcher(ids))
                except Exception as exc:
                    message = (tag, k, worker_id, False, _failure(exc, "while fetching"))
            try:
                data = bytes(ForkingPickler.dumps(message))
            except Exception as exc:
                data = bytes(ForkingPickler.dumps((tag, k, worker_id, False, _failure(
                    exc, "while sending the batch to the main process"))))
            result_queue.put(data)
    except KeyboardInterrupt:   # the main process gets it too and shuts the workers down
        pass
    result_queue.cancel_join_thread()   # never block exiting on a main process that stopped reading


__all__ = ["WorkerInfo", "get_worker_info", "worker_loop", "seed_worker"]
