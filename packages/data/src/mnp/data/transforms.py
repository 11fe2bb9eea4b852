"""Feature transforms on arrays (or tensors): standardize, normalize, min-max scale, one-hot.

>>> import numpy as np
>>> from mnp.data import Standardizer, normalize, one_hot
>>> X = np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32)
>>> scaler = Standardizer().fit(X)
>>> scaler.transform(X).tolist()
[[-1.0, -1.0], [1.0, 1.0]]
>>> normalize(np.array([[3.0, 4.0]])).tolist()
[[0.6, 0.8]]
>>> one_hot(np.array([2, 0]), num_classes=3).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import DTypeError, ShapeError

from ._arrays import as_float, like_input, to_array
from .errors import DataError


class Standardizer:
    """Per-feature standardization ``(X - mean) / std`` with statistics kept for reuse
    (scikit-learn's ``StandardScaler``): fit on the training set, transform both sets.

    ``axis`` (default 0) is the axis the statistics are taken over: 0 gives one mean and
    std per column. A feature with zero spread is only centred (its std is taken as 1).
    """

    def __init__(self, axis: int | tuple[int, ...] = 0):
        self.axis = axis
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> "Standardizer":
        a = as_float(to_array(X))
        if a.size == 0:
            raise ShapeError(f"Standardizer.fit: cannot take statistics of an empty array of "
                             f"shape {a.shape}")
        mean = a.mean(axis=self.axis, keepdims=True, dtype=np.float64)
        std = a.std(axis=self.axis, keepdims=True, dtype=np.float64)
        self.mean = mean.astype(a.dtype)
        self.std = np.where(std > 0, std, 1.0).astype(a.dtype)
        return self

    def transform(self, X: Any) -> Any:
        if self.mean is None or self.std is None:
            raise DataError("Standardizer.transform: call fit first (or pass mean and std)")
        a = as_float(to_array(X))
        try:
            out = (a - self.mean) / self.std
        except ValueError:
            raise ShapeError(f"Standardizer.transform: X of shape {a.shape} does not match "
                             f"statistics of shape {self.mean.shape}") from None
        return like_input(out.astype(a.dtype, copy=False), X)

    def fit_transform(self, X: Any) -> Any:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Any:
        if self.mean is None or self.std is None:
            raise DataError("Standardizer.inverse_transform: call fit first")
        a = as_float(to_array(X))
        return like_input((a * self.std + self.mean).astype(a.dtype, copy=False), X)


def standardize(X: Any, mean: Any = None, std: Any = None, axis: int | tuple[int, ...] = 0,
                return_stats: bool = False) -> Any:
    """``(X - mean) / std`` per feature, with the statistics of ``X`` itself unless given.

    Pass the training set's statistics to transform a test set the same way::

        X_train, mean, std = standardize(X_train, return_stats=True)
        X_test = standardize(X_test, mean, std)

    ``mean`` and ``std`` must be given together. Zero std is taken as 1. Integer input
    becomes float32; floating input keeps its dtype; a tensor gives a tensor.
    """
    if (mean is None) != (std is None):
        raise DataError("standardize: pass both mean and std, or neither")
    scaler = Standardizer(axis)
    if mean is None:
        scaler.fit(X)
    else:
        a = as_float(to_array(X))
        reduced = len(axis) if isinstance(axis, tuple) else 1
        stats = []
        for s in (mean, std):
            s = np.asarray(to_array(s), dtype=a.dtype)
            stats.append(np.expand_dims(s, axis) if s.ndim and s.ndim == a.ndim - reduced else s)
        if np.any(stats[1] < 0):
            raise DataError("standardize: std must be non-negative")
        scaler.mean, scaler.std = stats[0], np.where(stats[1] > 0, stats[1], 1).astype(a.dtype)
    out = scaler.transform(X)
    if not return_stats:
        return out
    if mean is not None:
        return out, scaler.mean, scaler.std
    return out, np.squeeze(scaler.mean, axis=axis), np.squeeze(scaler.std, axis=axis)


def normalize(X: Any, axis: int = -1, ord: float | str = 2, eps: float = 1e-12) -> Any:
    """Scale each vector along ``axis`` to unit norm (scikit-learn's ``normalize`` and
    Keras' ``utils.normalize``): for a 2-d X, each row (sample) gets norm 1.

    ``ord``: 2 (Euclidean, default), 1, or ``inf`` / ``"max"``. Zero vectors stay zero
    (the norm is floored at ``eps``). For scaling features into a range use `minmax_scale`;
    for zero mean and unit variance use `standardize`.
    """
    a = as_float(to_array(X))
    if ord in ("max", np.inf, float("inf")):
        norm = np.abs(a).max(axis=axis, keepdims=True)
    elif ord in (1, 2):
        norm = np.linalg.norm(a, ord=ord, axis=axis, keepdims=True)
    else:
        raise DataError(f"normalize: ord must be 1, 2 or inf, got {ord!r}")
    return like_input((a / np.maximum(norm, eps)).astype(a.dtype, copy=False), X)


def minmax_scale(X: Any, feature_range: tuple[float, float] = (0.0, 1.0), axis: int = 0) -> Any:
    """Map each feature (the values along ``axis``; default: each column) linearly onto
    ``feature_range`` (scikit-learn's ``minmax_scale``). Constant features map to the low end.
    """
    lo, hi = feature_range
    if not lo < hi:
        raise DataError(f"minmax_scale: feature_range {feature_range} needs low < high")
    a = as_float(to_array(X))
    mn, mx = a.min(axis=axis, keepdims=True), a.max(axis=axis, keepdims=True)
    span = np.where(mx > mn, mx - mn, 1)
    return like_input(((a - mn) / span * (hi - lo) + lo).astype(a.dtype, copy=False), X)


def one_hot(y: Any, num_classes: int | None = None, dtype: Any = np.float32) -> Any:
    """Integer labels of any shape to one-hot rows: shape ``y.shape + (num_classes,)``,
    float32 by default (Keras' ``to_categorical``). ``num_classes`` defaults to
    ``max(y) + 1``; labels outside ``[0, num_classes)`` raise `DataError`.
    """
    labels = to_array(y)
    if labels.dtype.kind not in "iub":
        raise DTypeError(f"one_hot: labels must be integers, got dtype {labels.dtype.name}")
    labels = labels.astype(np.int64, copy=False)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 0:
        raise DataError(f"one_hot: num_classes must be a non-negative integer, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise DataError(f"one_hot: label {bad} is outside [0, {num_classes}) for "
                        f"num_classes={num_classes}")
    out = np.zeros(labels.shape + (int(num_classes),), dtype=dtype)
    if labels.size:
        np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return like_input(out, y)


__all__ = ["Standardizer", "standardize", "normalize", "minmax_scale", "one_hot"]
