"""The dropout family: `Dropout`, `Dropout1d`, `Dropout2d`, `Dropout3d` (whole channels),
`AlphaDropout`, `FeatureAlphaDropout` (keeping SELU's mean and variance), their node
`DropoutFunction` (the ``mul`` kernel with a drawn mask) and their functional forms."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import Function, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._util import ArgumentError, ShapeError
from .module import Module


class DropoutFunction(Function):
    name = "dropout"

    def forward(self, x, mask=None):
        self.mask = mask
        if x.dtype != mask.dtype:          # an integer input: numpy's promotion
            x = x.astype(np.result_type(x, mask))
        return kernel("mul", x.dtype)(x, mask)

    def backward(self, g):
        return kernel("mul", g.dtype)(g, self.mask)


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: p must be in [0, 1], got {p}")


def _keep(shape: tuple, p: float, dt: np.dtype) -> np.ndarray:
    """A 0/1 mask of ``shape`` in ``dt``, each element kept with probability ``1 - p``."""
    draw = mnp.generator().random(shape, dtype=np.float64 if dt == np.float64 else np.float32)
    return (draw >= p).astype(dt)


def _float_dtype(x: Tensor) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


def _feature_dropout(x: Tensor, p: float, op: str) -> Tensor:
    """Zero each (sample, channel) of x (N, C, ...) with probability ``p``, scale the rest
    by ``1 / (1 - p)``."""
    dt = _float_dtype(x)
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    mask = np.zeros(shape, dt) if p == 1.0 else \
        np.multiply(_keep(shape, p, dt), 1.0 / (1.0 - p), dtype=dt)
    return DropoutFunction.apply(x, mask=mask)


def _channel_dropout(input: Any, p: float, training: bool, op: str, ndims: tuple[int, ...],
                     unbatched: int | None) -> Tensor:
    """`_feature_dropout` of an input of one of ``ndims`` dimensions, (N, C, ...) or, with
    ``unbatched`` dimensions, (C, ...)."""
    _check_p(p, op)
    x = as_tensor(input, op=op)
    if x.ndim not in ndims:
        raise ShapeError(f"{op}: expected a {' or '.join(f'{d}-d' for d in ndims)} input, got "
                         f"shape {x.shape}")
    if not training or p == 0.0 or x.numel() == 0:
        return x
    if x.ndim == unbatched:
        return _feature_dropout(x.reshape((1,) + x.shape), p, op).reshape(x.shape)
    return _feature_dropout(x, p, op)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of input (N, C, L) or (C, L) with probability ``p``, scaling the
    rest by ``1 / (1 - p)``."""
    return _channel_dropout(input, p, training, "dropout1d", (2, 3), 2)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of input (N, C, H, W) with probability ``p``, scaling the rest by
    ``1 / (1 - p)``; a 3-d input is taken as (N, C, L), as PyTorch does."""
    return _channel_dropout(input, p, training, "dropout2d", (3, 4), None)


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of input (N, C, D, H, W) or (C, D, H, W) with probability ``p``,
    scaling the rest by ``1 / (1 - p)``."""
    return _channel_dropout(input, p, training, "dropout3d", (4, 5), 4)


#: ``-SELU_SCALE * SELU_ALPHA``: SELU's negative saturation value, negated
ALPHA_PRIME = 1.7580993408473766


def _alpha_dropout(input: Any, p: float, training: bool, op: str, feature: bool) -> Tensor:
    _check_p(p, op)
    x = as_tensor(input, op=op)
    if feature and x.ndim < 2:
        raise ShapeError(f"{op}: expected an input (N, C, ...) of at least 2 dimensions, got "
                         f"shape {x.shape}")
    if not training or p == 0.0 or x.numel() == 0:
        return x
    dt = _float_dtype(x)
    if p == 1.0:
        return DropoutFunction.apply(x, mask=np.zeros((), dt))
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
    keep = _keep(shape, p, dt)
    a = 1.0 / math.sqrt((ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    shift = ((keep - 1) * (ALPHA_PRIME * a) + ALPHA_PRIME * a * p).astype(dt)
    return DropoutFunction.apply(x, mask=(keep * a).astype(dt)) + Tensor(shift)


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: each element is set with probability ``p`` to SELU's
    saturation value, then all are scaled and shifted to keep zero mean and unit variance."""
    return _alpha_dropout(input, p, training, "alpha_dropout", False)


def feature_alpha_dropout(input: Any, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """`alpha_dropout` of whole channels of input (N, C, ...)."""
    return _alpha_dropout(input, p, training, "feature_alpha_dropout", True)


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity when not ``training``. Draws from mnp's generator, so
    `mnp.core.manual_seed` makes it reproducible."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(input, op="dropout")
    if not training or p == 0.0:
        return x
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(x.shape, dt)
    else:
        keep = mnp.generator().random(x.shape, dtype=np.float32 if dt != np.float64 else np.float64) >= p
        mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=dt)
    return DropoutFunction.apply(x, mask=mask)


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training; the identity in eval mode.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Dropout(0.5).eval()(mnp.ones(4)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p, self.inplace = float(p), inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Channel dropout of (N, C, L) or (C, L) input in training; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """Channel dropout of (N, C, H, W) input in training; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training)


class Dropout3d(Dropout):
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W) input in training."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout3d(input, self.p, self.training)


class AlphaDropout(Dropout):
    """`alpha_dropout` in training (for SELU networks); the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """`feature_alpha_dropout` in training; the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        return feature_alpha_dropout(input, self.p, self.training)
