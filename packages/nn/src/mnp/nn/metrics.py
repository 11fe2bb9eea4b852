"""Metrics on predictions and targets: numpy arrays or Tensors in, Python floats (or arrays) out.

Every metric takes ``(input, target)`` in the order of the losses (predictions first).
Predictions may be class indices, logits/probabilities of shape ``(N, C)`` (the argmax is
the predicted class), or one score per sample for a binary problem (probabilities in
``[0, 1]`` are compared with ``threshold``; anything else is taken as logits, so its sign
decides). Targets may be class indices or one-hot/probability rows.

>>> import numpy as np
>>> from mnp.nn import metrics
>>> metrics.accuracy(np.array([[2.0, 0.1], [0.3, 1.5]]), np.array([0, 0]))
0.5
>>> metrics.confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0])).tolist()
[[1, 1], [0, 1]]
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from mnp.core import DTypeError, MnpError, ShapeError

AVERAGES = ("binary", "macro", "micro")


def _array(x: Any, op: str, what: str) -> np.ndarray:
    try:
        arr = np.asarray(x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{op}: {what} cannot be read as an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{op}: {what} must be numeric, got dtype {arr.dtype}")
    return arr


def _binary_labels(scores: np.ndarray, threshold: float) -> np.ndarray:
    if scores.dtype.kind in "biu":
        return scores.astype(np.int64)
    if scores.size and (scores.min() < 0.0 or scores.max() > 1.0):   # logits
        scores = 1.0 / (1.0 + np.exp(-scores.astype(np.float64)))
    return (scores > threshold).astype(np.int64)


def _labels(input: Any, target: Any, op: str, threshold: float = 0.5
            ) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Predicted and true class indices (1-d int64) and the class count the shapes imply."""
    pred, true = _array(input, op, "input"), _array(target, op, "target")
    shapes = (pred.shape, true.shape)
    classes = None
    if pred.ndim == 2 and pred.shape[1] > 1:        # logits or probabilities per class
        classes = pred.shape[1]
        pred = pred.argmax(axis=1)
    elif pred.ndim == 2 and pred.shape[1] == 1:     # one score per sample
        pred = pred[:, 0]
    if pred.dtype.kind == "f":
        pred = _binary_labels(pred, threshold)
    if true.ndim == 2:                              # one-hot / probability rows, or (N, 1)
        true = true.argmax(axis=1) if true.shape[1] > 1 else true[:, 0]
    if pred.ndim != 1 or true.shape != pred.shape:
        raise ShapeError(f"{op}: input of shape {shapes[0]} and target of shape {shapes[1]} "
                         f"do not describe the same samples")
    if true.dtype.kind == "f":
        if not np.all(np.isfinite(true)) or np.any(true != np.round(true)):
            raise DTypeError(f"{op}: target holds non-integer values; expected class indices")
    return pred.astype(np.int64), true.astype(np.int64), classes


