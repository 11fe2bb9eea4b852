"""`train_test_split`: scikit-learn's split of several arrays at once, optionally stratified.

>>> import numpy as np
>>> from mnp.data import train_test_split
>>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
>>> X_train.shape, X_test.shape, y_train.shape, y_test.shape
((8, 2), (2, 2), (8,), (2,))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import ShapeError

from ._arrays import like_input, rng_for, to_array
from .errors import DataError


def _test_count(n: int, test_size: float | int) -> int:
    if isinstance(test_size, bool):
        raise DataError(f"train_test_split: test_size must be a fraction or a count, got {test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0.0 < test_size < 1.0:
        n_test = math.ceil(float(test_size) * n)       # scikit-learn rounds the test part up
    else:
        raise DataError(f"train_test_split: test_size must be a fraction in (0, 1) or a count, "
                        f"got {test_size!r}")
    if not 0 < n_test < n:
        raise DataError(f"train_test_split: test_size={test_size!r} leaves {n_test} test and "
                        f"{n - n_test} training samples out of {n}; both must be at least 1")
    return n_test


def _stratified_counts(counts: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Per-class test counts proportional to ``counts`` and summing to ``n_test``."""
    exact = counts * (n_test / counts.sum())
    take = np.floor(exact).astype(np.int64)
    short = n_test - int(take.sum())
    if short:
        frac = exact - take
        # largest remainders first; ties broken at random so no class is always favoured
        ranked = np.lexsort((rng.random(len(counts)), -frac))
        ranked = [i for i in ranked if take[i] < counts[i] - 1] or list(ranked)
        for i in ranked[:short]:
            take[i] += 1
    return take


def _stratified_indices(labels: np.ndarray, n_test: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray]:
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        rare = classes[counts.argmin()].item()
        raise DataError(f"train_test_split: stratify class {rare!r} has only {counts.min()} "
                        "member; every class needs at least 2")
    n = len(labels)
    if n_test < len(classes) or n - n_test < len(classes):
        raise DataError(f"train_test_split: {n_test} test and {n - n_test} training samples "
                        f"cannot both hold each of the {len(classes)} stratify classes")
    take = _stratified_counts(counts, n_test, rng)
    test, train = [], []
    for c, k in enumerate(take):
        members = rng.permutation(np.flatnonzero(inverse.reshape(-1) == c))
        test.append(members[:k])
        train.append(members[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(*arrays: Any, test_size: float | int = 0.2, seed: int | None = None,
                     stratify: Any = None, shuffle: bool = True) -> list[Any]:
    """Split each array's rows into a training and a test part.

    Returns ``[a_train, a_test, b_train, b_test, ...]`` in scikit-learn's order, so
    ``X_train, X_test, y_train, y_test = train_test_split(X, y)``. ``test_size``: a
    fraction in (0, 1) (the count is rounded up, as in scikit-learn) or a number of rows.
    ``stratify``: labels whose class proportions both parts keep (needs ``shuffle``).
    ``shuffle=False`` takes the last rows as the test part. Arrays stay arrays, tensors
    become tensors; ``seed`` makes the split reproducible (without it, mnp's global generator).
    """
    if not arrays:
        raise DataError("train_test_split: needs at least one array")
    data = [to_array(a) for a in arrays]
    if any(a.ndim == 0 for a in data) or len({a.shape[0] for a in data}) != 1:
        raise ShapeError("train_test_split: every array needs the same first dimension, got "
                         "shapes " + ", ".join(str(a.shape) for a in data))
    n = data[0].shape[0]
    n_test = _test_count(n, test_size)
    if not shuffle:
        if stratify is not None:
            raise DataError("train_test_split: stratify needs shuffle=True")
        train_idx, test_idx = np.arange(n - n_test), np.arange(n - n_test, n)
    else:
        rng = rng_for(seed, "train_test_split")
        if stratify is not None:
            labels = to_array(stratify)
            if labels.shape[:1] != (n,):
                raise ShapeError(f"train_test_split: stratify has shape {labels.shape}, "
                                 f"expected {n} labels")
            if labels.ndim > 1:      # rows of one-hot or multi-column labels: one class per row
                labels = np.unique(labels.reshape(n, -1), axis=0, return_inverse=True)[1].reshape(-1)
            train_idx, test_idx = _stratified_indices(labels, n_test, rng)
        else:
            perm = rng.permutation(n)
            test_idx, train_idx = perm[:n_test], perm[n_test:]
    out: list[Any] = []
    for original, a in zip(arrays, data):
        out.append(like_input(a[train_idx], original))
        out.append(like_input(a[test_idx], original))
    return out


__all__ = ["train_test_split"]
