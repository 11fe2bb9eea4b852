"""The batches `Trainer` runs on: arrays and tensors through mnp-data's ``DataLoader`` when
it is installed (found in core's registry: mnp.nn does not import mnp.data), else by its own
slicing; any other iterable of batches as it is. The sample order of a pass (shuffled with
the trainer's generator, dealt out across data-parallel ranks) is the trainer's either way."""
from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

import numpy as np

import mnp.core as mnp
from mnp.core import PluginError, ShapeError, Tensor, parallel

from ._util import TrainerError

#: the name mnp-data registers its ``DataLoader`` under (in the ``loaders`` registry)
LOADER = "DataLoader"


def _loader() -> Any:
    """mnp-data's ``DataLoader`` class, or None when no plugin registers one."""
    try:
        return mnp.registry("loaders").get(LOADER)
    except PluginError:
        return None


class _Order:
    """The sample indices of one pass, as a ``DataLoader`` sampler."""

    def __init__(self, order: np.ndarray):
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order.tolist())


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, Tensor))


def _np(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _group() -> Any:
    """The process group of data-parallel training, if one of several ranks is active."""
    group = parallel.get_process_group()
    return group if group is not None and group.world_size > 1 else None


def _sharded_source(source: Any) -> bool:
    """True for a loader whose sampler already gives each rank its own share."""
    return getattr(getattr(source, "sampler", None), "num_replicas", None) is not None


class _Data:
    """Batches from arrays (shuffled with the trainer's generator) or from an iterable."""

    def __init__(self, x: Any, y: Any, batch_size: int, op: str, need_targets: bool):
        self.op = op
        if int(batch_size) < 1:
            raise TrainerError(f"{op}: batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.arrays = _is_array(x) or y is not None
        if self.arrays:
            self.x = _np(x)
            self.y = None if y is None else _np(y)
            if self.x.ndim == 0:
                raise ShapeError(f"{op}: x must have a batch dimension, got shape {self.x.shape}")
            if self.y is not None and len(self.y) != len(self.x):
                raise ShapeError(f"{op}: x has {len(self.x)} samples but y has {len(self.y)} "
                                 f"(shapes {self.x.shape} and {self.y.shape})")
            if need_targets and self.y is None:
                raise TrainerError(f"{op}: y is required when x is an array")
            self.n = len(self.x)
        else:
            if not isinstance(x, Iterable):
                raise TrainerError(f"{op}: x must be an array, a Tensor or an iterable of "
                                   f"(inputs, targets) batches, got {type(x).__name__}")
            self.source, self.n = x, None
        self.need_targets = need_targets
        self.group: Any = None       # set by `shard`: each rank then batches its own share
        self.train_shard = False

    def shard(self, group: Any, train: bool) -> "_Data":
        """Split the data across ``group``'s ranks. Training: the epoch's order is padded and
        dealt out (equal counts, as DistributedSampler), ``batch_size`` being the global
        batch; evaluation: contiguous blocks, gathered back in order. An iterable must
        already be sharded by its sampler."""
        if self.arrays:
            if train or self.n >= group.world_size:
                self.group, self.train_shard = group, train
                if train:
                    self.batch_size = math.ceil(self.batch_size / group.world_size)
        elif _sharded_source(self.source):
            self.group = group
        elif train:
            raise TrainerError(f"{self.op}: with {group.world_size} ranks training data-"
                               f"parallel, an iterable of batches must give each rank its own "
                               f"share: pass a DataLoader with sampler=DistributedSampler("
                               f"dataset) (mnp.distributed), or pass arrays")
        return self

    def _order(self, rng: np.random.Generator | None) -> np.ndarray | None:
        order = rng.permutation(self.n) if rng is not None else None
        g = self.group
        if g is None:
            return order
        if self.train_shard:
            return g.shard(order if order is not None else np.arange(self.n))
        return np.array_split(np.arange(self.n), g.world_size)[g.rank]

    def _local_n(self) -> int:
        g = self.group
        if g is None:
            return self.n
        if self.train_shard:
            return math.ceil(self.n / g.world_size)
        return len(np.array_split(np.arange(self.n), g.world_size)[g.rank])

    def __len__(self) -> int:
        if self.arrays:
            return math.ceil(self._local_n() / self.batch_size)
        return len(self.source)  # type: ignore[arg-type]

    def num_batches(self) -> int | None:
        try:
            return len(self)
        except TypeError:
            return None

    def batches(self, rng: np.random.Generator | None) -> Iterator[tuple[Any, Any]]:
        if self.arrays:
            order = self._order(rng)
            loader = _loader()
            if loader is None:
                yield from self._slices(order)
            else:
                yield from self._loaded(loader, order)
            return
        for batch in self.source:
            if isinstance(batch, (tuple, list)) and len(batch) == 2:
                yield batch[0], batch[1]
            elif self.need_targets:
                raise TrainerError(f"{self.op}: each batch must be an (inputs, targets) pair, "
                                   f"got {type(batch).__name__}"
                                   f"{f' of length {len(batch)}' if isinstance(batch, (tuple, list)) else ''}")
            else:
                yield (batch[0] if isinstance(batch, (tuple, list)) and len(batch) == 1
                       else batch), None


    def _slices(self, order: np.ndarray | None) -> Iterator[tuple[Any, Any]]:
        """The batches as array slices (without mnp-data)."""
        for start in range(0, self._local_n(), self.batch_size):
            idx = order[start:start + self.batch_size] if order is not None else \
                slice(start, start + self.batch_size)
            yield self.x[idx], (None if self.y is None else self.y[idx])

    def _loaded(self, loader: Any, order: np.ndarray | None) -> Iterator[tuple[Any, Any]]:
        """The batches from ``DataLoader``s over ``x`` and ``y`` that share one order."""
        def load(a: np.ndarray) -> Any:
            if order is None:
                return loader(a, batch_size=self.batch_size)
            return loader(a, batch_size=self.batch_size, sampler=_Order(order))
        if self.y is None:
            yield from ((xb, None) for xb in load(self.x))
        else:
            yield from zip(load(self.x), load(self.y))


def _validation(validation_data: Any, batch_size: int) -> _Data | None:
    if validation_data is None:
        return None
    if (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2
            and _is_array(validation_data[0])):
        return _Data(validation_data[0], validation_data[1], batch_size, "fit (validation)", True)
    return _Data(validation_data, None, batch_size, "fit (validation)", True)