def accuracy(input: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted class equals the target class.

    >>> accuracy(np.array([0.9, 0.2, 0.7]), np.array([1, 0, 0]))
    0.6666666666666666
    """
    pred, true, _ = _labels(input, target, "accuracy", threshold)
    if pred.size == 0:
        raise ShapeError("accuracy: no samples (input of shape (0,))")
    return float(np.mean(pred == true))


def _pair(input: Any, target: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = _array(input, op, "input"), _array(target, op, "target")
    if a.shape != b.shape:
        if a.size == b.size and a.squeeze().shape == b.squeeze().shape:
            a, b = a.reshape(-1), b.reshape(-1)
        else:
            raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} of input and target differ")
    if a.size == 0:
        raise ShapeError(f"{op}: no values (shape {a.shape})")
    return a.astype(np.float64), b.astype(np.float64)


def mse(input: Any, target: Any) -> float:
    """Mean squared error over all elements.

    >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    2.0
    """
    a, b = _pair(input, target, "mse")
    return float(np.mean((a - b) ** 2))


def mae(input: Any, target: Any) -> float:
    """Mean absolute error over all elements."""
    a, b = _pair(input, target, "mae")
    return float(np.mean(np.abs(a - b)))


def confusion_matrix(input: Any, target: Any, num_classes: int | None = None,
                     threshold: float = 0.5) -> np.ndarray:
    """``(C, C)`` int64 counts: row = true class, column = predicted class.

    ``num_classes`` defaults to the number of columns of logits, else the largest label + 1.
    """
    pred, true, classes = _labels(input, target, "confusion_matrix", threshold)
    if pred.size and (pred.min() < 0 or true.min() < 0):
        raise ShapeError("confusion_matrix: class indices must be non-negative")
    seen = int(max(pred.max(initial=-1), true.max(initial=-1))) + 1
    n = num_classes if num_classes is not None else max(classes or 0, seen, 1)
    if seen > n:
        raise ShapeError(f"confusion_matrix: label {seen - 1} does not fit num_classes={n}")
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n).astype(np.int64)


def _counts(input: Any, target: Any, op: str, average: str | None, num_classes: int | None,
            threshold: float, pos_label: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """True positives, predicted positives and actual positives per class (or summed)."""
    pred, true, classes = _labels(input, target, op, threshold)
    if average is None:
        average = "binary" if (classes or 2) <= 2 and set(np.unique(np.concatenate(
            [pred, true])).tolist()) <= {0, 1} else "macro"
    if average not in AVERAGES:
        raise MnpError(f"{op}: average must be one of {AVERAGES}, got {average!r}")
    if average == "binary":
        extra = set(np.unique(np.concatenate([pred, true])).tolist()) - {0, 1}
        if extra:
            raise MnpError(f"{op}: average='binary' needs labels in {{0, 1}}, found "
                           f"{sorted(extra)}; use average='macro' or 'micro'")
        p, t = pred == pos_label, true == pos_label
        return (np.array([np.sum(p & t)]), np.array([np.sum(p)]), np.array([np.sum(t)]), average)
    cm = confusion_matrix(pred, true, num_classes)
    tp, pp, ap = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        return np.array([tp.sum()]), np.array([pp.sum()]), np.array([ap.sum()]), average
    if num_classes is None:          # as scikit-learn: classes present in target or input
        keep = (pp + ap) > 0
        tp, pp, ap = tp[keep], pp[keep], ap[keep]
    return tp, pp, ap, average


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Elementwise ``num / den`` with 0 where ``den`` is 0 (scikit-learn's zero_division=0)."""
    num, den = num.astype(np.float64), den.astype(np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def precision(input: Any, target: Any, average: str | None = None, num_classes: int | None = None,
              threshold: float = 0.5, pos_label: int = 1) -> float:
    """TP / (TP + FP). ``average``: ``'binary'`` (class ``pos_label``), ``'macro'`` (unweighted
    mean over classes) or ``'micro'`` (global counts); default: binary for 0/1 labels, else macro.

    >>> precision(np.array([1, 1, 0, 1]), np.array([1, 0, 0, 1]))
    0.6666666666666666
    """
    tp, pp, _, _ = _counts(input, target, "precision", average, num_classes, threshold, pos_label)
    return float(np.mean(_ratio(tp, pp)))


def recall(input: Any, target: Any, average: str | None = None, num_classes: int | None = None,
           threshold: float = 0.5, pos_label: int = 1) -> float:
    """TP / (TP + FN), averaged as in `precision`."""
    tp, _, ap, _ = _counts(input, target, "recall", average, num_classes, threshold, pos_label)
    return float(np.mean(_ratio(tp, ap)))


def f1(input: Any, target: Any, average: str | None = None, num_classes: int | None = None,
       threshold: float = 0.5, pos_label: int = 1) -> float:
    """Harmonic mean of precision and recall per class, averaged as in `precision`."""
    tp, pp, ap, _ = _counts(input, target, "f1", average, num_classes, threshold, pos_label)
    return float(np.mean(_ratio(2 * tp, pp + ap)))


f1_score = f1

#: the metrics mnp-nn registers (hook ``mnp_register_metrics``), by name
METRICS: dict[str, Callable[..., Any]] = {
    "accuracy": accuracy, "mse": mse, "mae": mae, "precision": precision, "recall": recall,
    "f1": f1, "confusion_matrix": confusion_matrix,
}

__all__ = ["accuracy", "mse", "mae", "precision", "recall", "f1", "f1_score",
           "confusion_matrix", "METRICS"]
