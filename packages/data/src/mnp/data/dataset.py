"""Map-style datasets: `Dataset`, `TensorDataset`, `Subset` and `random_split`.

>>> import numpy as np
>>> from mnp.data import TensorDataset, random_split
>>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
>>> x, y = ds[2]
>>> x.shape, int(y.item())
((3,), 2)
>>> [len(part) for part in random_split(ds, [0.8, 0.2], seed=0)]
[8, 2]
"""
from __future__ import annotations

import abc
import math
from typing import Any, Sequence

import numpy as np

import mnp.core as mnp
from mnp.core import ShapeError

from ._arrays import rng_for, to_array
from .errors import DataError


class Dataset(abc.ABC):
    """A sized collection of samples: subclasses define ``__len__`` and ``__getitem__(i)``.

    A sample is anything `default_collate` can batch: an array, a tensor, a number, or a
    tuple/list/dict of those.
    """

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __getitem__(self, index: int) -> Any: ...


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays or tensors: ``ds[i] == (a[i], b[i], ...)``.

    Items are tuples of tensors (a 1-tuple for a single array), as in PyTorch. The arrays
    are kept as given (no copy); `DataLoader` batches them by fancy indexing.
    """

    def __init__(self, *arrays: Any):
        if not arrays:
            raise DataError("TensorDataset: needs at least one array")
        self.arrays: tuple[np.ndarray, ...] = tuple(to_array(a) for a in arrays)
        for a in self.arrays:
            if a.ndim == 0:
                raise ShapeError("TensorDataset: a 0-d array has no samples; shapes "
                                 + ", ".join(str(b.shape) for b in self.arrays))
        n = {a.shape[0] for a in self.arrays}
        if len(n) != 1:
            raise ShapeError("TensorDataset: every array needs the same first dimension, got "
                             "shapes " + ", ".join(str(a.shape) for a in self.arrays))
        self._n = n.pop()

    @property
    def tensors(self) -> tuple[mnp.Tensor, ...]:
        """The arrays as tensors (sharing memory where the dtype allows)."""
        return tuple(mnp.from_numpy(a) for a in self.arrays)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> tuple[mnp.Tensor, ...]:
        if isinstance(index, (int, np.integer)) and not -self._n <= index < self._n:
            raise IndexError(f"TensorDataset: index {index} out of range for {self._n} samples")
        return tuple(mnp.from_numpy(np.asarray(a[index])) for a in self.arrays)

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(a.shape) for a in self.arrays)})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {type(self.dataset).__name__})"


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer sizes from ``lengths`` (ints summing to ``n``, or fractions summing to 1)."""
    lengths = list(lengths)
    if not lengths:
        raise DataError("random_split: lengths must not be empty")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lengths):
        if any(v < 0 for v in lengths) or sum(lengths) != n:
            raise DataError(f"random_split: lengths {lengths} must be non-negative and sum to "
                            f"the dataset's length {n}")
        return [int(v) for v in lengths]
    fractions = [float(v) for v in lengths]
    if any(not 0 <= f <= 1 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise DataError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1 "
                        "(or pass integer lengths summing to the dataset's length)")
    sizes = [int(math.floor(n * f)) for f in fractions]
    for i in range(n - sum(sizes)):       # the remainder, one each, round-robin (as PyTorch)
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset: Any, lengths: Sequence[float], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random `Subset`\\ s of the given lengths.

    ``lengths``: integers summing to ``len(dataset)``, or fractions summing to 1 (the
    remainder of flooring goes one by one to the first parts). ``seed`` makes the split
    reproducible; without it mnp's global generator is used (`mnp.manual_seed`).
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    perm = rng_for(seed, "random_split").permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]
