"""The distance family: `CosineSimilarity`, `PairwiseDistance` and the functional
`cosine_similarity`, `pairwise_distance`, `normalize`, on core's vector ops (PyTorch's
defaults: vectors along dimension 1 for the cosine and the normalisation, the last one for
the distance).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.normalize(mnp.tensor([[3.0, 4.0]]), dim=1).tolist()
[[0.6000000238418579, 0.800000011920929]]
"""
from __future__ import annotations

from typing import Any

import mnp.core as _core
from mnp.core import Tensor, as_tensor

from ._util import ArgumentError
from .module import Module


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` (broadcast) along ``dim``, each norm
    clamped to at least ``eps``; ``dim`` is removed."""
    return _core.cosine_similarity(x1, x2, axis=dim, eps=eps)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dimension (of the broadcast shape)."""
    a, b = as_tensor(x1, op="pairwise_distance"), as_tensor(x2, op="pairwise_distance")
    diff = a - b + eps
    if diff.ndim == 0:
        raise ArgumentError(f"pairwise_distance: inputs of shapes {a.shape} and {b.shape} hold "
                            f"no vectors (need at least 1 dimension)")
    return _core.vector_norm(diff, p, axis=-1, keepdims=keepdim)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if out is not None:
        raise ArgumentError("normalize: out= is not supported; use the returned tensor")
    return _core.normalize(input, axis=dim, eps=eps, p=p)


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``p``-norm distance of two inputs along the last dimension."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
