"""The pooling family: `MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d` (PyTorch's
arguments, order and ``repr``), their autograd nodes, the functional forms and the ``numpy``
reference kernels ``max_pool2d_*`` and ``avg_pool2d_*``; the 1-d forms run them with H = 1.

The reference kernels work on strided window views (no Python loop over pixels). Shapes: x
(N, C, H, W); ``kernel_size``, ``stride``, ``padding`` are ``(int, int)`` pairs. Max-pool
indices are flat positions in each unpadded (H, W) plane, as PyTorch returns them.

PyTorch's options on top of the kernels:

* ``ceil_mode``: the input is extended after its end by the elements the floor formula is
  short (lowest values for max, zeros for average), then pooled with the same symmetric
  padding; max indices are mapped back to the unextended plane.
* average divisors (``count_include_pad=False``, ``ceil_mode`` overhang, ``divisor_override``):
  the kernel's ``sum / (kH * kW)`` times a per-output-position scale, skipped when all ones.
* ``dilation`` > 1 for max pooling: a numpy path of its own (`MaxPool2dDilatedFunction`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import mnp.core as mnp
from mnp.core import Function, ShapeError, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._scratch import scratch
from ._util import ArgumentError, apply_kernel, batched, ntuple
from .conv import out_size, pad2d
from .module import Module

NO_EXTRA = (0, 0)


# -- numpy reference kernels ----------------------------------------------------------------
def _window_slice(i: int, j: int, stride, oh: int, ow: int) -> tuple:
    """Index of kernel offset (i, j) of every window: an (N, C, OH, OW) strided slice."""
    sh, sw = stride
    return (slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
            slice(j, j + sw * (ow - 1) + 1, sw))


def max_pool2d_forward(x: np.ndarray, kernel_size, stride, padding):
    """``(y, indices)``: window maxima (N, C, OH, OW) and where each came from (int64).

    One pass per kernel offset over strided slices: a running maximum and the offset that
    set it (a strictly greater value takes over, so the first maximum wins ties, as in
    PyTorch). NaN wins like in PyTorch (the last NaN of a window); a window whose values are
    all the lowest value points at its first element inside the input.
    """
    n, c, h, w = x.shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    oh, ow = out_size(h, kh, sh, ph, 1), out_size(w, kw, sw, pw, 1)
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = pad2d(x, ph, pw, low)
    y, k = _running_max(xp, kernel_size, stride, oh, ow, w, nan_wins=False)
    if x.dtype.kind == "f" and np.isnan(y).any():
        y, k = _running_max(xp, kernel_size, stride, oh, ow, w, nan_wins=True)
    rows, cols = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw
    base = (rows * w)[:, None] + cols[None, :]
    indices = np.add(k, base, dtype=np.int64)
    if ph or pw:        # padding never wins: a window of lowest values -> first inside element
        lowest = y == low
        if lowest.any():
            first = (np.maximum(rows, 0) * w)[:, None] + np.maximum(cols, 0)[None, :]
            np.copyto(indices, np.broadcast_to(first, indices.shape), where=lowest)
    return y, indices


def _running_max(xp: np.ndarray, kernel_size, stride, oh: int, ow: int, w: int, nan_wins: bool):
    """Maximum over the windows of padded ``xp`` and the winning offset ``i * w + j`` (int32,
    in a scratch buffer)."""
    kh, kw = kernel_size
    y = xp[_window_slice(0, 0, stride, oh, ow)].copy()
    k = scratch("pool_k", y.shape, np.int32)
    k.fill(0)
    wins = scratch("pool_wins", y.shape, bool)
    step = scratch("pool_step", y.shape, np.int32)
    for i in range(kh):
        for j in range(kw):
            if i == 0 and j == 0:
                continue
            s = xp[_window_slice(i, j, stride, oh, ow)]
            np.greater(s, y, out=wins)
            if nan_wins:
                wins |= np.isnan(s)
            np.maximum(y, s, out=y)
            # k = where(wins, offset, k) as arithmetic: masked copies are far slower
            np.subtract(np.int32(i * w + j), k, out=step)
            step *= wins
            k += step
    return y, k


def max_pool2d_backward(g: np.ndarray, indices: np.ndarray, x_shape) -> np.ndarray:
    """Route each output gradient to the input position it came from (overlaps add up)."""
    n, c, h, w = x_shape
    plane = h * w
    per_plane = int(np.prod(indices.shape[2:]))
    flat = scratch("pool_flat", (n * c, per_plane), np.int64)
    np.add(indices.reshape(n * c, per_plane), (np.arange(n * c) * plane)[:, None], out=flat)
    dx = np.zeros(n * c * plane, g.dtype)
    np.add.at(dx, flat.reshape(-1), g.reshape(-1))   # numpy >= 2: as fast as a plain scatter
    return dx.reshape(n, c, h, w)


def _slices(kernel_size, stride, oh: int, ow: int):
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            yield _window_slice(i, j, stride, oh, ow)


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride, padding) -> np.ndarray:
    """Window means; zero padding counts in the divisor (PyTorch's ``count_include_pad=True``)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh = out_size(h, kh, stride[0], padding[0], 1)
    ow = out_size(w, kw, stride[1], padding[1], 1)
    xp = pad2d(x, *padding)
    y = None
    for sl in _slices(kernel_size, stride, oh, ow):     # one vectorised add per kernel position
        y = xp[sl].copy() if y is None else np.add(y, xp[sl], out=y)
    y *= 1.0 / (kh * kw)
    return y


def avg_pool2d_backward(g: np.ndarray, x_shape, kernel_size, stride, padding) -> np.ndarray:
    """Spread each output gradient evenly over its window."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    ph, pw = padding
    oh, ow = g.shape[2], g.shape[3]
    share = g * (1.0 / (kh * kw))
    hp, wp = h + 2 * ph, w + 2 * pw
    if stride[0] >= kh and stride[1] >= kw:         # windows do not overlap: plain writes
        tiled = (oh * kh, ow * kw) == (hp, wp)      # and they cover every position
        dxp = (np.empty if tiled else np.zeros)((n, c, hp, wp), g.dtype)
        for sl in _slices(kernel_size, stride, oh, ow):
            dxp[sl] = share
    else:
        dxp = np.zeros((n, c, hp, wp), g.dtype)
        for sl in _slices(kernel_size, stride, oh, ow):
            dxp[sl] += share
    return dxp[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else dxp


KERNELS = {"max_pool2d_forward": max_pool2d_forward, "max_pool2d_backward": max_pool2d_backward,
           "avg_pool2d_forward": avg_pool2d_forward, "avg_pool2d_backward": avg_pool2d_backward}


# -- the autograd nodes ----------------------------------------------------------------------


def _lowest(dtype: np.dtype):
    """The value padding holds in max pooling: it never wins."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _extend(x: np.ndarray, extra: tuple[int, int], value) -> np.ndarray:
    """``x`` (N, C, H, W) with ``extra`` rows and columns of ``value`` after its end."""
    n, c, h, w = x.shape
    out = np.full((n, c, h + extra[0], w + extra[1]), value, x.dtype)
    out[:, :, :h, :w] = x
    return out


class MaxPool2dFunction(Function):
    name = "max_pool2d"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), extra=NO_EXTRA,
                indices=None):
        self.shape = x.shape
        if extra != NO_EXTRA:
            x = _extend(x, extra, _lowest(x.dtype))
        y, idx = kernel("max_pool2d_forward", x.dtype)(x, kernel_size, stride, padding)
        if extra[1]:                    # flat positions of the wider plane -> of the input's
            rows, cols = np.divmod(idx, x.shape[3])
            idx = rows * self.shape[3] + cols
        return self._keep(y, idx, indices)

    def _keep(self, y, idx, indices):
        """Keep the window argmax positions for backward (and for ``indices``, when given)."""
        self.indices = idx
        if indices is not None:
            indices.append(idx)
        return y

    def backward(self, g):
        return kernel("max_pool2d_backward", g.dtype)(g, self.indices, self.shape)


