"""`mnp.nn.functional`: the layers and losses as plain functions (PyTorch's names and arguments).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> x = mnp.randn(4, 3)
>>> F.softmax(F.linear(x, mnp.ones((2, 3))), dim=-1).shape
(4, 2)
"""
from __future__ import annotations

from .activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from .attention import scaled_dot_product_attention
from .conv import conv1d, conv2d
from .conv3d import conv3d
from .conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .fold import fold, unfold
from .dropout import dropout
from .embedding import embedding, one_hot
from .flatten import flatten
from .linear import linear
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     l1_loss, mse_loss, nll_loss)
from .padding import pad
from .norm import batch_norm, group_norm, layer_norm, rms_norm
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = ["linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "batch_norm", "layer_norm", "group_norm", "rms_norm", "dropout", "embedding", "one_hot", "flatten",
           "relu",
           "sigmoid", "tanh", "leaky_relu", "gelu", "softmax", "log_softmax", "mse_loss",
           "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "scaled_dot_product_attention"]
__all__ += ["pad", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
            "unfold", "fold"]
