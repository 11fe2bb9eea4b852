"""The margin and embedding losses, as PyTorch defines them: `MarginRankingLoss`,
`HingeEmbeddingLoss`, `CosineEmbeddingLoss`, `TripletMarginLoss`, `MultiMarginLoss` and their
functional forms, composed of core's differentiable ops (PyTorch's clamps: the gradient
passes where a hinge is exactly 0, except in `multi_margin_loss`, where it does not).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.margin_ranking_loss(mnp.tensor([1.0, 0.0]), mnp.tensor([0.0, 1.0]),
...                       mnp.tensor([1.0, 1.0]), margin=0.5, reduction="none").tolist()
[0.0, 1.5]
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as _core
from mnp.core import DTypeError, ShapeError, Tensor, as_tensor

from ._util import ArgumentError, IndexOutOfRangeError, legacy_reduction, reduce_loss
from .distance import pairwise_distance
from .losses import _Loss, _buffer, _pair


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``, targets +-1."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x1, x2 = _pair(input1, input2, op)
    t = as_tensor(target, op=op)
    if not x1.ndim == x2.ndim == t.ndim:
        raise ShapeError(f"{op}: all input tensors should have the same number of dimensions, "
                         f"got shapes {x1.shape}, {x2.shape} and target {t.shape}")
    return reduce_loss(_core.clip(-t * (x1 - x2) + float(margin), min=0.0), reduction)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``input`` where target is 1, ``max(0, margin - input)`` where target is -1."""
    op = "hinge_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x, t = _pair(input, target, op)
    hinge = _core.clip(float(margin) - x, min=0.0)
    losses = _core.where(t != 1, hinge, 0.0) + _core.where(t != -1, x, 0.0)
    return reduce_loss(losses, reduction)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1;
    inputs (N, D) or (D,), targets (N,) or ()."""
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x1, x2 = as_tensor(input1, op=op), as_tensor(input2, op=op)
    t = as_tensor(target, op=op)
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or t.ndim != x1.ndim - 1 \
            or (t.ndim and t.shape[0] != x1.shape[0]):
        raise ShapeError(f"{op}: expected inputs of one shape (N, D) or (D,) and target (N,) "
                         f"or (), got {x1.shape}, {x2.shape} and target {t.shape}")
    dim = x1.ndim - 1
    prod = (x1 * x2).sum(axis=dim)
    mag1 = (x1 * x1).sum(axis=dim) + 1e-12
    mag2 = (x2 * x2).sum(axis=dim) + 1e-12
    cos = prod / _core.sqrt(mag1 * mag2)
    losses = _core.where(t == 1, 1 - cos, 0.0) + \
        _core.where(t == -1, _core.clip(cos - float(margin), min=0.0), 0.0)
    return reduce_loss(losses, reduction)


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the `pairwise_distance`; ``swap``
    uses ``min(d(a, n), d(p, n))`` as the negative distance."""
    op = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    a, pos, neg = (as_tensor(t, op=op) for t in (anchor, positive, negative))
    if not a.ndim == pos.ndim == neg.ndim or a.ndim not in (1, 2):
        raise ShapeError(f"{op}: anchor, positive and negative must all be 1-d (D,) or 2-d "
                         f"(N, D), got shapes {a.shape}, {pos.shape} and {neg.shape}")
    if margin <= 0:
        raise ArgumentError(f"{op}: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = _core.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return reduce_loss(_core.clip(d_pos - d_neg + float(margin), min=0.0), reduction)


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss of input (N, C) or (C,) at int class targets (N,) or ():
    ``sum_{j != y} max(0, margin - x[y] + x[j]) ** p / C`` (``p`` 1 or 2), times
    ``weight[y]`` when given."""
    op = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    if p not in (1, 2):
        raise ArgumentError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    x, t = as_tensor(input, op=op), as_tensor(target, op=op)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold int class indices, got dtype {t.dtype.name}")
    if x.ndim not in (1, 2) or t.shape != x.shape[:-1]:
        raise ShapeError(f"{op}: expected input (N, C) with target (N,), or (C,) with a 0-d "
                         f"target, got input {x.shape} and target {t.shape}")
    c = x.shape[-1]
    idx = t.data.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= c):
        bad = int(idx.max()) if idx.max() >= c else int(idx.min())
        raise IndexOutOfRangeError(f"{op}: target {bad} is out of range for {c} classes")
    onehot = np.zeros(x.shape, x.dtype)
    np.put_along_axis(onehot, idx[..., None], 1, axis=-1)
    x_y = (x * Tensor(onehot)).sum(axis=-1, keepdims=True)
    h = _core.relu(x - x_y + float(margin))          # no gradient where the hinge is 0
    if p == 2:
        h = h * h
    if weight is not None:
        w = as_tensor(weight, op=op)
        if w.shape != (c,):
            raise ShapeError(f"{op}: weight of shape {w.shape} does not fit {c} classes")
        h = h * w[idx][..., None]
    losses = (h * Tensor(1 - onehot)).sum(axis=-1) / c
    return reduce_loss(losses, reduction)


# -- the modules ---------------------------------------------------------------------------
class _MarginLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction, type(self).__name__))
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """Ranking hinge ``max(0, -y * (x1 - x2) + margin)``."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """``x`` for similar pairs (target 1), ``max(0, margin - x)`` for dissimilar ones (-1)."""

    def __init__(self, margin: float = 1.0, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """Cosine embedding loss of pairs labelled similar (1) or dissimilar (-1)."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Triplet loss ``max(0, margin + d(a, p) - d(a, n))`` with the ``p``-norm distance."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction, "TripletMarginLoss"))
        if margin <= 0:
            raise ArgumentError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, bool(swap)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss (``p`` 1 or 2), optional per-class ``weight``."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None,
                 size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction, "MultiMarginLoss"))
        if p not in (1, 2):
            raise ArgumentError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        self.p, self.margin = p, margin
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                 reduction=self.reduction)


LOSSES = {"MarginRankingLoss": MarginRankingLoss, "HingeEmbeddingLoss": HingeEmbeddingLoss,
          "CosineEmbeddingLoss": CosineEmbeddingLoss, "TripletMarginLoss": TripletMarginLoss,
          "MultiMarginLoss": MultiMarginLoss}

__all__ = list(LOSSES) + ["LOSSES", "margin_ranking_loss", "hinge_embedding_loss",
                          "cosine_embedding_loss", "triplet_margin_loss", "multi_margin_loss"]
