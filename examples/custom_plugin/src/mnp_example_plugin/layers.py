"""Swish: ``x * sigmoid(beta * x)`` with a learnable ``beta``."""
from __future__ import annotations

import mnp.core as mnp
from mnp import nn


class Swish(nn.Module):
    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = nn.Parameter(mnp.tensor([beta]))

    def forward(self, x: mnp.Tensor) -> mnp.Tensor:
        return x * mnp.sigmoid(self.beta * x)
