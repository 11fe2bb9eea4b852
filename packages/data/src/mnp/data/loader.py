"""`DataLoader`: batches of a dataset as mnp tensors, optionally shuffled per epoch.

>>> import numpy as np
>>> from mnp.data import DataLoader, TensorDataset
>>> X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)
>>> len(loader), [tuple(xb.shape) for xb, yb in loader]
(3, [(4, 2), (4, 2), (2, 2)])
"""
from __future__ import annotations

import collections.abc as cabc
from typing import Any, Callable, Iterator, Sequence

import numpy as np

import mnp.core as mnp
from mnp.core import ShapeError

from ._arrays import check_positive_int, check_seed
from .dataset import Subset, TensorDataset
from .errors import DataError


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch.

    Arrays and tensors are stacked along a new first axis into a tensor; Python numbers
    become a 1-d tensor (floats float32, ints int64, bools bool); tuples, lists and dicts
    are batched field by field, keeping their type; strings stay a list.
    """
    if not samples:
        raise DataError("default_collate: no samples to batch")
    first = samples[0]
    if isinstance(first, (mnp.Tensor, np.ndarray)):
        arrays = [s.data if isinstance(s, mnp.Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ShapeError("default_collate: samples have different shapes "
                             + ", ".join(str(s) for s in sorted(shapes, key=str))
                             + "; pass a collate_fn to batch them")
        return mnp.from_numpy(np.stack(arrays))
    if isinstance(first, np.generic):
        return mnp.from_numpy(np.asarray(samples))
    if isinstance(first, (bool, int, float)):
        return mnp.tensor(list(samples))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, cabc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(s) for s in samples}) > 1:
            raise DataError("default_collate: tuple samples of different lengths "
                            f"{sorted({len(s) for s in samples})}")
        fields = [default_collate(list(f)) for f in zip(*samples)]
        if isinstance(first, list):
            return fields
        if hasattr(first, "_fields"):          # a namedtuple
            return type(first)(*fields)
        return tuple(fields)
    raise DataError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "pass a collate_fn")


def _array_source(dataset: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray | None, bool] | None:
    """``(arrays, indices, as_tuple)`` when ``dataset`` is a plain TensorDataset, array or
    tensor, possibly inside Subsets; None when samples must be built one by one."""
    indices = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        indices = dataset.indices if indices is None else dataset.indices[indices]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, indices, True
    if isinstance(dataset, (np.ndarray, mnp.Tensor)) and dataset.ndim > 0:
        return (dataset.data if isinstance(dataset, mnp.Tensor) else dataset,), indices, False
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``; each iteration is one epoch.

    Batches are tensors, or tuples of them for tuple samples (a `TensorDataset` always
    gives tuples). ``shuffle=True`` draws a new permutation every epoch: with ``seed`` the
    sequence of epochs is reproducible (epoch ``e`` uses ``(seed, e)``); without one, mnp's
    global generator is used (`mnp.manual_seed`). ``drop_last`` drops a final partial
    batch. ``collate_fn(list_of_samples)`` replaces `default_collate`. ``len(loader)`` is
    the number of batches. A `TensorDataset`, a plain array or tensor (batches are then
    bare tensors), or a `Subset` of those is batched by indexing the arrays with each
    batch's indices, without building samples one by one.

    ``sampler``: an iterable of dataset indices (with ``len``) that sets the order and
    which samples are used, such as mnp.distributed's ``DistributedSampler``; it replaces
    ``shuffle``. `set_epoch` is passed on to a sampler that has one.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 collate_fn: Callable[[list], Any] | None = None, sampler: Any = None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise DataError(f"DataLoader: dataset must define __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_positive_int("DataLoader", "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = check_seed("DataLoader", seed)
        self.collate_fn = collate_fn
        if sampler is not None:
            if self.shuffle:
                raise DataError("DataLoader: sampler option is mutually exclusive with "
                                "shuffle (the sampler sets the order)")
            if not hasattr(sampler, "__iter__") or not hasattr(sampler, "__len__"):
                raise DataError(f"DataLoader: sampler must be an iterable of indices with a "
                                f"length, got {type(sampler).__name__}")
        self.sampler = sampler
        #: epochs started so far; the next iteration shuffles with ``(seed, epoch)``
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (to resume a seeded run exactly)."""
        self.epoch = int(epoch)
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(self.epoch)

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        b = self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _order(self, n: int) -> np.ndarray | None:
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.sampler is not None:
            order = np.fromiter((int(i) for i in self.sampler), np.int64)
            bad = order[(order < 0) | (order >= n)]
            if bad.size:
                raise DataError(f"DataLoader: the sampler gave index {int(bad[0])} for a "
                                f"dataset of {n} samples")
            return order
        if not self.shuffle:
            return None
        rng = mnp.generator() if self.seed is None else np.random.default_rng([self.seed, epoch])
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._order(n)
        if order is not None:
            n = len(order)
        source = _array_source(self.dataset) if self.collate_fn is None else None
        stop = n - n % self.batch_size if self.drop_last else n
        if source is not None:
            arrays, base, as_tuple = source
            if base is not None:
                order = base if order is None else base[order]
            batches = self._array_batches(arrays, order, stop)
            return batches if as_tuple else (batch[0] for batch in batches)
        return self._sample_batches(order, stop)

    def _array_batches(self, arrays: tuple[np.ndarray, ...], order: np.ndarray | None,
                       stop: int) -> Iterator[tuple[mnp.Tensor, ...]]:
        b = self.batch_size
        for start in range(0, stop, b):
            if order is None:   # a contiguous block: slice, then copy so batches never alias
                yield tuple(mnp.from_numpy(a[start:start + b].copy()) for a in arrays)
            else:
                idx = order[start:start + b]
                yield tuple(mnp.from_numpy(a[idx]) for a in arrays)

    def _sample_batches(self, order: np.ndarray | None, stop: int) -> Iterator[Any]:
        b, ds = self.batch_size, self.dataset
        collate = self.collate_fn or default_collate
        for start in range(0, stop, b):
            ids = range(start, min(start + b, stop)) if order is None else order[start:start + b]
            yield collate([ds[int(i)] for i in ids])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")


__all__ = ["DataLoader", "default_collate"]
