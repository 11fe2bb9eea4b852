"""Rearranging layers: `PixelShuffle`, `PixelUnshuffle`, `ChannelShuffle` and their functional
forms, as reshapes and permutations (autograd gives the backward).

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.pixel_shuffle(mnp.arange(4.0).reshape(4, 1, 1), 2).tolist()
[[[0.0, 1.0], [2.0, 3.0]]]
>>> F.pixel_unshuffle(F.pixel_shuffle(mnp.ones((2, 8, 3, 3)), 2), 2).shape
(2, 8, 3, 3)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import ArgumentError, ShapeError, Tensor, as_tensor

from .module import Module


def _factor(value: Any, name: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def _at_least_3d(x: Tensor, op: str) -> None:
    if x.ndim < 3:
        raise ShapeError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got "
                         f"shape {x.shape}")


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r) with ``r = upscale_factor``."""
    op = "pixel_shuffle"
    x = as_tensor(input, op=op)
    r = _factor(upscale_factor, "upscale_factor", op)
    _at_least_3d(x, op)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ShapeError(f"{op}: the channel dimension {c} of input {x.shape} must be divisible "
                         f"by upscale_factor squared ({r * r})")
    b = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W) with ``r = downscale_factor``."""
    op = "pixel_unshuffle"
    x = as_tensor(input, op=op)
    r = _factor(downscale_factor, "downscale_factor", op)
    _at_least_3d(x, op)
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ShapeError(f"{op}: the height {h} and width {w} of input {x.shape} must be "
                         f"divisible by downscale_factor {r}")
    b = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Any, groups: int) -> Tensor:
    """(N, C, *) with channels read as (groups, C / groups) and written transposed."""
    op = "channel_shuffle"
    x = as_tensor(input, op=op)
    g = _factor(groups, "groups", op)
    if x.ndim < 3:
        raise ShapeError(f"{op}: expected an input of at least 3 dimensions (N, C, *), got "
                         f"shape {x.shape}")
    n, c, *rest = x.shape
    if c % g:
        raise ShapeError(f"{op}: the {c} channels of input {x.shape} must be divisible by "
                         f"groups {g}")
    return x.reshape(n, g, c // g, *rest).swapaxes(1, 2).reshape(x.shape)


class PixelShuffle(Module):
    """`pixel_shuffle` as a layer."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = _factor(upscale_factor, "upscale_factor", "PixelShuffle")

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)


class PixelUnshuffle(Module):
    """`pixel_unshuffle` as a layer."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = _factor(downscale_factor, "downscale_factor", "PixelUnshuffle")

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)


class ChannelShuffle(Module):
    """`channel_shuffle` as a layer."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = _factor(groups, "groups", "ChannelShuffle")

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)
