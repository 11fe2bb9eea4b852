"""Instance normalisation: `InstanceNorm1d`, `InstanceNorm2d`, `InstanceNorm3d` and
`instance_norm`. Each (sample, channel) is normalised over its spatial positions: group norm
with a group per channel (its autograd node and kernels), or, with running statistics and
``use_input_stats=False``, batch norm's eval node.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> nn.InstanceNorm1d(3, affine=True)
InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=False)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import ShapeError, Tensor, as_tensor
from mnp.core.devices import check_device
from mnp.core.dtypes import to_dtype

from ._util import ArgumentError, apply_kernel
from .norm import _BatchNorm, _array, _update, batch_norm, group_norm


def _update_running(x: np.ndarray, running_mean: np.ndarray | None,
                    running_var: np.ndarray | None, momentum: float) -> None:
    """Blend the mean over the batch of each instance's mean and unbiased variance into the
    running buffers (in place), as PyTorch."""
    n, c = x.shape[0], x.shape[1]
    flat = x.reshape(n, c, -1).astype(np.float64)
    count = flat.shape[2]
    if running_mean is not None:
        mean = flat.mean(axis=2).mean(axis=0)
        _update(running_mean, momentum, apply_kernel("mul", momentum, mean))
    if running_var is not None:
        var = flat.var(axis=2, ddof=1 if count > 1 else 0).mean(axis=0)
        _update(running_var, momentum, apply_kernel("mul", momentum, var))


def instance_norm(input: Any, running_mean: Any = None, running_var: Any = None,
                  weight: Any = None, bias: Any = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of input (N, C, ...) over its spatial positions,
    then scale by ``weight`` and shift by ``bias`` (both (C,), optional). With
    ``use_input_stats`` the running buffers (when given) are updated in place; without it
    they normalise instead.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> y = F.instance_norm(mnp.randn(2, 3, 8))
    >>> [abs(m) < 1e-5 for m in y.data.mean(axis=2).reshape(-1).tolist()]
    [True, True, True, True, True, True]
    """
    x = as_tensor(input, op="instance_norm")
    if x.ndim < 2:
        raise ShapeError(f"instance_norm: expected an input (N, C, ...) of at least 2 "
                         f"dimensions, got shape {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"instance_norm: {name} of shape {tuple(t.shape)} does not fit "
                             f"input of shape {x.shape} with {c} channels")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ArgumentError("instance_norm: use_input_stats=False needs running_mean and "
                                "running_var")
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(x.shape[2:]) == 1:
        raise ShapeError(f"instance_norm: expected more than 1 spatial element when using "
                         f"input statistics, got input of shape {x.shape}")
    y = group_norm(x, c, weight, bias, eps)
    if (running_mean is not None or running_var is not None) and x.numel():
        _update_running(x.data, _array(running_mean), _array(running_var), float(momentum))
    return y


class _InstanceNorm(_BatchNorm):
    ndims: tuple[int, ...] = (2, 3)          # unbatched, batched

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True):
        name = type(self).__name__
        if device is not None:
            check_device(device, name)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)
        if dtype is not None:
            self.to(to_dtype(dtype, op=name))

    def forward(self, input: Any) -> Tensor:
        name = type(self).__name__
        x = as_tensor(input, op=name)
        if x.ndim not in self.ndims:
            raise ShapeError(f"{name}: expected a {self.ndims[0]}-d (unbatched) or "
                             f"{self.ndims[1]}-d input, got shape {x.shape}")
        unbatched = x.ndim == self.ndims[0]
        channels = x.shape[0 if unbatched else 1]
        if channels != self.num_features and (self.affine or self.track_running_stats):
            raise ShapeError(f"{name}: input of shape {x.shape} has {channels} channels, "
                             f"expected num_features={self.num_features}")
        if unbatched:
            x = x.reshape((1,) + x.shape)
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y.reshape(y.shape[1:]) if unbatched else y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or unbatched (C, L) input; ``affine`` (off by default) adds
    a learnt per-channel scale and shift, ``track_running_stats`` running statistics used in
    eval mode."""
    ndims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or unbatched (C, H, W) input."""
    ndims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    ndims = (4, 5)
