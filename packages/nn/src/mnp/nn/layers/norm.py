"""Normalisation layers: `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`, `RMSNorm`."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import ShapeError, Tensor, get_default_dtype
from mnp.core.autograd import _make

from .._util import ArgumentError, as_tensor, check_dtypes
from ..module import Module
from ..ops.norm import batch_norm, layer_norm, rms_norm
from ..parameter import Parameter


class _BatchNorm(Module):
    ndims: tuple[int, ...] = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.use_bias = bool(bias)
        c, dt = self.num_features, get_default_dtype()
        if self.affine:
            self.weight = Parameter(np.ones(c, dt))
            if bias:
                self.bias = Parameter(np.zeros(c, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
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
        input = as_tensor(input, type(self).__name__)
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
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ArgumentError(f"LayerNorm: normalized_shape must be positive sizes, got "
                                f"{normalized_shape!r}")
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        self.use_bias = bool(bias)
        dt = get_default_dtype()
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Any) -> Tensor:
        input = as_tensor(input, "LayerNorm")
        check_dtypes("LayerNorm", input, self.weight, self.bias, half_input=True)
        ns = self.normalized_shape
        if input.shape[input.ndim - len(ns):] != ns or input.ndim < len(ns):
            raise ShapeError(f"LayerNorm: input of shape {input.shape} does not end with "
                             f"normalized_shape {ns}")
        return layer_norm(input, ns, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.use_bias}")


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
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ArgumentError(f"RMSNorm: normalized_shape must be positive sizes, got "
                                f"{normalized_shape!r}")
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
