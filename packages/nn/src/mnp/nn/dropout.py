"""The dropout family: `Dropout`, its node `DropoutFunction` (the ``mul`` kernel with a drawn
mask) and `dropout`, the functional form."""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import Function, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._util import ArgumentError
from .module import Module


class DropoutFunction(Function):
    name = "dropout"

    def forward(self, x, mask=None):
        self.mask = mask
        if x.dtype != mask.dtype:          # an integer input: numpy's promotion
            x = x.astype(np.result_type(x, mask))
        return kernel("mul", x.dtype)(x, mask)

    def backward(self, g):
        return kernel("mul", g.dtype)(g, self.mask)


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity when not ``training``. Draws from mnp's generator, so
    `mnp.core.manual_seed` makes it reproducible."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(input, op="dropout")
    if not training or p == 0.0:
        return x
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(x.shape, dt)
    else:
        keep = mnp.generator().random(x.shape, dtype=np.float32 if dt != np.float64 else np.float64) >= p
        mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=dt)
    return DropoutFunction.apply(x, mask=mask)


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training; the identity in eval mode.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Dropout(0.5).eval()(mnp.ones(4)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
