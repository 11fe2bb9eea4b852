"""The convolution family: `Conv1d`, `Conv2d`, their nodes `Conv2dFunction` and
`Conv1dFunction` (kernels ``conv2d_forward``/``conv2d_backward``, once per group of channels;
the 1-d form runs them with H = 1), the functional `conv1d`/`conv2d`, the options every
convolution layer shares (`_ConvNd`: groups, padding strings and modes), and the ``numpy``
reference kernels.

The reference kernels: ``im2col``/``col2im`` on strided views, then GEMM. Shapes: x (N, C, H,
W), w (OC, C, KH, KW); ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are
``(int, int)`` pairs. They work through the batch in chunks whose columns fit in the L2 cache
(`CHUNK_BYTES`), with their temporaries in reused `scratch` buffers: the columns are written,
multiplied and scattered back while still in cache, and a training step does not fault in
fresh memory for them. For stride 1 the input gradient is accumulated in "flat" padded rows,
where each kernel offset is one contiguous slice (see `_col2im_flat`).

>>> import numpy as np
>>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
>>> w = np.ones((1, 1, 2, 2), np.float32)
>>> conv2d_forward(x, w, None, (2, 2), (0, 0), (1, 1))[0, 0].tolist()
[[10.0, 18.0], [42.0, 50.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import mnp.core as mnp
from mnp.core import Function, ShapeError, Tensor, as_tensor
from mnp.core.devices import check_device
from mnp.core.dispatch import kernel
from mnp.core.dtypes import to_dtype

from ._scratch import scratch
from ._util import SPATIAL, ArgumentError, batched, check_dtypes, ntuple
from .linear import _Weighted, same_float
from .padding import pad
from .parameter import Parameter

# -- numpy reference kernels ----------------------------------------------------------------
#: Target size in bytes of one batch chunk's im2col columns (about half an L2 cache).
CHUNK_BYTES = 1 << 20


def out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """Output length of one spatial dimension (PyTorch's floor formula)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pad2d(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    """``x`` with ``ph`` rows and ``pw`` columns of ``value`` on each side of the last two axes."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), value, x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def windows(xp: np.ndarray, kernel_size, stride, dilation, oh: int, ow: int) -> np.ndarray:
    """A read-only strided view (N, C, KH, KW, OH, OW) of the windows of padded ``xp``."""
    kh, kw = kernel_size
    sh, sw = stride
    dh, dw = dilation
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw),
                      writeable=False)


def _pointwise(kernel_size, stride, padding, dilation) -> bool:
    return tuple(kernel_size) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)


