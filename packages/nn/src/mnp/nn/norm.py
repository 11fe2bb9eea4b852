"""The normalisation family: `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`, `GroupNorm`, `RMSNorm`,
their autograd nodes, the functional `batch_norm`, `layer_norm`, `group_norm`, `rms_norm` and
the ``numpy`` reference kernels.

Batch norm trains on the ``batch_norm_*`` kernels (or uses running statistics in eval), layer
norm runs on ``layer_norm_*``, RMS norm on ``rms_norm_*``. Group norm runs on ``layer_norm_*``
over the (N * G, C / G * spatial) view, then a per-channel scale and shift. The kernels:

``batch_norm_forward(x, gamma, beta, eps)``: x (N, C, M); statistics per channel over N and
M; returns ``(y, mean, invstd)`` with ``invstd = 1 / sqrt(var + eps)`` (biased variance).
``layer_norm_forward(x, gamma, beta, eps)``: x (B, D); statistics per row. ``gamma`` and
``beta`` may be None (no affine transform); then the backward's ``dgamma``/``dbeta`` are None.
``rms_norm_forward(x, gamma, eps)``: x (B, D); root mean square per row, no centring.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import Function, ShapeError, Tensor, as_tensor, get_default_dtype
from mnp.core.autograd import _make
from mnp.core.devices import check_device
from mnp.core.dtypes import to_dtype
from mnp.core.dispatch import kernel

from ._util import ArgumentError, apply_kernel, check_dtypes, optional_tensor
from .module import Module
from .parameter import Parameter


# -- numpy reference kernels ----------------------------------------------------------------
def _shift(first: np.ndarray) -> np.ndarray:
    """The shift for a mean: the first element where finite, else 0. The mean of x - shift,
    plus the shift, is exact for constant data (no cancellation when |mean| >> spread)."""
    return np.where(np.isfinite(first), first, 0).astype(first.dtype, copy=False)


def batch_norm_forward(x: np.ndarray, gamma, beta, eps: float):
    """Normalise each channel of x (N, C, M) with its batch statistics -> ``(y, mean, invstd)``."""
    n, c, m = x.shape
    count = n * m
    s = _shift(x[0, :, 0])
    mean = s + (x - s[:, None]).sum(axis=(0, 2)) / count
    xc = x - mean[:, None]
    var = np.einsum("ncm,ncm->c", xc, xc) / count
    invstd = 1.0 / np.sqrt(var + eps)
    scale = invstd if gamma is None else invstd * gamma
    y = np.multiply(xc, scale[:, None], out=xc)
    if beta is not None:
        y += beta[:, None]
    return y, mean.astype(x.dtype, copy=False), invstd.astype(x.dtype, copy=False)


def batch_norm_backward(g: np.ndarray, x: np.ndarray, gamma, mean: np.ndarray, invstd: np.ndarray):
    """``(dx, dgamma, dbeta)`` of `batch_norm_forward` (training mode)."""
    n, c, m = x.shape
    count = n * m
    sg = g.sum(axis=(0, 2))                                          # dbeta
    sgx = np.einsum("ncm,ncm->c", g, x) - mean * sg                  # sum g * (x - mean)
    k1 = invstd if gamma is None else invstd * gamma
    k2 = -k1 * invstd * invstd * sgx / count
    k3 = -k1 * sg / count - k2 * mean
    dx = g * k1[:, None]
    dx += x * k2[:, None]
    dx += k3[:, None]
    dgamma = None if gamma is None else (sgx * invstd).astype(g.dtype, copy=False)
    dbeta = None if gamma is None else sg
    return dx, dgamma, dbeta


def layer_norm_forward(x: np.ndarray, gamma, beta, eps: float):
    """Normalise each row of x (B, D) -> ``(y, mean, invstd)`` with mean, invstd of shape (B,)."""
    d = x.shape[1]
    s = _shift(x[:, 0])
    mean = s + (x - s[:, None]).sum(axis=1) / d
    xc = x - mean[:, None]
    var = np.einsum("bd,bd->b", xc, xc) / d
    invstd = 1.0 / np.sqrt(var + eps)
    y = np.multiply(xc, invstd[:, None], out=xc)
    if gamma is not None:
        y *= gamma
    if beta is not None:
        y += beta
    return y, mean.astype(x.dtype, copy=False), invstd.astype(x.dtype, copy=False)


def layer_norm_backward(g: np.ndarray, x: np.ndarray, gamma, mean: np.ndarray, invstd: np.ndarray):
    """``(dx, dgamma, dbeta)`` of `layer_norm_forward`."""
    d = x.shape[1]
    xhat = (x - mean[:, None]) * invstd[:, None]
    dgamma = dbeta = None
    if gamma is not None:
        dgamma = np.einsum("bd,bd->d", g, xhat)
        dbeta = g.sum(axis=0)
        gx = g * gamma
    else:
        gx = g
    a = gx.sum(axis=1, keepdims=True) / d
    b = np.einsum("bd,bd->b", gx, xhat)[:, None] / d
    dx = gx - a
    dx -= xhat * b
    dx *= invstd[:, None]
    return dx, dgamma, dbeta


def rms_norm_forward(x: np.ndarray, gamma, eps: float):
    """``x / sqrt(mean(x**2) + eps) * gamma`` for each row of x (B, D) -> ``(y, rstd)``,
    ``rstd`` (B,) the reciprocal root mean square; ``gamma`` may be None."""
    d = x.shape[1]
    ms = np.einsum("bd,bd->b", x, x) / d
    rstd = (1.0 / np.sqrt(ms + eps)).astype(x.dtype, copy=False)
    y = x * rstd[:, None]
    if gamma is not None:
        y *= gamma
    return y, rstd


def rms_norm_backward(g: np.ndarray, x: np.ndarray, gamma, rstd: np.ndarray):
    """``(dx, dgamma)`` of `rms_norm_forward` (``dgamma`` None without ``gamma``)."""
    d = x.shape[1]
    xhat = x * rstd[:, None]
    dgamma = None if gamma is None else np.einsum("bd,bd->d", g, xhat)
    gx = g if gamma is None else g * gamma
    b = np.einsum("bd,bd->b", gx, xhat)[:, None] / d
    dx = gx - xhat * b
    dx *= rstd[:, None]
    return dx, dgamma


KERNELS = {"batch_norm_forward": batch_norm_forward, "batch_norm_backward": batch_norm_backward,
           "layer_norm_forward": layer_norm_forward, "layer_norm_backward": layer_norm_backward,
           "rms_norm_forward": rms_norm_forward, "rms_norm_backward": rms_norm_backward}


# -- the autograd nodes and the functional forms ----------------------------------------
def _update(buffer: np.ndarray, momentum: float, step: np.ndarray) -> None:
    """``buffer = (1 - momentum) * buffer + step`` in place (``step`` is momentum * value)."""
    kept = apply_kernel("mul", buffer, np.asarray(1.0 - momentum, buffer.dtype))
    buffer[...] = apply_kernel("add", kept, step.astype(buffer.dtype, copy=False))


class BatchNormFunction(Function):
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
            i64 = invstd.astype(np.float64)
            var = apply_kernel("sub", apply_kernel("div", 1.0, apply_kernel("mul", i64, i64)), eps)
            var = apply_kernel("mul", var, count / (count - 1))     # unbiased
            _update(running_mean, momentum, apply_kernel("mul", momentum, mean))
            _update(running_var, momentum, apply_kernel("mul", momentum, var))
        return y.reshape(x.shape)

    def backward(self, g):
        dx, dgamma, dbeta = kernel("batch_norm_backward", g.dtype)(
            g.reshape(self.x3.shape), self.x3, self.gamma, self.mean, self.invstd)
        return dx.reshape(g.shape), dgamma, dbeta


class BatchNormEvalFunction(Function):
    """Batch norm with fixed statistics: ``(x - mean) / sqrt(var + eps) * gamma + beta``."""
    name = "batch_norm"

    def forward(self, x, gamma=None, beta=None, eps=1e-5, mean=None, var=None):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        k = apply_kernel
        invstd = k("div", 1.0, k("sqrt", k("add", var, eps))).astype(x.dtype, copy=False)
        scale = invstd if gamma is None else k("mul", invstd, gamma).astype(x.dtype, copy=False)
        shift = k("mul", k("neg", mean), scale) if beta is None else \
            k("sub", beta, k("mul", mean, scale)).astype(x.dtype, copy=False)
        self.x, self.scale, self.mean, self.invstd, self.shape = x, scale, mean, invstd, shape
        return k("add", k("mul", x, scale.reshape(shape)), shift.reshape(shape))

    def backward(self, g):
        need = self.needs_input_grad
        shape = self.shape
        k = apply_kernel
        dx = k("mul", g, self.scale.reshape(shape)) if need[0] else None
        dgamma = dbeta = None
        if len(need) > 1:
            axes = (0,) + tuple(range(2, g.ndim))
            total = kernel("sum", g.dtype)
            dbeta = total(g, axes, False)
            xhat = k("mul", k("sub", self.x, self.mean.reshape(shape)), self.invstd.reshape(shape))
            dgamma = total(k("mul", g, xhat), axes, False)
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
    x = as_tensor(input, op="batch_norm")
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
        if x.numel() // c <= 1:
            raise ShapeError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        return BatchNormFunction.apply(x, *params, eps=float(eps), running_mean=rm,
                                       running_var=rv, momentum=float(momentum))
    if rm is None or rv is None:
        raise ArgumentError("batch_norm: training=False needs running_mean and running_var")
    return BatchNormEvalFunction.apply(x, *params, eps=float(eps),
                                       mean=rm.astype(x.dtype, copy=False),
                                       var=rv.astype(x.dtype, copy=False))


class LayerNormFunction(Function):
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


def _normalized_shape(value: Any, op: str, check: bool = False) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of ints) as a tuple; with ``check``, an
    `ArgumentError` naming ``op`` unless every size is positive."""
    if isinstance(value, (int, np.integer)):
        value = (int(value),)
    shape = tuple(int(s) for s in value)
    if check and (not shape or min(shape) < 1):
        raise ArgumentError(f"{op}: normalized_shape must be positive sizes, got {value!r}")
    return shape


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale by ``weight`` and
    shift by ``bias`` (both of ``normalized_shape``, optional)."""
    x = as_tensor(input, op="layer_norm")
    ns = _normalized_shape(normalized_shape, "layer_norm")
    _check_input("layer_norm", x, ns)
    w, b = optional_tensor(weight, "layer_norm"), optional_tensor(bias, "layer_norm")
    check_dtypes("layer_norm", x, w, b, half_input=True)
    _check_affine(ns, w, b)
    return _layer_norm(x, ns, w, b, float(eps))


def _check_input(op: str, x: Tensor, ns: tuple[int, ...]) -> None:
    if x.shape[x.ndim - len(ns):] != ns or x.ndim < len(ns):
        raise ShapeError(f"{op}: input of shape {x.shape} does not end with "
                         f"normalized_shape {ns}")


def _check_affine(ns: tuple[int, ...], w: Tensor | None, b: Tensor | None) -> None:
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and t.shape != ns:
            raise ShapeError(f"layer_norm: {name} of shape {t.shape} does not match "
                             f"normalized_shape {ns}")


def _layer_norm(x: Tensor, ns: tuple[int, ...], w: Tensor | None, b: Tensor | None,
                eps: float) -> Tensor:
    """`LayerNormFunction` on checked arguments (a bias without weight gets unit weights)."""
    if w is None and b is not None:
        w = Tensor(np.ones(ns, x.dtype))
    if w is None:
        return LayerNormFunction.apply(x, ndim=len(ns), eps=eps)
    if b is None:
        return LayerNormFunction.apply(x, w, ndim=len(ns), eps=eps)
    return LayerNormFunction.apply(x, w, b, ndim=len(ns), eps=eps)


def _affine_parameters(module: Module, shape: Any, dtype: Any, affine: bool, bias: bool) -> None:
    """Register a norm layer's ``weight`` (ones) and ``bias`` (zeros) of ``shape``; each is
    None where ``affine`` (or, for the bias, ``bias``) is off."""
    module.register_parameter("weight", Parameter(np.ones(shape, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dtype)) if affine and bias
                              else None)


class GroupNormFunction(Function):
    """Group norm of x (N, C, ...): `layer_norm_forward` without affine over each of the
    N * G groups, then ``y = xhat * gamma + beta`` per channel."""
    name = "group_norm"

    def forward(self, x, gamma=None, beta=None, num_groups=1, eps=1e-5):
        n, c = x.shape[0], x.shape[1]
        x2 = x.reshape(n * num_groups, c // num_groups * math.prod(x.shape[2:]))
        self.pdtype = None if gamma is None else gamma.dtype      # float32 for a float16 x
        if gamma is not None:
            gamma = gamma.astype(x.dtype, copy=False)
        if beta is not None:
            beta = beta.astype(x.dtype, copy=False)
        self.x2, self.gamma = x2, gamma
        if x2.size:
            xhat, self.mean, self.invstd = kernel("layer_norm_forward", x.dtype)(x2, None, None,
                                                                                 eps)
        else:                                           # an empty batch or spatial size
            xhat = x2.copy()
        self.xhat3 = xhat.reshape(n, c, math.prod(x.shape[2:]))
        y = self.xhat3
        if gamma is not None:
            y = apply_kernel("mul", y, gamma.reshape(c, 1))
        if beta is not None:
            y = apply_kernel("add", y, beta.reshape(c, 1))
        return y.reshape(x.shape)

    def backward(self, g):
        g3 = g.reshape(self.xhat3.shape)
        dgamma = dbeta = None
        gx = g3
        if self.gamma is not None:
            pdt, total = self.pdtype, kernel("sum", self.pdtype)
            gp = g3.astype(pdt, copy=False)
            dgamma = total(apply_kernel("mul", gp, self.xhat3.astype(pdt, copy=False)), (0, 2),
                           False)
            dbeta = total(gp, (0, 2), False)
            gx = apply_kernel("mul", g3, self.gamma.reshape(-1, 1))
        if gx.size:
            dx, _, _ = kernel("layer_norm_backward", g.dtype)(
                gx.reshape(self.x2.shape), self.x2, None, self.mean, self.invstd)
        else:
            dx = gx
        grads = (dx.reshape(g.shape), dgamma, dbeta)[:len(self.needs_input_grad)]
        return grads if len(grads) > 1 else grads[0]


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise input (N, C, ...) over each of ``num_groups`` groups of C / num_groups
    channels (and all spatial positions), then scale by ``weight`` and shift by ``bias``
    (both (C,), optional).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> y = F.group_norm(mnp.randn(2, 4, 5), 2)
    >>> [abs(m) < 1e-5 for m in y.data.reshape(4, 10).mean(axis=1).tolist()]
    [True, True, True, True]
    """
    x = as_tensor(input, op="group_norm")
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    c, groups = x.shape[1], int(num_groups)
    if groups < 1 or c % groups:
        raise ShapeError(f"group_norm: num_channels={c} of input shape {x.shape} is not "
                         f"divisible by num_groups={num_groups}")
    w, b = optional_tensor(weight, "group_norm"), optional_tensor(bias, "group_norm")
    check_dtypes("group_norm", x, w, b, half_input=True)
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and t.shape != (c,):
            raise ShapeError(f"group_norm: {name} of shape {t.shape} does not fit input of "
                             f"shape {x.shape} with {c} channels")
    if w is None and b is not None:
        w = Tensor(np.ones(c, b.dtype))
    params = () if w is None else (w,) if b is None else (w, b)
    return GroupNormFunction.apply(x, *params, num_groups=groups, eps=float(eps))


