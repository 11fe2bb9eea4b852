"""More elementwise losses, as PyTorch defines them: `HuberLoss`, `SmoothL1Loss`, `KLDivLoss`,
`PoissonNLLLoss`, `GaussianNLLLoss`, `SoftMarginLoss`, `MultiLabelSoftMarginLoss` and their
functional forms. Each composes core's differentiable ops (autograd gives the backward, with
PyTorch's gradients at the kinks); ``size_average``/``reduce`` are PyTorch's deprecated pair.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.huber_loss(mnp.tensor([0.0, 3.0]), mnp.tensor([0.5, 0.0]), reduction="none").tolist()
[0.125, 2.5]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import mnp.core as _core
from mnp.core import ShapeError, Tensor, as_tensor

from ._util import ArgumentError, check_reduction, legacy_reduction, reduce_loss
from .activation import logsigmoid
from .losses import _Loss, _buffer, _pair


def _floats(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    x, y = _pair(input, target, op)
    dt = np.result_type(x.dtype, y.dtype)
    if dt.kind != "f":
        dt = _core.get_default_dtype()
    return (x if x.dtype == dt else x.astype(dt)), (y if y.dtype == dt else y.astype(dt))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``, for
    ``d = input - target``; optional elementwise ``weight`` (the input's shape)."""
    op = "huber_loss"
    reduction = check_reduction(reduction, op)
    if delta <= 0:
        raise ArgumentError(f"{op}: delta must be positive, got {delta}")
    x, y = _floats(input, target, op)
    d = x - y
    a = _core.abs(d)
    losses = _core.where(a < delta, d * d * 0.5, (a - 0.5 * delta) * float(delta))
    if weight is not None:
        w = as_tensor(weight, op=op)
        if w.shape != x.shape:
            raise ShapeError(f"{op}: weight of shape {w.shape} does not match input of shape "
                             f"{x.shape}")
        losses = losses * w
    return reduce_loss(losses, reduction)


def smooth_l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``; ``beta=0`` is
    the L1 loss."""
    op = "smooth_l1_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    if beta < 0:
        raise ArgumentError(f"{op}: beta must be non-negative, got {beta}")
    x, y = _floats(input, target, op)
    d = x - y
    a = _core.abs(d)
    if beta == 0:
        return reduce_loss(a, reduction)
    losses = _core.where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta)
    return reduce_loss(losses, reduction)


def kl_div(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target`` (probabilities,
    or log-probabilities with ``log_target``): ``target * (log(target) - input)`` per element
    (0 where ``target`` is 0). ``reduction='batchmean'`` divides the sum by the batch size."""
    op = "kl_div"
    if reduction != "batchmean":
        reduction = legacy_reduction(size_average, reduce, reduction, op)
    x, y = _floats(input, target, op)
    if log_target:
        losses = _core.exp(y) * (y - x)
    else:
        losses = y * _core.log(_core.where(y == 0, 1.0, y)) - y * x
    if reduction == "batchmean":
        total = losses.sum()
        return total / x.shape[0] if x.ndim else total
    return reduce_loss(losses, reduction)


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under a Poisson of rate ``exp(input)``
    (``log_input``) or ``input``: ``exp(input) - target * input`` or
    ``input - target * log(input + eps)``; ``full`` adds the Stirling term where target > 1."""
    op = "poisson_nll_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x, y = _floats(input, target, op)
    losses = _core.exp(x) - y * x if log_input else x - y * _core.log(x + eps)
    if full:
        big = y > 1
        t = _core.where(big, y, 1.0)
        stirling = t * _core.log(t) - t + _core.log(t * (2 * math.pi)) * 0.5
        losses = losses + _core.where(big, stirling, 0.0)
    return reduce_loss(losses, reduction)


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance
    ``var`` (the input's shape, one dimension short, or with one dimension of size 1; or a
    float): ``0.5 * (log(var) + (input - target)**2 / var)``, ``var`` clamped to at least
    ``eps`` (the clamp passes the gradient through, as PyTorch); ``full`` adds
    ``0.5 * log(2 * pi)``."""
    op = "gaussian_nll_loss"
    reduction = check_reduction(reduction, op)
    x, y = _floats(input, target, op)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ArgumentError(f"{op}: var has negative entry/entries ({var})")
        v = _core.full(x.shape, float(var), dtype=x.dtype)
    else:
        v = as_tensor(var, op=op)
        if (v.data < 0).any():
            raise ArgumentError(f"{op}: var has negative entry/entries")
    if v.shape != x.shape:
        if x.shape[:-1] == v.shape:
            v = v.reshape(v.shape + (1,))
        elif not (x.ndim == v.ndim
                  and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ShapeError(f"{op}: var of shape {v.shape} is of incorrect size for input of "
                             f"shape {x.shape}")
    lift = np.maximum(v.data, eps) - v.data          # the clamp, outside autograd
    v = v + Tensor(lift.astype(v.dtype, copy=False))
    d = x - y
    losses = (_core.log(v) + d * d / v) * 0.5
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return reduce_loss(losses, reduction)


def soft_margin_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``, targets +-1."""
    op = "soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x, y = _floats(input, target, op)
    return reduce_loss(_core.log1p(_core.exp(-(x * y))), reduction)


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss of input (N, C) against 0/1 targets (N, C):
    the mean over the C classes of ``-(t * logsigmoid(x) + (1 - t) * logsigmoid(-x))``,
    each class weighted by ``weight`` (C,)."""
    op = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction, op)
    x, y = _floats(input, target, op)
    if x.ndim == 0:
        raise ShapeError(f"{op}: expected an input of at least 1 dimension, got shape {x.shape}")
    losses = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        losses = losses * as_tensor(weight, op=op)
    losses = losses.sum(axis=-1) / x.shape[-1]
    return reduce_loss(losses, reduction)


