"""Normalisation ops: batch norm (training statistics on the ``batch_norm_*`` kernels, or
running statistics in eval), layer norm (``layer_norm_*`` kernels) and RMS norm
(``rms_norm_*`` kernels)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import Function, ShapeError, Tensor
from mnp.core.dispatch import kernel

from .._util import ArgumentError, as_tensor, check_dtypes, optional_tensor


class BatchNorm(Function):
    """Training-mode batch norm of x (N, C, ...) with batch statistics; when running buffers
    are given they are updated in place (unbiased variance, as PyTorch)."""
    name = "batch_norm"

    def forward(self, x, gamma=None, beta=None, eps=1e-5, running_mean=None, running_var=None,
                momentum=0.1):
        n, c = x.shape[0], x.shape[1]
        x3 = x.reshape(n, c, -1)
        y, mean, invstd = kernel("batch_norm_forward", x.dtype)(x3, gamma, beta, eps)
        self.x3, self.gamma, self.mean, self.invstd = x3, gamma, mean, invstd
        if running_mean is not None:
            count = x3.shape[0] * x3.shape[2]
            var = (1.0 / (invstd.astype(np.float64) ** 2) - eps) * (count / (count - 1))
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean
            running_var *= 1.0 - momentum
            running_var += (momentum * var).astype(running_var.dtype)
        return y.reshape(x.shape)

    def backward(self, g):
        dx, dgamma, dbeta = kernel("batch_norm_backward", g.dtype)(
            g.reshape(self.x3.shape), self.x3, self.gamma, self.mean, self.invstd)
        return dx.reshape(g.shape), dgamma, dbeta


class BatchNormEval(Function):
    """Batch norm with fixed statistics: ``(x - mean) / sqrt(var + eps) * gamma + beta``."""
    name = "batch_norm"

    def forward(self, x, gamma=None, beta=None, eps=1e-5, mean=None, var=None):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = invstd if gamma is None else (invstd * gamma).astype(x.dtype, copy=False)
        shift = -mean * scale if beta is None else (beta - mean * scale).astype(x.dtype, copy=False)
        self.x, self.scale, self.mean, self.invstd, self.shape = x, scale, mean, invstd, shape
        y = x * scale.reshape(shape)
        y += shift.reshape(shape)
        return y

    def backward(self, g):
        need = self.needs_input_grad
        shape = self.shape
        dx = g * self.scale.reshape(shape) if need[0] else None
        dgamma = dbeta = None
        if len(need) > 1:
            axes = (0,) + tuple(range(2, g.ndim))
            dbeta = g.sum(axis=axes)
            xhat = (self.x - self.mean.reshape(shape)) * self.invstd.reshape(shape)
            dgamma = (g * xhat).sum(axis=axes)
        return dx, dgamma, dbeta


def _array(t: Any) -> np.ndarray | None:
    if t is None:
        return None
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation of input (N, C, ...) per channel C.

    ``training=True`` uses the batch statistics and updates ``running_mean``/``running_var``
    in place (when given) with ``momentum``; ``training=False`` uses the running statistics.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> y = F.batch_norm(mnp.randn(8, 3), None, None, training=True)
    >>> [abs(m) < 1e-5 for m in y.data.mean(axis=0).tolist()]
    [True, True, True]
    """
    x = as_tensor(input, "batch_norm")
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    c = x.shape[1]
    w, b = optional_tensor(weight, "batch_norm"), optional_tensor(bias, "batch_norm")
    check_dtypes("batch_norm", x, w, b, half_input=True)
    for name, t in (("weight", w), ("bias", b), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"batch_norm: {name} of shape {tuple(t.shape)} does not fit input of "
                             f"shape {x.shape} with {c} channels")
    if (w is None) != (b is None):
        raise ArgumentError("batch_norm: give both weight and bias, or neither")
    params = (w, b) if w is not None else ()
    rm, rv = _array(running_mean), _array(running_var)     # updated in place when training
    if training:
        if x.size // c <= 1:
            raise ShapeError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        return BatchNorm.apply(x, *params, eps=float(eps), running_mean=rm, running_var=rv,
                               momentum=float(momentum))
    if rm is None or rv is None:
        raise ArgumentError("batch_norm: training=False needs running_mean and running_var")
    return BatchNormEval.apply(x, *params, eps=float(eps), mean=rm.astype(x.dtype, copy=False),
                               var=rv.astype(x.dtype, copy=False))