class RMSNormFunction(Function):
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
    x = as_tensor(input, op="rms_norm")
    ns = _normalized_shape(normalized_shape, "rms_norm")
    if x.ndim < len(ns) or x.shape[x.ndim - len(ns):] != ns:
        raise ShapeError(f"rms_norm: input of shape {x.shape} does not end with "
                         f"normalized_shape {ns}")
    w = optional_tensor(weight, "rms_norm")
    if w is not None and w.shape != ns:
        raise ShapeError(f"rms_norm: weight of shape {w.shape} does not match "
                         f"normalized_shape {ns}")
    eps = None if eps is None else float(eps)
    if w is None:
        return RMSNormFunction.apply(x, ndim=len(ns), eps=eps)
    return RMSNormFunction.apply(x, w, ndim=len(ns), eps=eps)


# -- the layers ----------------------------------------------------------------------------
class _BatchNorm(Module):
    ndims: tuple[int, ...] = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.use_bias = bool(bias)
        c, dt = self.num_features, get_default_dtype()
        _affine_parameters(self, c, dt, self.affine, bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", _make(np.zeros(c, dt), False, None))
            self.register_buffer("running_var", _make(np.ones(c, dt), False, None))
            self.register_buffer("num_batches_tracked", _make(np.zeros((), np.int64), False, None))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, input: Any) -> Tensor:
        input = as_tensor(input, op=type(self).__name__)
        check_dtypes(type(self).__name__, input, self.weight, self.bias, half_input=True)
        shape = input.shape
        if len(shape) not in self.ndims or shape[1] != self.num_features:
            dims = " or ".join(f"{d}-d" for d in self.ndims)
            raise ShapeError(f"{type(self).__name__}: input of shape {shape} does not fit "
                             f"num_features={self.num_features}: expected a {dims} input with "
                             f"{self.num_features} channels in dimension 1")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:          # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        return batch_norm(input, self.running_mean if update or not use_batch else None,
                          self.running_var if update or not use_batch else None,
                          self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) per channel; running statistics (unbiased variance)
    in training, used in eval mode.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> _ = bn(mnp.randn(16, 3))
    >>> int(bn.num_batches_tracked.item())
    1
    """
    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) per channel."""
    ndims = (4,)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dimensions, with a learnt elementwise
    scale and shift (``elementwise_affine``; ``bias=False`` drops the shift)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm", check=True)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        self.use_bias = bool(bias)
        dt = get_default_dtype()
        _affine_parameters(self, self.normalized_shape, dt, self.elementwise_affine, bias)

    def forward(self, input: Any) -> Tensor:
        input = as_tensor(input, op="LayerNorm")
        check_dtypes("LayerNorm", input, self.weight, self.bias, half_input=True)
        ns = self.normalized_shape
        _check_input("LayerNorm", input, ns)
        _check_affine(ns, self.weight, self.bias)      # parameters may have been reassigned
        return _layer_norm(input, ns, self.weight, self.bias, float(self.eps))

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


