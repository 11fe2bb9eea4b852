"""Resampling: `interpolate` (modes ``nearest``, ``nearest-exact``, ``linear``, ``bilinear``,
``bicubic``, ``trilinear``, ``area``) and the layers `Upsample`, `UpsamplingNearest2d`,
`UpsamplingBilinear2d`, with PyTorch's arguments, errors and coordinate rules.

Every mode but ``area`` (adaptive average pooling) is separable: each spatial axis, the last
first, is resampled by gathering 1, 2 or 4 source positions per output position and summing
them with per-position weights. The gathers and sums are autograd ops, so the backward
(a scatter-add of the weighted gradients) is theirs. Source positions follow PyTorch's CPU
kernels, computed in the input's float precision:

* ``scale`` is ``(in - 1) / (out - 1)`` with ``align_corners=True``, else ``1 / scale_factor``
  when a scale factor is passed (and not recomputed), else ``in / out``;
* linear and cubic modes sample at ``scale * i`` (``align_corners=True``) or at the
  half-pixel centre ``scale * (i + 0.5) - 0.5`` (clamped at 0 for linear); an axis whose size
  does not change is copied;
* ``nearest`` takes ``floor(scale * i)``, ``nearest-exact`` ``floor(scale * (i + 0.5))``
  (both capped at ``in - 1``); PyTorch's 2-d ``nearest`` kernel alone copies an axis whose
  size does not change and takes ``i // 2`` for an axis that doubles, whatever the scale.
  (PyTorch's 1-d and 3-d ``nearest`` backward takes those shortcuts where its forward does
  not; here the backward is always the forward's adjoint.)

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.interpolate(mnp.tensor([[[0.0, 1.0]]]), scale_factor=2, mode="linear").tolist()
[[[0.0, 0.25, 0.75, 1.0]]]
>>> F.interpolate(mnp.tensor([[[0.0, 1.0]]]), size=3, mode="linear", align_corners=True).tolist()
[[[0.0, 0.5, 1.0]]]
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from mnp.core import ArgumentError, ShapeError, Tensor, as_tensor
from mnp.core import tensor as _tensor

from .adaptive_pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
from .module import Module

MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
#: the number of spatial dimensions each interpolating mode takes
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_CUBIC_A = -0.75


def _opmath(dtype: np.dtype) -> type:
    """The float type PyTorch computes source positions in for inputs of ``dtype``."""
    return np.float64 if dtype == np.float64 else np.float32


def _scale(size: int, out: int, align_corners: bool, scale: float | None, ft: type):
    if align_corners:
        return ft(size - 1) / ft(out - 1) if out > 1 else ft(0)
    return ft(1.0 / scale) if scale is not None and scale > 0 else ft(size) / ft(out)


def _source(size: int, out: int, align_corners: bool, scale: float | None, ft: type,
            cubic: bool = False) -> np.ndarray:
    """The (fractional) source position of each output position."""
    r = _scale(size, out, align_corners, scale, ft)
    i = np.arange(out).astype(ft)
    if align_corners:
        return r * i
    src = r * (i + ft(0.5)) - ft(0.5)
    return src if cubic else np.maximum(src, ft(0))


def _floor_index(src: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's guard: ``(index, fraction)`` with the index capped at ``size - 1`` and the
    fraction clamped to [0, 1]."""
    idx = np.minimum(np.floor(src).astype(np.int64), size - 1)
    return idx, np.clip(src - idx, 0, 1)


def _nearest_taps(size: int, out: int, scale: float | None, exact: bool, ft: type, dims: int):
    i = np.arange(out)
    if dims == 2 and not exact:     # PyTorch's 2-d kernel: float scale, shortcuts for 1x and 2x
        if out == size:
            return [i], None
        if out == 2 * size:
            return [i >> 1], None
        ft = np.float32
    r = _scale(size, out, False, scale, ft)
    if exact:
        real = np.maximum(r * (i.astype(ft) + ft(0.5)) - ft(0.5), ft(0))
        pos = (real.astype(np.float64) + 0.5).astype(np.float32)
    else:
        pos = (r * i.astype(ft)).astype(np.float32)
    return [np.minimum(np.floor(pos).astype(np.int64), size - 1)], None