class LayerNorm(Function):
    name = "layer_norm"

    def forward(self, x, gamma=None, beta=None, ndim=1, eps=1e-5):
        d = math.prod(x.shape[x.ndim - ndim:])
        x2 = x.reshape(-1, d)
        g2 = None if gamma is None else gamma.reshape(d)
        b2 = None if beta is None else beta.reshape(d)
        y, self.mean, self.invstd = kernel("layer_norm_forward", x.dtype)(x2, g2, b2, eps)
        self.x2, self.g2, self.pshape = x2, g2, (None if gamma is None else gamma.shape)
        return y.reshape(x.shape)

    def backward(self, g):
        dx, dgamma, dbeta = kernel("layer_norm_backward", g.dtype)(
            g.reshape(self.x2.shape), self.x2, self.g2, self.mean, self.invstd)
        if dgamma is not None:
            dgamma, dbeta = dgamma.reshape(self.pshape), dbeta.reshape(self.pshape)
        return dx.reshape(g.shape), dgamma, dbeta


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale by ``weight`` and
    shift by ``bias`` (both of ``normalized_shape``, optional)."""
    x = as_tensor(input, "layer_norm")
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    if x.shape[x.ndim - len(ns):] != ns or x.ndim < len(ns):
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end with "
                         f"normalized_shape {ns}")
    w, b = optional_tensor(weight, "layer_norm"), optional_tensor(bias, "layer_norm")
    check_dtypes("layer_norm", x, w, b, half_input=True)
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and t.shape != ns:
            raise ShapeError(f"layer_norm: {name} of shape {t.shape} does not match "
                             f"normalized_shape {ns}")
    if w is None and b is not None:
        w = Tensor(np.ones(ns, x.dtype))
    if w is None:
        return LayerNorm.apply(x, ndim=len(ns), eps=float(eps))
    if b is None:
        return LayerNorm.apply(x, w, ndim=len(ns), eps=float(eps))
    return LayerNorm.apply(x, w, b, ndim=len(ns), eps=float(eps))


class RMSNorm(Function):
    name = "rms_norm"

    def forward(self, x, gamma=None, ndim=1, eps=None):
        d = math.prod(x.shape[x.ndim - ndim:])
        x2 = x.reshape(-1, d)
        g2 = None if gamma is None else gamma.reshape(d)
        if eps is None:
            eps = float(np.finfo(x.dtype).eps)
        y, self.rstd = kernel("rms_norm_forward", x.dtype)(x2, g2, eps)
        self.x2, self.g2, self.pshape = x2, g2, (None if gamma is None else gamma.shape)
        return y.reshape(x.shape)

    def backward(self, g):
        dx, dgamma = kernel("rms_norm_backward", g.dtype)(
            g.reshape(self.x2.shape), self.x2, self.g2, self.rstd)
        if dgamma is not None:
            return dx.reshape(g.shape), dgamma.reshape(self.pshape)
        return dx.reshape(g.shape)


def rms_norm(input: Any, normalized_shape: Any, weight: Any = None,
             eps: float | None = None) -> Tensor:
    """``input / sqrt(mean(input**2) + eps) * weight`` over the trailing ``normalized_shape``
    dimensions; ``eps=None`` is the machine epsilon of the input's dtype (as PyTorch)."""
    x = as_tensor(input, "rms_norm")
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    if x.ndim < len(ns) or x.shape[x.ndim - len(ns):] != ns:
        raise ShapeError(f"rms_norm: input of shape {x.shape} does not end with "
                         f"normalized_shape {ns}")
    w = optional_tensor(weight, "rms_norm")
    if w is not None and w.shape != ns:
        raise ShapeError(f"rms_norm: weight of shape {w.shape} does not match "
                         f"normalized_shape {ns}")
    eps = None if eps is None else float(eps)
    if w is None:
        return RMSNorm.apply(x, ndim=len(ns), eps=eps)
    return RMSNorm.apply(x, w, ndim=len(ns), eps=eps)