class GroupNorm(Module):
    """Group normalisation of input (N, C, ...): the C channels in ``num_groups`` groups, each
    normalised over its channels and spatial positions, then a learnt per-channel scale and
    shift (``affine``; ``bias=False`` drops the shift), as PyTorch.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.GroupNorm(2, 4)
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    >>> nn.GroupNorm(2, 4)(mnp.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True):
        super().__init__()
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        if self.num_groups < 1 or self.num_channels % self.num_groups:
            raise ArgumentError(f"GroupNorm: num_channels={num_channels} is not divisible by "
                                f"num_groups={num_groups}")
        self.eps, self.affine, self.use_bias = float(eps), bool(affine), bool(bias)
        if device is not None:
            check_device(device, "GroupNorm")
        dt = get_default_dtype() if dtype is None else to_dtype(dtype, op="GroupNorm")
        _affine_parameters(self, self.num_channels, dt, self.affine, self.use_bias)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, input: Any) -> Tensor:
        input = as_tensor(input, op="GroupNorm")
        check_dtypes("GroupNorm", input, self.weight, self.bias, half_input=True)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: input of shape {input.shape} does not fit "
                             f"num_channels={self.num_channels}: expected (N, "
                             f"{self.num_channels}, ...)")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions,
    ``x / sqrt(mean(x**2) + eps) * weight`` (no centring, no bias); ``eps=None`` uses the
    machine epsilon of the input's dtype, as PyTorch.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> y = nn.RMSNorm(4)(mnp.full((2, 4), 3.0))
    >>> [round(v, 4) for v in y[0].tolist()]
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape, "RMSNorm", check=True)
        self.eps = None if eps is None else float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, get_default_dtype()))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.data[...] = 1

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
