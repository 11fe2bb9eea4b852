"""The padding family: `pad` (PyTorch's ``F.pad``: modes ``constant``, ``reflect``,
``replicate``, ``circular``; pad tuple last dimension first; negative widths crop), its node
`PadFunction`, and the layers ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``,
``ReplicationPad`` and ``CircularPad`` in 1, 2 and 3 dimensions.

Reflect and replicate index the input as given (a crop on one side does not move the mirror);
circular wraps the cropped input, as PyTorch does.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> F.pad(mnp.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as _core
from mnp.core import Function, ShapeError, Tensor, as_tensor

from ._util import ArgumentError
from .module import Module

MODES = ("constant", "reflect", "replicate", "circular")

#: the family's ``numpy`` reference kernels (padding is data movement, numpy only)
KERNELS: dict = {}


def source_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """For each output position along one axis, the input position it copies (``reflect``,
    ``replicate``, ``circular``)."""
    if mode == "circular":
        c0, m = max(-before, 0), n - max(-before, 0) - max(-after, 0)
        q = np.arange(n + before + after)
        return c0 + (q - max(before, 0)) % max(m, 1)
    p = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    p = np.abs(p)                                   # reflect: pads are < n, one bounce at most
    return np.where(p >= n, 2 * (n - 1) - p, p)


class PadFunction(Function):
    """``x`` padded on its last ``len(widths)`` axes by ``(before, after)`` pairs (negative:
    crop) in mode ``reflect``, ``replicate`` or ``circular``; constant padding is core's `pad`."""
    name = "pad"
    numpy_only = "data movement"

    def forward(self, x, widths=(), mode="reflect"):
        self.shape, self.widths = x.shape, widths
        lead = x.ndim - len(widths)
        # the input position minus the output position on the copied middle of each axis
        self.shifts = [max(-b, 0) - max(b, 0) if mode == "circular" else -b for b, _ in widths]
        self.index = [source_index(mode, n, b, a) for (b, a), n in zip(widths, x.shape[lead:])]
        y = x
        for axis, idx in enumerate(self.index, lead):
            y = np.take(y, idx, axis=axis)
        return y

    def backward(self, g):
        lead = len(self.shape) - len(self.widths)
        for axis in reversed(range(lead, len(self.shape))):
            idx = self.index[axis - lead]
            shape = g.shape[:axis] + (self.shape[axis],) + g.shape[axis + 1:]
            acc = np.zeros(shape, g.dtype)
            a, b = np.moveaxis(acc, axis, 0), np.moveaxis(g, axis, 0)
            shift = self.shifts[axis - lead]
            middle = idx - np.arange(len(idx)) == shift        # one run: a single slice copy
            run = np.flatnonzero(middle)
            if run.size:
                a[run[0] + shift:run[-1] + 1 + shift] = b[run[0]:run[-1] + 1]
            for j in np.flatnonzero(~middle):                  # the pads, one slice each
                a[idx[j]] += b[j]
            g = acc
        return g


