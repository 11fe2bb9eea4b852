"""Focal loss (Lin et al., 2017): ``-(1 - p_t)^gamma * log(p_t)`` averaged over the batch."""
from __future__ import annotations

import numpy as np

import mnp.core as mnp
from mnp import nn


class FocalLoss(nn.Module):
    def __init__(self, gamma: float = 2.0):
        super().__init__()
        self.gamma = gamma

    def forward(self, logits: mnp.Tensor, target: mnp.Tensor) -> mnp.Tensor:
        logp = mnp.log_softmax(logits, axis=-1)
        idx = np.asarray(target.data if isinstance(target, mnp.Tensor) else target, np.int64)
        logp_t = logp[np.arange(idx.shape[0]), idx]
        return (-((1 - logp_t.exp()) ** self.gamma) * logp_t).mean()
