"""Loss modules (``reduction='mean'|'sum'|'none'``), thin wrappers over `mnp.nn.functional`.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> nn.MSELoss()(mnp.tensor([1.0, 2.0]), mnp.tensor([1.0, 4.0])).item()
2.0
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Tensor
from mnp.core.autograd import _make

from . import functional as F
from ._util import ArgumentError, check_reduction
from .module import Module


def _buffer(value: Any) -> Tensor | None:
    if value is None:
        return None
    arr = value.data if isinstance(value, Tensor) else np.asarray(value, np.float32)
    return _make(arr, False, None)


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = check_reduction(reduction, type(self).__name__)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (logs clamped at -100, as PyTorch)."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for any logit; ``pos_weight`` weighs positives."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against int class targets
    or class probabilities; optional class ``weight``, ``ignore_index`` and ``label_smoothing``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(mnp.zeros((2, 3)), mnp.tensor([0, 2])).shape
    ()
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ArgumentError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                                f"{label_smoothing}")
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


SoftmaxCrossEntropy = CrossEntropyLoss


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities at int class targets."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index = int(ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


LOSSES = {"MSELoss": MSELoss, "L1Loss": L1Loss, "BCELoss": BCELoss,
          "BCEWithLogitsLoss": BCEWithLogitsLoss, "CrossEntropyLoss": CrossEntropyLoss,
          "SoftmaxCrossEntropy": SoftmaxCrossEntropy, "NLLLoss": NLLLoss}

__all__ = list(LOSSES) + ["LOSSES"]
