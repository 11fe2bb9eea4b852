"""Swish (Ramachandran et al., 2017): ``x * sigmoid(beta * x)`` with a learnable ``beta``.

>>> import mnp.core as mnp
>>> from mnp_example_plugin import Swish
>>> Swish()(mnp.tensor([0.0, 1.0])).tolist()
[0.0, 0.7310585975646973]
"""
from __future__ import annotations

import mnp.core as mnp
from mnp import nn


class Swish(nn.Module):
    """Elementwise ``x * sigmoid(beta * x)``; ``beta`` (one value) is a trained `Parameter`.

    Registered in the ``layers`` registry as ``"Swish"``, so models containing it save with
    `mnp.nn.save` and load with `mnp.nn.load` while this plugin is installed.
    """

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = nn.Parameter(mnp.tensor([float(beta)]))

    def forward(self, x: mnp.Tensor) -> mnp.Tensor:
        return x * mnp.sigmoid(self.beta * x)
