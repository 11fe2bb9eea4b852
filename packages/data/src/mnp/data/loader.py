"""`DataLoader`: batches of a dataset as mnp tensors, optionally shuffled per epoch, built
in the main process or in worker processes.

>>> import numpy as np
>>> from mnp.data import DataLoader, TensorDataset
>>> X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)
>>> len(loader), [tuple(xb.shape) for xb, yb in loader]
(3, [(4, 2), (4, 2), (2, 2)])
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Callable, Iterator

import numpy as np

import mnp.core as mnp

from ._arrays import check_positive_int, check_seed
from .collate import default_collate
from .errors import DataError
from .fetch import Fetcher
from .pool import WorkerIterator, WorkerPool, default_context


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``; each iteration is one epoch.

    The arguments are PyTorch's. Batches are tensors, or tuples of them for tuple samples
    (a `TensorDataset` always gives tuples). ``shuffle=True`` draws a new permutation every
    epoch: with ``seed`` the sequence of epochs is reproducible (epoch ``e`` uses ``(seed,
    e)``); with ``generator`` (an `mnp.Generator` or a ``numpy.random.Generator``) the permutations are drawn from
    it; without either, from mnp's global generator (`mnp.manual_seed`). ``drop_last`` drops
    a final partial batch. ``collate_fn(list_of_samples)`` replaces `default_collate`.
    ``len(loader)`` is the number of batches. A `TensorDataset`, a plain array or tensor
    (batches are then bare tensors), or a `Subset` of those is batched by indexing the
    arrays with each batch's indices, without building samples one by one.

    ``sampler``: an iterable of dataset indices (with ``len``) that sets the order and
    which samples are used, such as mnp.distributed's ``DistributedSampler``; it replaces
    ``shuffle``. ``batch_sampler``: an iterable of lists of indices, one list per batch
    (with ``len``); it replaces ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
    `set_epoch` is passed on to a sampler that has one.

    ``num_workers=N > 0`` fetches and collates the batches in N worker processes: batch
    ``k`` goes to worker ``k % N``, at most ``prefetch_factor * N`` batches (default
    ``prefetch_factor=2``) are requested ahead of the one being consumed, and the batches
    come out in the same order and with the same values as with ``num_workers=0``. Workers
    are started with ``multiprocessing_context`` (a start method name or a context):
    ``"fork"`` by default where the platform has it (Linux), ``"spawn"`` elsewhere; with
    ``"spawn"`` or ``"forkserver"`` the dataset, ``collate_fn`` and ``worker_init_fn`` must
    be picklable (defined at module level). Worker ``i`` seeds Python's ``random``, numpy's
    global generator and mnp's generator with ``base_seed + i`` and then runs
    ``worker_init_fn(i)``; `get_worker_info` tells code inside a worker which worker it is.
    ``base_seed`` is drawn anew for each set of workers: from ``(seed, epoch)`` with a
    ``seed``, else from ``generator`` or mnp's global generator (as PyTorch draws it from its
    default generator; so, unseeded, it moves that generator on). An exception in a worker
    is raised again in the main process, naming the worker and the batch, with the
    worker's traceback; a worker that dies raises `WorkerError`, and so does waiting more
    than ``timeout`` seconds for a batch (0 waits for ever). Workers stop when the epoch
    ends, when its iterator is deleted or left by ``break``, and at interpreter exit;
    ``persistent_workers=True`` keeps them (and their random state) from epoch to epoch
    until the loader is deleted. ``pin_memory`` is accepted for PyTorch compatibility and
    does nothing: mnp tensors live in ordinary CPU memory.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None,
                 generator: mnp.Generator | np.random.Generator | None = None,
                 *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 seed: int | None = None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise DataError(f"DataLoader: dataset must define __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = check_seed("DataLoader", seed)
        if generator is not None and not isinstance(generator, (mnp.Generator,
                                                                np.random.Generator)):
            raise DataError(f"DataLoader: generator must be an mnp.Generator or a "
                            f"numpy.random.Generator, got {type(generator).__name__}")
        if generator is not None and self.seed is not None:
            raise DataError("DataLoader: pass seed or generator, not both")
        self.generator = generator
        self.collate_fn = collate_fn
        if sampler is not None:
            if self.shuffle:
                raise DataError("DataLoader: sampler option is mutually exclusive with "
                                "shuffle (the sampler sets the order)")
            _check_sized_iterable("sampler", "an iterable of indices", sampler)
        self.sampler = sampler
        if batch_sampler is not None:
            if self.batch_size != 1 or self.shuffle or sampler is not None or self.drop_last:
                raise DataError("DataLoader: batch_sampler option is mutually exclusive with "
                                "batch_size, shuffle, sampler, and drop_last")
            _check_sized_iterable("batch_sampler", "an iterable of lists of indices", batch_sampler)
        self.batch_sampler = batch_sampler
        self._init_workers(num_workers, timeout, worker_init_fn, multiprocessing_context,
                           prefetch_factor, persistent_workers)
        self.pin_memory = bool(pin_memory)
        #: epochs started so far; the next iteration shuffles with ``(seed, epoch)``
        self.epoch = 0

    def _init_workers(self, num_workers: int, timeout: float, worker_init_fn: Any,
                      context: Any, prefetch_factor: int | None, persistent_workers: bool) -> None:
        self.num_workers = check_positive_int("DataLoader", "num_workers", num_workers, minimum=0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise DataError(f"DataLoader: timeout must be a number of seconds >= 0, got {timeout!r}")
        self.timeout = float(timeout)
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise DataError(f"DataLoader: worker_init_fn must be callable, got "
                            f"{type(worker_init_fn).__name__}")
        self.worker_init_fn = worker_init_fn
        if self.num_workers == 0 and prefetch_factor is not None:
            raise DataError("DataLoader: prefetch_factor option could only be specified with "
                            "num_workers > 0 (worker processes)")
        if self.num_workers == 0 and persistent_workers:
            raise DataError("DataLoader: persistent_workers option needs num_workers > 0")
        if prefetch_factor is None and self.num_workers > 0:
            prefetch_factor = 2
        if prefetch_factor is not None:
            prefetch_factor = check_positive_int("DataLoader", "prefetch_factor", prefetch_factor)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        if isinstance(context, str):
            try:
                context = multiprocessing.get_context(context)
            except ValueError:
                raise DataError(f"DataLoader: multiprocessing_context {context!r} is not a start "
                                f"method of this platform "
                                f"{multiprocessing.get_all_start_methods()}") from None
        elif context is not None and not (hasattr(context, "Process") and hasattr(context, "Queue")):
            raise DataError(f"DataLoader: multiprocessing_context must be a start method name or "
                            f"a multiprocessing context, got {type(context).__name__}")
        self.multiprocessing_context = context
        self._workers: WorkerPool | None = None

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (to resume a seeded run exactly)."""
        self.epoch = int(epoch)
        for sampler in (self.sampler, self.batch_sampler):
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(self.epoch)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        b = self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _rng(self, epoch: int, *stream: int) -> np.random.Generator:
        if self.seed is not None:
            return np.random.default_rng([self.seed, epoch, *stream])
        if isinstance(self.generator, mnp.Generator):
            return self.generator.numpy       # read now: manual_seed replaces it
        return self.generator if self.generator is not None else mnp.generator()

    def _order(self, n: int, epoch: int) -> np.ndarray | None:
        if self.sampler is not None:
            return _check_indices("sampler", np.fromiter((int(i) for i in self.sampler), np.int64), n)
        if not self.shuffle:
            return None
        return self._rng(epoch).permutation(n)

    def _index_batches(self) -> Iterator[slice | np.ndarray]:
        """The indices of each batch of the next epoch (the order is drawn now)."""
        n = len(self.dataset)
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.batch_sampler is not None:
            return (_check_indices("batch_sampler", np.fromiter((int(i) for i in ids), np.int64), n)
                    for ids in self.batch_sampler)
        order = self._order(n, epoch)
        if order is not None:
            n = len(order)
        b = self.batch_size
        stop = n - n % b if self.drop_last else n
        if order is None:
            return (slice(start, min(start + b, stop)) for start in range(0, stop, b))
        return (order[start:start + b] for start in range(0, stop, b))

    def __iter__(self) -> Iterator[Any]:
        epoch = self.epoch
        batches = self._index_batches()
        if self.num_workers == 0:
            return map(Fetcher(self.dataset, self.collate_fn), batches)
        pool = self._workers
        if pool is None or not pool.alive():
            base_seed = int(self._rng(epoch, 1).integers(0, 2 ** 62))
            pool = WorkerPool(Fetcher(self.dataset, self.collate_fn), self.num_workers, base_seed,
                              self.worker_init_fn, self.multiprocessing_context or default_context())
            self._workers = pool if self.persistent_workers else None
        return WorkerIterator(pool, batches, self.prefetch_factor, self.timeout,
                              owns_pool=not self.persistent_workers)

    def __repr__(self) -> str:
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}{workers})")


def _check_sized_iterable(name: str, what: str, value: Any) -> None:
    if not hasattr(value, "__iter__") or not hasattr(value, "__len__"):
        raise DataError(f"DataLoader: {name} must be {what} with a length, got "
                        f"{type(value).__name__}")


def _check_indices(name: str, order: np.ndarray, n: int) -> np.ndarray:
    bad = order[(order < 0) | (order >= n)]
    if bad.size:
        raise DataError(f"DataLoader: the {name} gave index {int(bad[0])} for a dataset of "
                        f"{n} samples")
    return order


__all__ = ["DataLoader", "default_collate"]