def _check_pad(pad: Any) -> tuple[int, ...]:
    try:
        pads = tuple(pad)
    except TypeError:
        raise ArgumentError(f"pad: pad must be a tuple of ints, got {pad!r}") from None
    if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pads):
        raise ArgumentError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pads) % 2:
        raise ArgumentError(f"pad: the pad length must be divisible by 2, got {len(pads)} ({pads})")
    return tuple(int(p) for p in pads)


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions of ``input``, PyTorch's ``F.pad``.

    ``pad`` = ``(last_before, last_after, second_last_before, ...)``; negative widths crop.
    ``mode``: ``"constant"`` (``value``, default 0; any number of dimensions),
    ``"reflect"`` (mirror without repeating the edge; each width below the size),
    ``"replicate"`` (repeat the edge) or ``"circular"`` (wrap around); these three pad the
    last 1, 2 or 3 dimensions of an input with one or two more (batch and channels).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.pad(mnp.ones((1, 2, 3)), (1, 1, 0, 2), value=5.0).shape
    (1, 4, 5)
    """
    x = as_tensor(input, op="pad")
    pads = _check_pad(pad)
    k = len(pads) // 2
    if mode not in MODES:
        raise ArgumentError(f"pad: mode must be one of {MODES}, got {mode!r}")
    if k > x.ndim:
        raise ArgumentError(f"pad: pad {pads} pads {k} dimensions but the input of shape "
                            f"{x.shape} has only {x.ndim}")
    widths = tuple((pads[2 * i], pads[2 * i + 1]) for i in range(k))[::-1]    # first axis first
    sizes = x.shape[x.ndim - k:]
    if mode == "constant":
        for (b, a), n in zip(widths, sizes):
            if n + b + a < 0:
                raise ShapeError(f"pad: pad {pads} crops more than the size {n} of input shape "
                                 f"{x.shape}")
        lead = (slice(None),) * (x.ndim - k)
        if any(b < 0 or a < 0 for b, a in widths):
            x = x[lead + tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, sizes))]
        return _core.pad(x, ((0, 0),) * len(lead) + tuple((max(b, 0), max(a, 0)) for b, a in widths),
                         0 if value is None else value)
    if value is not None:
        raise ArgumentError(f"pad: mode {mode!r} takes no value, got value={value!r}")
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise ShapeError(f"pad: mode {mode!r} with a pad of length {len(pads)} pads the last {k} "
                         f"dimensions of a {k + 1}-d or {k + 2}-d input, got shape {x.shape}"
                         if k in (1, 2, 3) else
                         f"pad: mode {mode!r} pads 1, 2 or 3 dimensions (a pad of length 2, 4 or "
                         f"6), got a pad of length {len(pads)}")
    if mode != "circular" and 0 in x.shape[x.ndim - k - 1 if x.ndim == k + 2 else 0:]:
        raise ShapeError(f"pad: mode {mode!r} needs non-empty dimensions (but the batch), "
                         f"got input shape {x.shape}")
    for (b, a), n in zip(widths, sizes):
        if mode == "circular" and (b > n or a > n):
            raise ShapeError(f"pad: circular pad {pads} wraps around more than once the size "
                             f"{n} of input shape {x.shape}")
        if mode == "reflect" and (b >= n or a >= n):
            raise ShapeError(f"pad: reflect pad {pads} must be less than the size {n} it pads "
                             f"in input shape {x.shape}")
        if n + b + a < 0:
            raise ShapeError(f"pad: pad {pads} crops more than the size {n} of input shape "
                             f"{x.shape}")
    return PadFunction.apply(x, widths=widths, mode=mode)


# -- the layers ----------------------------------------------------------------------------
class _PadNd(Module):
    dims = 1
    mode = "constant"

    def _set_padding(self, padding: Any) -> None:
        n = 2 * self.dims
        if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
            self.padding = (int(padding),) * n
        else:
            pads = _check_pad(padding)
            if len(pads) != n:
                raise ArgumentError(f"{type(self).__name__}: padding must be an int or a tuple "
                                    f"of {n} ints, got {padding!r}")
            self.padding = pads

    def forward(self, input: Any) -> Tensor:
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float):
        super().__init__()
        self._set_padding(padding)
        self.value = value

    def forward(self, input: Any) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``; ``padding``: int or ``(left, right)``."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``; ``padding``: int or
    ``(left, right, top, bottom)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.ConstantPad2d((1, 0, 2, 0), 3.0)(mnp.zeros((1, 2, 2))).shape
    (1, 4, 3)
    """
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``; ``padding``: int or a 6-tuple."""
    dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros; ``padding``: int or ``(left, right)``."""
    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros; ``padding``: int or ``(left, right, top, bottom)``."""
    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros; ``padding``: int or a 6-tuple."""
    dims = 3


class _ModePadNd(_PadNd):
    def __init__(self, padding: Any):
        super().__init__()
        self._set_padding(padding)


class ReflectionPad1d(_ModePadNd):
    """Mirror the last dimension of (N, C, L) or (C, L) without repeating the edge."""
    dims, mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Mirror the last two dimensions of (N, C, H, W) or (C, H, W) without repeating the edge.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.ReflectionPad2d(1)(mnp.zeros((1, 3, 3))).shape
    (1, 5, 5)
    """
    dims, mode = 2, "reflect"


class ReflectionPad3d(_ModePadNd):
    """Mirror the last three dimensions of (N, C, D, H, W) or (C, D, H, W)."""
    dims, mode = 3, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Repeat the edge values of the last dimension of (N, C, L) or (C, L)."""
    dims, mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Repeat the edge values of the last two dimensions of (N, C, H, W) or (C, H, W)."""
    dims, mode = 2, "replicate"


class ReplicationPad3d(_ModePadNd):
    """Repeat the edge values of the last three dimensions of (N, C, D, H, W) or (C, D, H, W)."""
    dims, mode = 3, "replicate"


class CircularPad1d(_ModePadNd):
    """Wrap the last dimension of (N, C, L) or (C, L) around."""
    dims, mode = 1, "circular"


class CircularPad2d(_ModePadNd):
    """Wrap the last two dimensions of (N, C, H, W) or (C, H, W) around."""
    dims, mode = 2, "circular"


class CircularPad3d(_ModePadNd):
    """Wrap the last three dimensions of (N, C, D, H, W) or (C, D, H, W) around."""
    dims, mode = 3, "circular"
