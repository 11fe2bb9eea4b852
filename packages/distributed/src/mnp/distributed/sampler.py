"""`DistributedSampler`: each rank's share of a dataset's indices, as PyTorch's.

>>> from mnp.distributed import DistributedSampler
>>> [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
[[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .errors import DistributedError


def num_samples(n: int, num_replicas: int, drop_last: bool) -> int:
    """How many indices each rank gets from ``n``."""
    if drop_last and n % num_replicas:
        return math.ceil((n - num_replicas) / num_replicas)
    return math.ceil(n / num_replicas)


def shard_order(order: np.ndarray, num_replicas: int, rank: int, drop_last: bool = False) -> np.ndarray:
    """Rank ``rank``'s share of ``order`` (a dataset's indices in epoch order): padded by
    repeating its start to a multiple of ``num_replicas`` (or cut, with ``drop_last``), then
    every ``num_replicas``-th index from ``rank``."""
    order = np.asarray(order, np.int64)
    n = len(order)
    total = num_samples(n, num_replicas, drop_last) * num_replicas
    if total > n:
        order = np.concatenate([order, np.resize(order, total - n)]) if n else order
    else:
        order = order[:total]
    return order[rank:total:num_replicas]


def shard_indices(n: int, num_replicas: int, rank: int, shuffle: bool, seed: int, epoch: int,
                  drop_last: bool) -> np.ndarray:
    """Rank ``rank``'s indices of ``range(n)`` for ``epoch`` (shuffled with ``seed + epoch``)."""
    order = np.random.default_rng(seed + epoch).permutation(n) if shuffle else np.arange(n)
    return shard_order(order, num_replicas, rank, drop_last)


class DistributedSampler:
    """Iterate over this rank's indices of ``dataset`` (anything with ``len``).

    Ranks get disjoint shares that together cover the dataset; when its length does not
    divide evenly, the order is padded with its first indices so that every rank has the
    same count (or, with ``drop_last``, the tail is dropped). ``shuffle`` draws a new order
    each epoch from ``seed + epoch``, the same on every rank: call ``set_epoch(epoch)``
    before each epoch. ``num_replicas``/``rank`` default to the process group's.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from .process_group import get_rank, get_world_size
            num_replicas = get_world_size() if num_replicas is None else num_replicas
            rank = get_rank() if rank is None else rank
        if not isinstance(num_replicas, (int, np.integer)) or num_replicas < 1:
            raise DistributedError(f"DistributedSampler: num_replicas must be a positive int, "
                                   f"got {num_replicas!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise DistributedError(f"DistributedSampler: invalid rank {rank!r}, rank should be "
                                   f"in the interval [0, {num_replicas - 1}]")
        try:
            self.length = len(dataset)
        except TypeError:
            raise DistributedError(f"DistributedSampler: the dataset must have a length, got "
                                   f"{type(dataset).__name__}") from None
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        self.num_samples = num_samples(self.length, self.num_replicas, self.drop_last)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch``'s order next (shuffle differs per epoch, the same on every rank)."""
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        return shard_indices(self.length, self.num_replicas, self.rank, self.shuffle,
                             self.seed, self.epoch, self.drop_last)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler(len={self.length}, num_replicas={self.num_replicas}, "
                f"rank={self.rank}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