def _linear_taps(size: int, out: int, scale: float | None, align_corners: bool, ft: type):
    if out == size:
        return None, None                       # copied as it is
    idx, frac = _floor_index(_source(size, out, align_corners, scale, ft), size)
    return [idx, idx + (idx < size - 1)], [ft(1) - frac, frac]


def _cubic_coefficients(t: np.ndarray, ft: type) -> list[np.ndarray]:
    a = ft(_CUBIC_A)

    def near(x):                                # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):                                 # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = ft(1)
    return [far(t + one), near(t), near(one - t), far(ft(2) - t)]


def _cubic_taps(size: int, out: int, scale: float | None, align_corners: bool, ft: type):
    idx, t = _floor_index(_source(size, out, align_corners, scale, ft, cubic=True), size)
    return [np.clip(idx + j - 1, 0, size - 1) for j in range(4)], _cubic_coefficients(t, ft)


def _gather(x: Tensor, axis: int, idx: np.ndarray) -> Tensor:
    """``x`` at positions ``idx`` along ``axis``; whole-number up- and down-scaling (each
    position repeated ``k`` times, or every ``k``-th one) as a broadcast or a strided view,
    whose backward is a sum or a strided write rather than a scatter."""
    n, out = x.shape[axis], len(idx)
    key = (slice(None),) * axis
    if out and out % n == 0 and np.array_equal(idx, np.repeat(np.arange(n), out // n)):
        k = out // n
        shape = x.shape[:axis + 1] + (k,) + x.shape[axis + 1:]
        return x.reshape(shape[:axis + 1] + (1,) + shape[axis + 2:]).broadcast_to(shape) \
            .reshape(x.shape[:axis] + (out,) + x.shape[axis + 1:])
    step = int(idx[1] - idx[0]) if out > 1 else 1
    if out and idx[0] == 0 and step > 0 and np.array_equal(idx, np.arange(out) * step):
        return x[key + (slice(0, step * (out - 1) + 1, step),)]
    return x[key + (idx,)]


def _resample_axis(x: Tensor, axis: int, taps: list | None, weights: list | None) -> Tensor:
    """``sum_j w_j * x[.., taps_j, ..]`` along ``axis`` (one gather when unweighted)."""
    if taps is None:
        return x
    key = (slice(None),) * axis
    shape = (-1,) + (1,) * (x.ndim - axis - 1)
    if weights is None:
        return _gather(x, axis, taps[0])
    y = None
    for idx, w in zip(taps, weights):
        term = x[key + (idx,)] * _tensor(np.asarray(w, x.data.dtype).reshape(shape))
        y = term if y is None else y + term
    return y


# -- argument handling -------------------------------------------------------------------------
def _sizes(x: Tensor, size: Any, scale_factor: Any, recompute: bool | None, dims: int):
    """``(output sizes, scale factors or None per axis)`` as PyTorch derives them."""
    spatial = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ArgumentError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute:
            raise ArgumentError("interpolate: recompute_scale_factor is not meaningful with an "
                                "explicit size")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dims
        if len(sizes) != dims:
            raise ArgumentError(f"interpolate: input with spatial dimensions of {spatial} and "
                                f"output size of {size}: give one size per spatial dimension")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise ArgumentError(f"interpolate: size must be an int or a tuple of ints, got "
                                f"{size!r}")
        return [int(s) for s in sizes], [None] * dims
    if scale_factor is None:
        raise ArgumentError("interpolate: either size or scale_factor should be defined")
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) \
        else [scale_factor] * dims
    if len(scales) != dims:
        raise ArgumentError(f"interpolate: input with spatial dimensions of {spatial} and "
                            f"scale_factor of {scale_factor}: give one factor per spatial "
                            f"dimension")
    if not all(isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool)
               for s in scales):
        raise ArgumentError(f"interpolate: scale_factor must be a number or a tuple of numbers, "
                            f"got {scale_factor!r}")
    scales = [float(s) for s in scales]
    sizes = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]
    return sizes, ([None] * dims if recompute else scales)


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``.

    ``align_corners`` (only for the interpolating modes; None means False) maps the corner
    pixels' centres onto each other instead of the corners of the image.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.interpolate(mnp.arange(4.0).reshape(1, 1, 2, 2), scale_factor=2).tolist()[0][0][1]
    [0.0, 0.0, 1.0, 1.0]
    >>> F.interpolate(mnp.ones((1, 2, 3, 5)), size=(4, 7), mode="bilinear").shape
    (1, 2, 4, 7)
    """
    x = as_tensor(input, op="interpolate")
    if mode not in MODES:
        raise ArgumentError(f"interpolate: mode must be one of {MODES}, got {mode!r}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ArgumentError("interpolate: align_corners option can only be set with the "
                                "interpolating modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if x.ndim not in (3, 4, 5):
        raise ShapeError(f"interpolate: only 3-d, 4-d and 5-d inputs (N, C, *spatial) are "
                         f"supported, got shape {x.shape} for mode {mode!r}")
    dims = x.ndim - 2
    if mode in _DIMS and _DIMS[mode] != dims:
        raise ShapeError(f"interpolate: got a {x.ndim}-d input of shape {x.shape}, but {mode} "
                         f"mode needs a {_DIMS[mode] + 2}-d input")
    sizes, scales = _sizes(x, size, scale_factor, recompute_scale_factor, dims)
    if antialias:
        raise ArgumentError("interpolate: antialias=True is not supported; use antialias=False")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1](x, sizes)
    if any(n <= 0 for n in x.shape[2:]) or any(s <= 0 for s in sizes):
        raise ShapeError(f"interpolate: input and output sizes should be greater than 0, got "
                         f"input {tuple(x.shape[2:])} and output {tuple(sizes)}")
    if x.data.dtype.kind != "f" and mode not in ("nearest", "nearest-exact"):
        raise ArgumentError(f"interpolate: {mode} mode needs a floating point input, got "
                            f"{x.dtype}")
    ft = _opmath(x.data.dtype)
    y = x
    for axis in range(x.ndim - 1, 1, -1):       # the last axis first, as PyTorch sums
        n, out, s = x.shape[axis], sizes[axis - 2], scales[axis - 2]
        if mode in ("nearest", "nearest-exact"):
            taps, weights = _nearest_taps(n, out, s, mode == "nearest-exact", ft, dims)
        elif mode == "bicubic":
            taps, weights = _cubic_taps(n, out, s, align_corners, ft)
        else:
            taps, weights = _linear_taps(n, out, s, align_corners, ft)
        y = _resample_axis(y, axis, taps, weights)
    return y


def _deprecated(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  f"instead.", stacklevel=3)


def upsample(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): `interpolate`."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Any, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): `interpolate` with ``mode="nearest"``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Any, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated (as in PyTorch, with its warning): `interpolate` with ``mode="bilinear"``
    and ``align_corners=True``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- the layers --------------------------------------------------------------------------------
class Upsample(Module):
    """`interpolate` as a layer, with PyTorch's arguments and ``repr``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Upsample(scale_factor=2, mode="bilinear")
    Upsample(scale_factor=2.0, mode='bilinear')
    >>> nn.Upsample(scale_factor=2)(mnp.ones((1, 3, 4, 4))).shape
    (1, 3, 8, 8)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None):
        super().__init__()
        self.name = type(self).__name__
        self.size = tuple(size) if isinstance(size, list) else size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W): ``Upsample(mode="nearest")``."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with ``align_corners=True``, as PyTorch's."""

    def __init__(self, size: Any = None, scale_factor: Any = None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