# -- the modules ---------------------------------------------------------------------------
class HuberLoss(_Loss):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if delta <= 0:
            raise ArgumentError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)


class _LegacyLoss(_Loss):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction, type(self).__name__))


class SmoothL1Loss(_LegacyLoss):
    """Smooth L1: ``0.5 * d**2 / beta`` within ``beta``, else ``|d| - 0.5 * beta``."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ArgumentError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities from a target distribution
    (``reduction='batchmean'`` for the mathematical definition)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False):
        _Loss.__init__(self, "mean")
        self.reduction = reduction if reduction == "batchmean" else \
            legacy_reduction(size_average, reduce, reduction, "KLDivLoss")
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of a Poisson target."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average: Any = None,
                 eps: float = 1e-8, reduce: Any = None, reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction, "PoissonNLLLoss"))
        self.log_input, self.full, self.eps = bool(log_input), bool(full), float(eps)

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of a Gaussian target with predicted mean and variance."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = bool(full), float(eps)

    def forward(self, input: Tensor, target: Tensor, var: Any) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class SoftMarginLoss(_LegacyLoss):
    """Two-class logistic loss ``log(1 + exp(-y * x))``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Multi-label one-versus-all logistic loss, optional per-class ``weight``."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean"):
        super().__init__(legacy_reduction(size_average, reduce, reduction,
                                          "MultiLabelSoftMarginLoss"))
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


LOSSES = {"HuberLoss": HuberLoss, "SmoothL1Loss": SmoothL1Loss, "KLDivLoss": KLDivLoss,
          "PoissonNLLLoss": PoissonNLLLoss, "GaussianNLLLoss": GaussianNLLLoss,
          "SoftMarginLoss": SoftMarginLoss, "MultiLabelSoftMarginLoss": MultiLabelSoftMarginLoss}

__all__ = list(LOSSES) + ["LOSSES", "huber_loss", "smooth_l1_loss", "kl_div", "poisson_nll_loss",
                          "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss"]