class MaxPool2dDilatedFunction(MaxPool2dFunction):
    """Max pooling with dilation on a strided window view of the padded input: the first
    maximum wins a tie, the last NaN of a window wins, a window whose real values are all the
    lowest value points at its first element inside the input (PyTorch's rules)."""
    name = "max_pool2d"
    numpy_only = "dilated max pooling has no kernel: argmax over a strided numpy window view"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                extra=NO_EXTRA, indices=None):
        n, c, h, w = self.shape = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
        low = _lowest(x.dtype)
        hp, wp = h + 2 * ph + extra[0], w + 2 * pw + extra[1]
        xp = np.full((n, c, hp, wp), low, x.dtype)
        xp[:, :, ph:ph + h, pw:pw + w] = x
        oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
        s0, s1, s2, s3 = xp.strides
        win = as_strided(xp, (n, c, oh, ow, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw))
        win = win.reshape(n, c, oh, ow, kh * kw)
        k = win.argmax(axis=-1)                     # first maximum (first NaN, fixed below)
        if x.dtype.kind == "f":
            nan = np.isnan(win)
            has_nan = nan.any(axis=-1)
            if has_nan.any():                       # PyTorch keeps the last NaN
                k = np.where(has_nan, kh * kw - 1 - nan[..., ::-1].argmax(axis=-1), k)
        y = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]
        i, j = np.divmod(k, kw)
        top, left = np.arange(oh) * sh - ph, np.arange(ow) * sw - pw
        idx = (top[:, None] + i * dh) * w + (left + j * dw)
        lowest = y == low
        if lowest.any():                            # first tap inside the input
            first_r = np.where(top < 0, top + -(top // dh) * dh, top)
            first_c = np.where(left < 0, left + -(left // dw) * dw, left)
            first = first_r[:, None] * w + first_c
            idx = np.where(lowest, first, idx)
        return self._keep(y, idx.astype(np.int64, copy=False), indices)


class AvgPool2dFunction(Function):
    name = "avg_pool2d"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), extra=NO_EXTRA,
                scale=None):
        self.shape, self.args, self.extra, self.scale = x.shape, (kernel_size, stride, padding), \
            extra, scale
        if extra != NO_EXTRA:
            x = _extend(x, extra, 0)
        y = kernel("avg_pool2d_forward", x.dtype)(x, kernel_size, stride, padding)
        if scale is not None:
            y = apply_kernel("mul", y, scale)
        return y

    def backward(self, g):
        if self.scale is not None:
            g = apply_kernel("mul", g, self.scale)
        n, c, h, w = self.shape
        eh, ew = self.extra
        dx = kernel("avg_pool2d_backward", g.dtype)(g, (n, c, h + eh, w + ew), *self.args)
        return dx[:, :, :h, :w] if eh or ew else dx


class _As1d:
    """Runs a 2-d pooling Function on (N, C, L) as (N, C, 1, L)."""

    def forward(self, x, **kw):
        return super().forward(x[:, :, None, :], **kw)[:, :, 0, :]

    def backward(self, g):
        return super().backward(g[:, :, None, :])[:, :, 0, :]


class MaxPool1dFunction(_As1d, MaxPool2dFunction):
    name = "max_pool1d"


class MaxPool1dDilatedFunction(_As1d, MaxPool2dDilatedFunction):
    name = "max_pool1d"


class AvgPool1dFunction(_As1d, AvgPool2dFunction):
    name = "avg_pool1d"


# -- argument handling ----------------------------------------------------------------------
def _geometry(x: Tensor, dims: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, op: str):
    """Normalised ``(kernel_size, stride, padding, dilation, out, extra)`` per spatial axis;
    ``extra`` is how many elements ceil mode adds after the end of each axis."""
    ks = ntuple(kernel_size, dims, "kernel_size", op, 1)
    st = ks if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else ntuple(stride, dims, "stride", op, 1)
    pd = ntuple(padding, dims, "padding", op, 0)
    dl = ntuple(dilation, dims, "dilation", op, 1)
    if any(2 * p > k for p, k in zip(pd, ks)):
        raise ArgumentError(f"{op}: padding {pd} must be at most half of kernel_size {ks}")
    out, extra = [], []
    for size, k, s, p, d in zip(x.shape[2:], ks, st, pd, dl):
        span, length = d * (k - 1) + 1, size + 2 * p
        if ceil_mode:
            o = -(-(length - span) // s) + 1
            if (o - 1) * s >= size + p:         # the last window would start in the padding
                o -= 1
        else:
            o = (length - span) // s + 1
        out.append(o)
        extra.append(max(0, (o - 1) * s + span - length))
    if any(o < 1 for o in out):
        raise ShapeError(f"{op}: input of shape {x.shape} is too small for kernel_size {ks} with "
                         f"stride {st}, padding {pd}, dilation {dl}: output size {tuple(out)}")
    return ks, st, pd, dl, tuple(out), tuple(extra)


def _to_2d(dims: int, *pairs: tuple[int, ...]):
    """``(kernel_size, stride, padding, dilation or out, extra)`` of the 1-d forms as 2-d ones
    with H = 1."""
    if dims == 2:
        return pairs
    return tuple((f,) + p for f, p in zip((1, 1, 0, 1, 0), pairs))


def _finish(y: Tensor, unbatched: bool, dims: int, holder: list | None):
    if unbatched:
        y = y.reshape(y.shape[1:])
    if holder is None:
        return y
    idx = holder[0][:, :, 0, :] if dims == 1 else holder[0]
    return y, mnp.from_numpy(idx[0] if unbatched else idx)


def _max_pool(dims: int, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool, op: str):
    x, unbatched = batched(as_tensor(input, op=op), dims, op)
    ks, st, pd, dl, _, extra = _geometry(x, dims, kernel_size, stride, padding, dilation,
                                         ceil_mode, op)
    ks, st, pd, dl, extra = _to_2d(dims, ks, st, pd, dl, extra)
    holder = [] if return_indices else None
    if dl == (1, 1):
        fn = MaxPool1dFunction if dims == 1 else MaxPool2dFunction
        y = fn.apply(x, kernel_size=ks, stride=st, padding=pd, extra=extra, indices=holder)
    else:
        fn = MaxPool1dDilatedFunction if dims == 1 else MaxPool2dDilatedFunction
        y = fn.apply(x, kernel_size=ks, stride=st, padding=pd, dilation=dl, extra=extra,
                     indices=holder)
    return _finish(y, unbatched, dims, holder)


def _avg_scale(x: Tensor, ks, st, pd, out, extra, count_include_pad: bool,
               divisor_override: int | None):
    """Per-output-position ``kH * kW / divisor`` (PyTorch's divisor), or None when all ones."""
    area = ks[0] * ks[1]
    if divisor_override is not None:
        return None if divisor_override == area else x.data.dtype.type(area / divisor_override)
    if extra == NO_EXTRA and (count_include_pad or pd == NO_EXTRA):
        return None                             # every window is whole: the common case
    factors = []
    for size, k, s, p, o in zip(x.shape[2:], ks, st, pd, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        n = end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0)
        factors.append(k / n)
    scale = factors[0][:, None] * factors[1][None, :]
    return None if (scale == 1).all() else scale.astype(x.data.dtype)


def check_divisor(divisor_override: Any, op: str) -> None:
    """``divisor_override`` must be None or a positive int."""
    if divisor_override is not None and (
            isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer))
            or divisor_override <= 0):
        raise ArgumentError(f"{op}: divisor_override must be a positive int, got "
                            f"{divisor_override!r}")


def _avg_pool(dims: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
              ceil_mode: bool, count_include_pad: bool, divisor_override: Any, op: str):
    x, unbatched = batched(as_tensor(input, op=op), dims, op)
    check_divisor(divisor_override, op)
    ks, st, pd, _, out, extra = _geometry(x, dims, kernel_size, stride, padding, 1, ceil_mode, op)
    ks, st, pd, out, extra = _to_2d(dims, ks, st, pd, out, extra)
    xs = x if dims == 2 else x.reshape(x.shape[:2] + (1,) + x.shape[2:])
    scale = _avg_scale(xs, ks, st, pd, out, extra, count_include_pad, divisor_override)
    fn = AvgPool1dFunction if dims == 1 else AvgPool2dFunction
    y = fn.apply(x, kernel_size=ks, stride=st, padding=pd, extra=extra, scale=scale)
    return _finish(y, unbatched, dims, None)


# -- functional -----------------------------------------------------------------------------
def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over ``kernel_size`` windows of input (N, C, H, W) or (C, H, W); ``stride`` defaults
    to the kernel size; padding (at most half the kernel) never wins. ``return_indices=True``
    also returns where each maximum came from (flat position in the input's (H, W) plane,
    int64), as PyTorch does.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.max_pool2d(mnp.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    >>> y, i = F.max_pool2d(mnp.arange(9.0).reshape(1, 3, 3), 2, ceil_mode=True, return_indices=True)
    >>> y.tolist(), i.tolist()
    ([[[4.0, 5.0], [7.0, 8.0]]], [[[4, 5], [7, 8]]])
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool2d")


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over ``kernel_size`` windows of input (N, C, L) or (C, L); indices are positions
    along L.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.max_pool1d(mnp.tensor([[1.0, 3.0, 2.0, 5.0, 4.0]]), 2, dilation=2).tolist()
    [[2.0, 4.0]]
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool1d")


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over ``kernel_size`` windows of input (N, C, H, W) or (C, H, W). The divisor is
    PyTorch's: ``divisor_override`` if given, else the window clipped to the padded input
    (``count_include_pad=True``) or to the input itself.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.avg_pool2d(mnp.ones((1, 2, 2)), 2, padding=1, count_include_pad=False).tolist()
    [[[1.0, 1.0], [1.0, 1.0]]]
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over ``kernel_size`` windows of input (N, C, L) or (C, L)."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     "avg_pool1d")


# -- the layers ----------------------------------------------------------------------------
def _as_given(value: Any) -> Any:
    """A size as PyTorch keeps it; a list (as a model file's JSON holds a tuple) becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


class _MaxPool(Module):
    dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        name, n = type(self).__name__, self.dims
        # as given (PyTorch keeps and prints them so), and checked up front
        self.kernel_size = _as_given(kernel_size)
        self.stride = self.kernel_size if stride is None else _as_given(stride)
        self.padding = _as_given(padding)
        self.dilation = _as_given(dilation)
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self._args = (ntuple(kernel_size, n, "kernel_size", name, 1),
                      ntuple(self.stride, n, "stride", name, 1),
                      ntuple(padding, n, "padding", name, 0),
                      ntuple(dilation, n, "dilation", name, 1), self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.
    With ``return_indices=True`` the call returns ``(output, indices)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.MaxPool2d(2)(mnp.zeros((1, 3, 8, 8))).shape
    (1, 3, 4, 4)
    >>> nn.MaxPool2d(2, ceil_mode=True)(mnp.zeros((1, 3, 7, 7))).shape
    (1, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Any:
        return max_pool2d(input, *self._args)


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L) or (C, L)."""
    dims = 1

    def forward(self, input: Tensor) -> Any:
        return max_pool1d(input, *self._args)


class _AvgPoolNd(Module):
    """The average pools of ``_dims`` spatial dims: their arguments, checked once."""
    _dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        name, d = type(self).__name__, self._dims
        self.kernel_size = _as_given(kernel_size)
        self.stride = self.kernel_size if stride is None else _as_given(stride)
        self.padding = _as_given(padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override
        self._args = (ntuple(kernel_size, d, "kernel_size", name, 1),
                      ntuple(self.stride, d, "stride", name, 1), ntuple(padding, d, "padding", name, 0),
                      self.ceil_mode, self.count_include_pad, divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over windows of (N, C, H, W) or (C, H, W); zero padding counts in the divisor unless
    ``count_include_pad=False``; ``divisor_override`` replaces the divisor."""

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, *self._args)


class AvgPool1d(Module):
    """Mean over windows of (N, C, L) or (C, L) (PyTorch keeps its sizes as 1-tuples)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else ntuple(stride, 1, "stride", name, 1)
        self.padding = ntuple(padding, 1, "padding", name, 0)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self._args = (self.kernel_size, self.stride, self.padding, self.ceil_mode,
                      self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, *self._args)
