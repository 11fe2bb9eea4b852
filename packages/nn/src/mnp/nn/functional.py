"""`mnp.nn.functional`: the layers and losses as plain functions (PyTorch's names and arguments).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> x = mnp.randn(4, 3)
>>> F.softmax(F.linear(x, mnp.ones((2, 3))), dim=-1).shape
(4, 2)
"""
from __future__ import annotations

from typing import Any

import mnp.core as _core
from mnp.core import Tensor

from ._util import ArgumentError, as_tensor
from .attention import scaled_dot_product_attention
from .ops.conv import conv1d, conv2d
from .ops.linear import linear
from .ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                       l1_loss, mse_loss, nll_loss)
from .ops.misc import dropout, embedding, one_hot
from .ops.norm import batch_norm, layer_norm, rms_norm
from .ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d


def relu(input: Any, inplace: bool = False) -> Tensor:
    """``max(input, 0)``."""
    return _core.relu(as_tensor(input, "relu"))


def sigmoid(input: Any) -> Tensor:
    """``1 / (1 + exp(-input))``, without overflow."""
    return _core.sigmoid(as_tensor(input, "sigmoid"))


def tanh(input: Any) -> Tensor:
    return _core.tanh(as_tensor(input, "tanh"))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return _core.leaky_relu(as_tensor(input, "leaky_relu"), negative_slope)


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate="tanh"`` for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _core.gelu(as_tensor(input, "gelu"), approximate=approximate)


def softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable softmax along ``dim``."""
    return _core.softmax(as_tensor(input, "softmax"), axis=dim)


def log_softmax(input: Any, dim: int = -1) -> Tensor:
    """Stable log-softmax along ``dim``."""
    return _core.log_softmax(as_tensor(input, "log_softmax"), axis=dim)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (a view when possible); a dimension
    out of range is an `AxisError`, as PyTorch's IndexError."""
    return _core.flatten(as_tensor(input, "flatten"), start_dim, end_dim)


__all__ = ["linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "batch_norm", "layer_norm", "rms_norm", "dropout", "embedding", "one_hot", "flatten",
           "relu",
           "sigmoid", "tanh", "leaky_relu", "gelu", "softmax", "log_softmax", "mse_loss",
           "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "scaled_dot_product_attention"]