def _chunks(n: int, sample_bytes: int):
    """``(start, stop)`` batch ranges of about `CHUNK_BYTES` of columns each."""
    step = max(1, CHUNK_BYTES // max(sample_bytes, 1))
    for n0 in range(0, n, step):
        yield n0, min(n, n0 + step)


def _padded_scratch(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """``x`` zero-padded in scratch buffer ``"pad"`` (``x`` itself without padding)."""
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = scratch("pad", (n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    xp[:, :, :ph] = 0
    xp[:, :, ph + h:] = 0
    xp[:, :, ph:ph + h, :pw] = 0
    xp[:, :, ph:ph + h, pw + w:] = 0
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _cols_scratch(x: np.ndarray, kernel_size, stride, padding, dilation, oh: int,
                  ow: int) -> np.ndarray:
    """`im2col` of a batch chunk into scratch buffer ``"cols"`` -> (n, C*KH*KW, OH*OW)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    if _pointwise(kernel_size, stride, padding, dilation):
        return x.reshape(n, c, h * w)
    cols = scratch("cols", (n, c, kh, kw, oh, ow), x.dtype)
    np.copyto(cols, windows(_padded_scratch(x, *padding), kernel_size, stride, dilation, oh, ow))
    return cols.reshape(n, c * kh * kw, oh * ow)


def _col2im_into(dx: np.ndarray, cols: np.ndarray, kernel_size, stride, padding,
                 dilation) -> None:
    """Write the adjoint of `im2col` of ``cols`` (n, C*KH*KW, OH*OW) into ``dx`` (n, C, H, W)."""
    n, c, h, w = dx.shape
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    oh = out_size(h, kh, sh, ph, dh)
    ow = out_size(w, kw, sw, pw, dw)
    cols6 = cols.reshape(n, c, kh, kw, oh, ow)
    dxp = scratch("dxpad", (n, c, h + 2 * ph, w + 2 * pw), dx.dtype) if ph or pw else dx
    dxp.fill(0)
    for i in range(kh):          # one vectorised add per kernel position
        hi = i * dh
        for j in range(kw):
            wj = j * dw
            dxp[:, :, hi:hi + sh * (oh - 1) + 1:sh, wj:wj + sw * (ow - 1) + 1:sw] += cols6[:, :, i, j]
    if ph or pw:
        dx[...] = dxp[:, :, ph:ph + h, pw:pw + w]


def im2col(x: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """The columns (N, C*KH*KW, OH*OW) of every window of ``x``: one copy, no Python loop."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(w, kw, stride[1], padding[1], dilation[1])
    if _pointwise(kernel_size, stride, padding, dilation):
        return x.reshape(n, c, h * w)
    view = windows(pad2d(x, *padding), kernel_size, stride, dilation, oh, ow)
    return view.reshape(n, c * kh * kw, oh * ow)


def col2im(cols: np.ndarray, x_shape, kernel_size, stride, padding, dilation) -> np.ndarray:
    """The adjoint of `im2col`: scatter columns back onto an (N, C, H, W) array, summing overlaps."""
    n, c, h, w = x_shape
    if _pointwise(kernel_size, stride, padding, dilation):
        return cols.reshape(n, c, h, w)
    dx = np.empty((n, c, h, w), cols.dtype)
    for n0, n1 in _chunks(n, cols[0].nbytes):
        _col2im_into(dx[n0:n1], cols[n0:n1], kernel_size, stride, padding, dilation)
    return dx


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride, padding,
                   dilation) -> np.ndarray:
    """2-d cross-correlation: ``y[n, o] = sum_c w[o, c] * x[n, c] + b[o]`` -> (N, OC, OH, OW)."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
    dtype = np.result_type(x, w)
    x = x.astype(dtype, copy=False)
    wm = w.reshape(oc, c * kh * kw).astype(dtype, copy=False)
    y = np.empty((n, oc, oh * ow), dtype)
    for n0, n1 in _chunks(n, c * kh * kw * oh * ow * dtype.itemsize):
        cols = _cols_scratch(x[n0:n1], (kh, kw), stride, padding, dilation, oh, ow)
        yc = np.matmul(wm, cols, out=y[n0:n1])
        if b is not None:
            yc += b.reshape(oc, 1)
    return y.reshape(n, oc, oh, ow)


def _col2im_flat(dx: np.ndarray, dcols: np.ndarray, kernel_size, padding, dilation) -> None:
    """Stride-1 `col2im` of ``dcols`` (n, C, KH, KW, OH*Wp) into ``dx`` (n, C, H, W).

    In the padded input flattened to rows of width Wp, kernel offset (i, j) of output
    position (r, q) lands at ``(r + i*dh) * Wp + q + j*dw``: for columns laid out over the
    full padded width, each offset is one contiguous shifted slice. The Wp - OW extra
    columns of ``dcols`` must be zero; one spare padded row absorbs their overhang.
    """
    n, c, h, w = dx.shape
    kh, kw = kernel_size
    ph, pw = padding
    dh, dw = dilation
    hp, wp = h + 2 * ph, w + 2 * pw
    length = dcols.shape[-1]
    acc = scratch("dxpad", (n, c, (hp + 1) * wp), dx.dtype)
    acc[:, :, :length] = dcols[:, :, 0, 0]
    acc[:, :, length:] = 0
    for i in range(kh):
        for j in range(kw):
            if i or j:
                o = i * dh * wp + j * dw
                acc[:, :, o:o + length] += dcols[:, :, i, j]
    dx[...] = acc[:, :, :hp * wp].reshape(n, c, hp, wp)[:, :, ph:ph + h, pw:pw + w]


def conv2d_backward(g: np.ndarray, x: np.ndarray, w: np.ndarray, stride, padding, dilation,
                    need_x: bool = True, need_w: bool = True, need_b: bool = True):
    """Gradients ``(dx, dw, db)`` of `conv2d_forward` for output gradient ``g``; None where
    not needed."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    oh, ow = g.shape[2], g.shape[3]
    k, p = c * kh * kw, oh * ow
    dtype = np.result_type(g, x, w)
    x = x.astype(dtype, copy=False)
    g3 = g.reshape(n, oc, p).astype(dtype, copy=False)
    wm = w.reshape(oc, k).astype(dtype, copy=False)
    ks = (kh, kw)
    pointwise = _pointwise(ks, stride, padding, dilation)
    flat = tuple(stride) == (1, 1) and not pointwise
    wp = wd + 2 * padding[1]
    db = g3.sum(axis=(0, 2)) if need_b else None
    dwt = np.zeros((k, oc), dtype) if need_w else None          # dw transposed: (C*KH*KW, OC)
    dx = np.empty((n, c, h, wd), dtype) if need_x else None
    sample = k * (oh * wp if flat else p) * dtype.itemsize
    for n0, n1 in _chunks(n, sample):
        m = n1 - n0
        gc = g3[n0:n1]
        if need_w:      # dw^T = sum_n cols[n] @ g[n]^T (faster in BLAS than g @ cols^T)
            cols = _cols_scratch(x[n0:n1], ks, stride, padding, dilation, oh, ow)
            part = np.matmul(cols, gc.transpose(0, 2, 1), out=scratch("dwpart", (m, k, oc), dtype))
            dwt += part.sum(axis=0)
        if not need_x:
            continue
        if pointwise:
            np.matmul(wm.T, gc, out=dx[n0:n1].reshape(m, c, p))
        elif flat:
            gp = scratch("gpad", (m, oc, oh, wp), dtype)
            gp[:, :, :, ow:] = 0
            gp[:, :, :, :ow] = gc.reshape(m, oc, oh, ow)
            dcols = np.matmul(wm.T, gp.reshape(m, oc, oh * wp),
                              out=scratch("cols", (m, k, oh * wp), dtype))
            _col2im_flat(dx[n0:n1], dcols.reshape(m, c, kh, kw, oh * wp), ks, padding, dilation)
        else:
            dcols = np.matmul(wm.T, gc, out=scratch("cols", (m, k, p), dtype))
            _col2im_into(dx[n0:n1], dcols, ks, stride, padding, dilation)
    dw = None if dwt is None else np.ascontiguousarray(dwt.T).reshape(w.shape)
    return dx, dw, db


KERNELS = {"im2col": im2col, "col2im": col2im, "conv2d_forward": conv2d_forward,
           "conv2d_backward": conv2d_backward}


# -- the kernels once per group of channels ------------------------------------------------
def _group_slices(groups: int, c: int, o: int) -> list[tuple[slice, slice]]:
    """(input channels, output channels) of each group."""
    cg, og = c // groups, o // groups
    return [(slice(i * cg, (i + 1) * cg), slice(i * og, (i + 1) * og)) for i in range(groups)]


def conv_forward(x, w, b, groups: int, stride, padding, dilation) -> np.ndarray:
    """The ``conv2d_forward`` kernel, once per group: x (N, G*C, H, W), w (G*O, C, KH, KW)."""
    run = kernel("conv2d_forward", x.dtype)
    if groups == 1:
        return run(x, w, b, stride, padding, dilation)
    return np.concatenate([run(x[:, cs], w[os], None if b is None else b[os], stride, padding,
                               dilation) for cs, os in _group_slices(groups, x.shape[1], w.shape[0])],
                          axis=1)


def conv_backward(g, x, w, groups: int, stride, padding, dilation, need_x: bool, need_w: bool,
                  need_b: bool):
    """The ``conv2d_backward`` kernel, once per group: ``(dx, dw, db)``, None where not needed.
    Without ``need_w``, ``x`` only gives the input shape (its values are not read)."""
    run = kernel("conv2d_backward", g.dtype)
    if groups == 1:
        return run(g, x, w, stride, padding, dilation, need_x, need_w, need_b)
    parts = []
    for cs, os in _group_slices(groups, x.shape[1], w.shape[0]):
        xs = x[:, cs] if need_w else np.empty((x.shape[0], cs.stop - cs.start) + x.shape[2:],
                                              x.dtype)
        parts.append(run(g[:, os], xs, w[os], stride, padding, dilation, need_x, need_w, need_b))
    return tuple(None if parts[0][k] is None else np.concatenate([p[k] for p in parts], axis)
                 for k, axis in ((0, 1), (1, 0), (2, 0)))


# -- the autograd nodes and the functional forms ----------------------------------------
class Conv2dFunction(Function):
    """2-d cross-correlation of x (N, G*C, H, W) with w (OC, C, KH, KW) in ``groups`` G,
    plus an optional bias."""
    name = "conv2d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w, self.args = x, w, (stride, padding, dilation)
        self.groups = groups
        return conv_forward(x, w, b, groups, stride, padding, dilation)

    def backward(self, g):
        need = self.needs_input_grad
        return conv_backward(g, self.x, self.w, self.groups, *self.args, need[0], need[1],
                             len(need) > 2 and need[2])


class Conv1dFunction(Conv2dFunction):
    """`Conv2dFunction` on (N, C, L) as (N, C, 1, L)."""
    name = "conv1d"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        return super().forward(x[:, :, None, :], w[:, :, None, :], b, stride, padding,
                               dilation, groups)[:, :, 0, :]

    def backward(self, g):
        dx, dw, db = super().backward(g[:, :, None, :])
        return (None if dx is None else dx[:, :, 0, :]), (None if dw is None else dw[:, :, 0, :]), db


def _same_padding(kernel_size, dilation, stride, op: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Padding that keeps the input size: ``(per side, extra after)`` per spatial axis. An odd
    total puts the extra element after the input, as PyTorch does."""
    if any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return tuple(t // 2 for t in totals), tuple(t % 2 for t in totals)


def check_groups(groups: Any, in_channels: int, out_channels: int, op: str) -> int:
    """``groups`` as a positive int dividing both channel counts."""
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ArgumentError(f"{op}: groups must be a positive int, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ArgumentError(f"{op}: in_channels ({in_channels}) and out_channels "
                            f"({out_channels}) must be divisible by groups ({groups})")
    return int(groups)


def _conv(fn, dims: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
          dilation: Any, groups: Any, op: str) -> Tensor:
    x, w = as_tensor(input, op=op), as_tensor(weight, op=op)
    check_dtypes(op, x, w, None if bias is None else as_tensor(bias, op=op))
    if w.ndim != dims + 2:
        raise ShapeError(f"{op}: weight must be {dims + 2}-d (out_channels, in_channels / groups, "
                         f"*kernel_size), got shape {w.shape}")
    x, unbatched = batched(x, dims, op)
    groups = check_groups(groups, w.shape[0], w.shape[0], op)
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels but weight of "
                         f"shape {w.shape} with groups={groups} expects {w.shape[1] * groups}")
    ks = w.shape[2:]
    stride_ = ntuple(stride, dims, "stride", op, 1)
    dilation_ = ntuple(dilation, dims, "dilation", op, 1)
    if isinstance(padding, str):
        if padding == "valid":
            padding_ = (0,) * dims
        elif padding == "same":
            padding_, extra = _same_padding(ks, dilation_, stride_, op)
            if any(extra):      # an odd total: the one uneven element goes after the input
                x = mnp.pad(x, ((0, 0), (0, 0)) + tuple((0, e) for e in extra))
        else:
            raise ArgumentError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                                f"got {padding!r}")
    else:
        padding_ = ntuple(padding, dims, "padding", op, 0)
    for size, k, s, p, d in zip(x.shape[2:], ks, stride_, padding_, dilation_):
        if out_size(size, k, s, p, d) < 1:
            raise ShapeError(f"{op}: input of shape {x.shape} is too small for kernel {tuple(ks)} "
                             f"with padding {padding_} and dilation {dilation_}")
    if dims == 1:
        stride_, padding_, dilation_ = (1,) + stride_, (0,) + padding_, (1,) + dilation_
    kw = {"stride": stride_, "padding": padding_, "dilation": dilation_}
    if groups != 1:
        kw["groups"] = groups
    if bias is None:
        y = fn.apply(x, w, **kw)
    else:
        b = as_tensor(bias, op=op)
        if b.shape != (w.shape[0],):
            raise ShapeError(f"{op}: bias of shape {b.shape} does not fit weight of shape "
                             f"{w.shape}: expected ({w.shape[0]},)")
        y = fn.apply(x, w, b, **kw)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation) of input (N, C, H, W) with weight
    (OC, C / groups, KH, KW).

    ``stride``, ``padding``, ``dilation``: int or pair; ``padding`` may be ``"valid"`` or
    ``"same"`` (stride 1); ``groups`` splits the channels into groups convolved apart
    (``groups == C``: depthwise).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.conv2d(mnp.ones((1, 2, 5, 5)), mnp.ones((3, 2, 3, 3)), padding=1).shape
    (1, 3, 5, 5)
    >>> F.conv2d(mnp.ones((1, 4, 5, 5)), mnp.ones((8, 1, 3, 3)), groups=4).shape
    (1, 8, 3, 3)
    """
    return _conv(Conv2dFunction, 2, input, weight, bias, stride, padding, dilation, groups,
                 "conv2d")


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d convolution of input (N, C, L) with weight (OC, C / groups, K); arguments as `conv2d`."""
    return _conv(Conv1dFunction, 1, input, weight, bias, stride, padding, dilation, groups,
                 "conv1d")


# -- the layers ----------------------------------------------------------------------------
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(_Weighted):
    """The options and parameters every convolution layer shares (PyTorch's ``_ConvNd``)."""
    dims = 2
    transposed = False

    def _setup(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
               padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
               device: Any, dtype: Any) -> None:
        name, n = type(self).__name__, self.dims
        if device is not None:
            check_device(device, name)
        dt = None if dtype is None else to_dtype(dtype, op=name)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        if self.in_channels < 1 or self.out_channels < 1:
            raise ArgumentError(f"{name}: in_channels and out_channels must be positive, got "
                                f"{in_channels} and {out_channels}")
        self.groups = check_groups(groups, self.in_channels, self.out_channels, name)
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name, 1)
        self.stride = ntuple(stride, n, "stride", name, 1)
        self.dilation = ntuple(dilation, n, "dilation", name, 1)
        if padding_mode not in PADDING_MODES:
            raise ArgumentError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                                f"{padding_mode!r}")
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ArgumentError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                    f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ArgumentError(f"{name}: padding='same' needs stride 1, got stride "
                                    f"{self.stride}")
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding", name, 0)
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups)
        else:
            shape = (self.out_channels, self.in_channels // self.groups)
        self._add_parameters(shape + self.kernel_size, bias and not self.transposed)
        if bias and self.transposed:        # the bias has out_channels, not weight.shape[0]
            self.bias = Parameter(np.empty(self.out_channels, self.weight.dtype))
            self.reset_parameters()
        if dt is not None:
            self.to(dt)

    def _reversed_padding(self) -> tuple[int, ...]:
        """The padding as `pad` takes it (last dimension first, before and after)."""
        if self.padding == "valid":
            return (0, 0) * self.dims
        if self.padding == "same":
            out: list[int] = []
            for k, d in zip(reversed(self.kernel_size), reversed(self.dilation)):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        return tuple(p for p in reversed(self.padding) for _ in range(2))

    def _check(self, input: Tensor) -> None:
        n = self.dims
        shape = input.shape
        if len(shape) not in (n + 1, n + 2) or shape[-n - 1] != self.in_channels:
            raise ShapeError(f"{type(self).__name__}: input of shape {shape} does not fit "
                             f"in_channels={self.in_channels} (weight shape {self.weight.shape}): "
                             f"expected (N, {self.in_channels}, {SPATIAL[n]})")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * self.dims) != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    _functional: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, device, dtype)

    def forward(self, input: Any) -> Tensor:
        input = self._input(input)
        self._check(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding(), self.padding_mode)
            padding = 0
        return type(self)._functional(input, self.weight, self.bias, self.stride, padding,
                                      self.dilation, self.groups)


class Conv2d(_Conv):
    """2-d convolution over input (N, C, H, W) (or unbatched (C, H, W)); ``kernel_size``,
    ``stride``, ``padding``, ``dilation`` are ints or pairs; ``padding`` may be 'valid'/'same';
    ``groups`` splits the channels; ``padding_mode``: 'zeros', 'reflect', 'replicate' or
    'circular'. Weight (out_channels, in_channels / groups, KH, KW).

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Conv2d(1, 8, 3, padding=1)(mnp.zeros((2, 1, 28, 28))).shape
    (2, 8, 28, 28)
    """
    dims = 2
    _functional = staticmethod(conv2d)


class Conv1d(_Conv):
    """1-d convolution over input (N, C, L) (or unbatched (C, L)), options as `Conv2d`; runs
    the 2-d kernels with H = 1."""
    dims = 1
    _functional = staticmethod(conv1d)
