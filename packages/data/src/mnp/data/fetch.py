"""`Fetcher`: the batch at a list of sample positions, the same in the main process and in
worker processes (so both give the same batches, bit for bit)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import mnp.core as mnp

from .collate import default_collate
from .dataset import Subset, TensorDataset

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


class Fetcher:
    """``fetcher(ids)`` is the batch of ``dataset`` at positions ``ids`` (a slice or an int
    array). A `TensorDataset`, a plain array or tensor, or a `Subset` of those is batched by
    indexing its arrays; anything else sample by sample through ``collate_fn`` (default
    `default_collate`)."""

    def __init__(self, dataset: Any, collate_fn: Callable[[list], Any] | None = None):
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.source = _array_source(dataset) if collate_fn is None else None

    def __call__(self, ids: slice | np.ndarray) -> Any:
        if self.source is not None:
            arrays, base, as_tuple = self.source
            if base is not None:
                ids = base[ids]
            if isinstance(ids, slice):   # a contiguous block: copy so batches never alias
                batch = tuple(mnp.from_numpy(a[ids].copy()) for a in arrays)
            else:
                batch = tuple(mnp.from_numpy(a[ids]) for a in arrays)
            return batch if as_tuple else batch[0]
        if isinstance(ids, slice):
            ids = range(ids.start, ids.stop)
        collate = self.collate_fn or default_collate
        return collate([self.dataset[int(i)] for i in ids])


__all__ = ["Fetcher"]
