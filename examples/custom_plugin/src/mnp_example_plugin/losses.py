"""Focal loss (Lin et al., 2017): cross-entropy scaled by ``(1 - p_t) ** gamma``, which
down-weights the examples the model already gets right.

>>> import mnp.core as mnp
>>> from mnp_example_plugin import FocalLoss
>>> logits = mnp.tensor([[2.0, 0.0], [0.0, 2.0]])
>>> round(FocalLoss(gamma=0.0)(logits, mnp.tensor([0, 1])).item(), 4)   # plain cross-entropy
0.1269
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp
from mnp import nn
from mnp.core import ArgumentError, ShapeError

REDUCTIONS = ("mean", "sum", "none")


class FocalLoss(nn.Module):
    """``-(1 - p_t) ** gamma * log(p_t)`` per sample, ``p_t`` the softmax probability of the
    target class; logits (N, C), integer class targets (N,).
    ``reduction='mean'|'sum'|'none'``; ``gamma=0`` is cross-entropy."""

    def __init__(self, gamma: float = 2.0, reduction: str = "mean"):
        super().__init__()
        if gamma < 0:
            raise ArgumentError(f"FocalLoss: gamma must be >= 0, got {gamma}")
        if reduction not in REDUCTIONS:
            raise ArgumentError(f"FocalLoss: reduction must be one of {REDUCTIONS}, "
                                f"got {reduction!r}")
        self.gamma = float(gamma)
        self.reduction = reduction

    def forward(self, input: mnp.Tensor, target: Any) -> mnp.Tensor:
        target = np.asarray(target.data if isinstance(target, mnp.Tensor) else target)
        if input.ndim != 2 or target.shape != input.shape[:1]:
            raise ShapeError(f"FocalLoss: expected logits (N, C) and targets (N,), got shapes "
                             f"{tuple(input.shape)} and {target.shape}")
        if target.dtype.kind not in "iu":
            raise ArgumentError(f"FocalLoss: targets must be integer class indices, got dtype "
                                f"{target.dtype}")
        classes = input.shape[1]
        if target.size and (target.min() < 0 or target.max() >= classes):
            raise ArgumentError(f"FocalLoss: targets must lie in [0, {classes}), got values "
                                f"from {target.min()} to {target.max()}")
        logp = mnp.log_softmax(input, axis=-1)
        logp_t = logp[np.arange(target.shape[0]), target.astype(np.int64)]
        losses = -((1.0 - logp_t.exp()) ** self.gamma) * logp_t
        if self.reduction == "mean":
            return losses.mean()
        if self.reduction == "sum":
            return losses.sum()
        return losses
