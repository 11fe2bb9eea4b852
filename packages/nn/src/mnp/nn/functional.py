"""`mnp.nn.functional`: the layers and losses as plain functions (PyTorch's names and arguments).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> x = mnp.randn(4, 3)
>>> F.softmax(F.linear(x, mnp.ones((2, 3))), dim=-1).shape
(4, 2)
"""
from __future__ import annotations

from .activation import (celu, elu, gelu, glu, hardsigmoid, hardswish, hardtanh, leaky_relu,
                         log_softmax, logsigmoid, mish, prelu, relu, relu6, selu, sigmoid, silu,
                         softmax, softmin, softplus, softsign, tanh, threshold)
from .attention import scaled_dot_product_attention
from .conv import conv1d, conv2d
from .conv3d import conv3d
from .conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .fold import fold, unfold
from .dropout import (alpha_dropout, dropout, dropout1d, dropout2d, dropout3d,
                      feature_alpha_dropout)
from .embedding import embedding, one_hot
from .flatten import flatten
from .linear import linear
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     l1_loss, mse_loss, nll_loss)
from .losses_regression import (gaussian_nll_loss, huber_loss, kl_div, multilabel_soft_margin_loss,
                                poisson_nll_loss, smooth_l1_loss, soft_margin_loss)
from .losses_margin import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                            multi_margin_loss, triplet_margin_loss)
from .ctc import ctc_loss
from .distance import cosine_similarity, normalize, pairwise_distance
from .instance_norm import instance_norm
from .local_response_norm import local_response_norm
from .padding import pad
from .norm import batch_norm, group_norm, layer_norm, rms_norm
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .pool3d import avg_pool3d, max_pool3d
from .adaptive_pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                            adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from .lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from .unpool import max_unpool1d, max_unpool2d, max_unpool3d
from .upsample import interpolate, upsample, upsample_bilinear, upsample_nearest
from .shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle

__all__ = ["linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "max_pool3d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d", "interpolate", "upsample", "upsample_nearest",
           "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle",
           "batch_norm", "layer_norm", "group_norm", "rms_norm", "dropout", "embedding", "one_hot", "flatten",
           "relu",
           "sigmoid", "tanh", "leaky_relu", "gelu", "softmax", "log_softmax", "mse_loss",
           "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "scaled_dot_product_attention",
           "silu", "mish", "elu", "selu", "celu", "softplus", "softsign", "hardswish",
           "hardsigmoid", "hardtanh", "relu6", "logsigmoid", "prelu", "glu", "softmin",
           "threshold", "huber_loss", "smooth_l1_loss", "kl_div", "poisson_nll_loss",
           "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
           "multi_margin_loss", "triplet_margin_loss", "cosine_similarity", "normalize",
           "pairwise_distance", "instance_norm", "local_response_norm",
           "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "ctc_loss"]
__all__ += ["pad", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
            "unfold", "fold"]
