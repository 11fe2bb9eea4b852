"""Cases of a given size for the backend conformance suite: the inputs that cross a backend's
thresholds (the sizes at which a kernel starts using threads or changes its blocking).

``SIZED[name](rng, dtype, ref, n, above)`` yields a few contiguous cases, one per shape family
of the kernel (extents of 1 included: a reduced axis of 1, a single row, a single batch),
whose *work* is at least ``n`` when ``above`` and at most ``n`` otherwise, as close to ``n``
as the family allows. Work is what a threaded kernel compares with its threshold
(`WORK`): elements for most kernels, multiply-adds for ``gemm``, ``matmul``, ``conv2d_*`` and
``attention_*`` (B * L * S * (E + Ev)),
column elements for ``im2col``/``col2im``, output elements times the window for pooling.

Reductions get integer-valued inputs whose partial sums are exact in the dtype, so that a
different summation order (threads, blocking) never matters at large sizes.

>>> import numpy as np
>>> case = next(iter(SIZED["sum"](np.random.default_rng(0), np.dtype("float32"), None, 5000, True)))
>>> case.args[0].size >= 5000, case.args[0].flags.c_contiguous
(True, True)
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Iterator

import numpy as np

from .generators import (BINARY_DOMAINS, BINARY_KERNELS, SOFTMAX_BACKWARD_KERNELS,
                         UNARY_BACKWARD_KERNELS, UNARY_DOMAINS, UNARY_KERNELS, Case,
                         need_reference, normal, uniform)

#: (n, above) targets -> cases; see the module docstring
SizedGenerator = Callable[[np.random.Generator, np.dtype, Callable[[str], Callable], int, bool],
                          Iterable[Case]]

#: sizes tried around when a backend declares no threshold for a kernel (work in elements)
LADDER = (4096, 32768, 131072, 262144)
#: ... for kernels whose work is counted in multiply-adds
MAC_LADDER = (4096, 32768, 131072, 1 << 20, 1 << 22)
MAC_KERNELS = ("gemm", "addmm", "matmul", "conv2d_forward", "conv2d_backward", "attention_forward",
               "attention_backward")


def targets(thresholds: Iterable[int], below: bool = True) -> list[tuple[int, bool]]:
    """``(n, above)`` just above every threshold (an odd count: uneven shares between
    threads), and just below it too when ``below``."""
    out = []
    for t in sorted(set(int(t) for t in thresholds)):
        if below and t > 1:
            out.append((t - 1, False))
        out.append((t + 1, True))
    return out


def ladder(name: str) -> tuple[int, ...]:
    """The built-in thresholds tried for kernel ``name`` when its backend declares none (just
    above each rung is enough: a threshold between two rungs lies between two cases)."""
    return MAC_LADDER if name in MAC_KERNELS else LADDER


def _fit(n: int, per: int, above: bool) -> int | None:
    """How many units of ``per`` make at least (``above``) or at most ``n``; None if none fit."""
    k = -(-n // per) if above else n // per
    return k if k >= 1 else None


def _side(n: int, area: int, above: bool) -> int | None:
    """A square side s with s*s*area at least (``above``) or at most ``n``."""
    k = _fit(n, area, above)
    if k is None:
        return None
    s = math.isqrt(k)
    return s + (s * s < k) if above else s


def exact(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Integer values whose partial sums, in any order, are exact in ``dtype`` (sparse when
    the dtype's integers run out: float16 has only 11 bits)."""
    size = int(np.prod(shape))
    top = 2.0 ** (np.finfo(dtype).nmant + 1)
    bound = int(top // max(size, 1))
    if bound >= 1:
        return rng.integers(-min(bound, 4), min(bound, 4) + 1, shape).astype(dtype)
    keep = rng.random(shape) < top / size / 2
    return (keep * rng.choice(np.array([-1.0, 1.0]), shape)).astype(dtype)


def powers_of_two(rng: np.random.Generator, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Signs times 1, with a few 2s and 0.5s: exact products in any order, far from overflow."""
    a = rng.choice(np.array([-1.0, 1.0]), shape)
    flat = a.reshape(-1)
    if flat.size:
        idx = rng.choice(flat.size, min(flat.size, 8), replace=False)
        flat[idx] *= np.where(np.arange(idx.size) % 2, 2.0, 0.5)
    return a.astype(dtype)


# -- element-wise ----------------------------------------------------------------------------
def _binary(name: str) -> SizedGenerator:
    (alo, ahi), (blo, bhi) = BINARY_DOMAINS.get(name, ((-3.0, 3.0), (-3.0, 3.0)))

    def gen(rng, dtype, ref, n, above):
        rows = _fit(n, 64, above)
        pairs = [((n,), (n,))] + ([((rows, 64), (64,)), ((rows, 64), (rows, 1))] if rows else [])
        for sa, sb in pairs:
            b = uniform(rng, sb, dtype, blo, bhi)
            if name == "div":
                b = b * np.where(rng.random(sb) < 0.5, -1, 1).astype(dtype)
            yield Case((uniform(rng, sa, dtype, alo, ahi), b), label=f"{sa} {sb}")
    return gen


def _unary(name: str) -> SizedGenerator:
    lo, hi = UNARY_DOMAINS.get(name, (-4.0, 4.0))

    def gen(rng, dtype, ref, n, above):
        yield Case((uniform(rng, (n,), dtype, lo, hi),), label=f"{(n,)}")
    return gen


def _leaky_relu(rng, dtype, ref, n, above):
    yield Case((normal(rng, (n,), dtype), 0.1), label=f"{(n,)} slope=0.1")


def _gelu(rng, dtype, ref, n, above):
    for approx in ("none", "tanh"):
        yield Case((normal(rng, (n,), dtype, 2.0), approx), label=f"{(n,)} {approx}")


def _unary_backward(name: str) -> SizedGenerator:
    def gen(rng, dtype, ref, n, above):
        if name == "sigmoid_backward":
            second = uniform(rng, (n,), dtype, 0.01, 0.99)
        elif name == "tanh_backward":
            second = uniform(rng, (n,), dtype, -0.99, 0.99)
        else:
            second = normal(rng, (n,), dtype, 2.0)
        g = normal(rng, (n,), dtype)
        extras = (("none",), ("tanh",)) if name == "gelu_backward" else \
            ((0.1,),) if name == "leaky_relu_backward" else ((),)
        for extra in extras:
            yield Case((g, second) + extra, label=f"{(n,)} {extra}")
    return gen


# -- reductions, softmax ---------------------------------------------------------------------
def _reduce_shapes(n: int, above: bool) -> Iterator[tuple[tuple, object]]:
    """(shape, axes) families: everything, a size-1 reduced axis, a size-1 kept axis, and the
    reduced axis outer or inner."""
    yield (n,), None
    yield (1, n), 0
    yield (n, 1), 1
    rows = _fit(n, 64, above)
    if rows:
        yield (rows, 64), 0
        yield (64, rows), 1


def _reduce(name: str) -> SizedGenerator:
    values = exact if name == "sum" else powers_of_two if name == "prod" else normal

    def gen(rng, dtype, ref, n, above):
        for shape, axis in _reduce_shapes(n, above):
            axes = None if axis is None else (axis,)
            yield Case((values(rng, shape, dtype), axes, False), label=f"{shape} axes={axes}")
    return gen


def _arg_reduce(rng, dtype, ref, n, above):
    for shape, axis in _reduce_shapes(n, above):
        yield Case((normal(rng, shape, dtype), axis, False), label=f"{shape} axis={axis}")


def _softmax_shapes(n: int, above: bool) -> Iterator[tuple[tuple, int]]:
    rows = _fit(n, 10, above)
    if rows:
        yield (rows, 10), -1
        yield (10, rows), 0
    yield (1, n), -1
    yield (n, 1), -1


def _softmax(rng, dtype, ref, n, above):
    for shape, axis in _softmax_shapes(n, above):
        yield Case((normal(rng, shape, dtype, 3.0), axis), label=f"{shape} axis={axis}")


def _softmax_backward(name: str) -> SizedGenerator:
    forward = name.replace("_backward", "")

    def gen(rng, dtype, ref, n, above):
        fwd = need_reference(ref, forward)
        for shape, axis in _softmax_shapes(n, above):
            y = np.ascontiguousarray(fwd(normal(rng, shape, dtype, 2.0), axis))
            yield Case((normal(rng, shape, dtype), y, axis), label=f"{shape} axis={axis}")
    return gen


# -- products --------------------------------------------------------------------------------
def _gemm_shapes(n: int, above: bool) -> Iterator[tuple[int, int, int, bool, bool]]:
    """(m, k, n, ta, tb): a cube, a tall and a wide product (operands stay near n^(2/3)
    elements whatever n)."""
    c = max(1, round(n ** (1 / 3)))
    cols = _fit(n, c * c, above)
    if cols:
        yield c, c, cols, False, False
    long = 8 * c
    short = _fit(n, long * c, above)
    if short:
        yield long, c, short, True, False
        yield short, c, long, False, True


def _batch_side(n: int) -> int:
    """The side of the square matrices of a batched product of about n multiply-adds."""
    return max(16, round(n ** (1 / 3)) // 4)


def _gemm(rng, dtype, ref, n, above):
    for m, k, nn, ta, tb in _gemm_shapes(n, above):
        a = normal(rng, (k, m) if ta else (m, k), dtype)
        b = normal(rng, (nn, k) if tb else (k, nn), dtype)
        yield Case((a, b, ta, tb), label=f"m={m} k={k} n={nn} ta={ta} tb={tb}")


def _addmm(rng, dtype, ref, n, above):
    """gemm's products, each with a bias of one value per column."""
    for case in _gemm(rng, dtype, ref, n, above):
        _, b, _, tb = case.args
        yield Case((normal(rng, b.shape[:1] if tb else b.shape[1:], dtype),) + case.args,
                   label=case.label)


def _matmul(rng, dtype, ref, n, above):
    for m, k, nn, _, _ in _gemm_shapes(n, above):
        yield Case((normal(rng, (m, k), dtype), normal(rng, (k, nn), dtype)), label=f"{(m, k)} @ {(k, nn)}")
    side = _batch_side(n)
    batch = _fit(n, side ** 3, above)
    if batch:
        sa = (batch, side, side)
        for sb in (sa, sa[1:]):
            yield Case((normal(rng, sa, dtype), normal(rng, sb, dtype)), label=f"{sa} @ {sb}")


# -- convolution and pooling -----------------------------------------------------------------
def _conv_geometries(n: int, above: bool, per_pixel: int) -> Iterator[tuple[tuple, tuple]]:
    """((N, C, H, W), (OC, C, 3, 3)) with padding 1: one square image, or a batch of 6x6 ones;
    ``per_pixel`` is the work per output pixel of one image."""
    side = _side(n, per_pixel, above)
    if side:
        yield (1, 2, side, side), (2, 2, 3, 3)
    batch = _fit(n, per_pixel * 36, above)
    if batch:
        yield (batch, 2, 6, 6), (2, 2, 3, 3)


def _conv2d_forward(rng, dtype, ref, n, above):
    for xs, ws in _conv_geometries(n, above, 2 * 2 * 9):
        yield Case((normal(rng, xs, dtype), normal(rng, ws, dtype), normal(rng, (ws[0],), dtype),
                    (1, 1), (1, 1), (1, 1)), label=f"x{xs} w{ws} p(1, 1)")


def _conv2d_backward(rng, dtype, ref, n, above):
    for xs, ws in _conv_geometries(n, above, 2 * 2 * 9):
        yield Case((normal(rng, (xs[0], ws[0]) + xs[2:], dtype), normal(rng, xs, dtype),
                    normal(rng, ws, dtype), (1, 1), (1, 1), (1, 1), True, True, True),
                   label=f"x{xs} w{ws} p(1, 1)")


def _im2col(rng, dtype, ref, n, above):
    for xs, ws in _conv_geometries(n, above, 2 * 9):
        yield Case((normal(rng, xs, dtype), (3, 3), (1, 1), (1, 1), (1, 1)), label=f"x{xs} k(3, 3) p(1, 1)")


def _col2im(rng, dtype, ref, n, above):
    for xs, ws in _conv_geometries(n, above, 2 * 9):
        cols = (xs[0], xs[1] * 9, xs[2] * xs[3])
        yield Case((normal(rng, cols, dtype), xs, (3, 3), (1, 1), (1, 1), (1, 1)),
                   label=f"x{xs} k(3, 3) p(1, 1)")


def _pool_geometries(n: int, above: bool) -> Iterator[tuple[tuple, tuple, tuple, tuple]]:
    """(x shape, kernel, stride, padding): one large plane, a batch of small ones, overlapping
    3x3 windows over many channels."""
    side = _side(n, 4, above)
    if side:
        yield (1, 1, 2 * side, 2 * side), (2, 2), (2, 2), (0, 0)
    batch = _fit(n, 4 * 64, above)
    if batch:
        yield (batch, 4, 8, 8), (2, 2), (2, 2), (0, 0)
    channels = _fit(n, 9 * 64, above)
    if channels:
        yield (1, channels, 8, 8), (3, 3), (1, 1), (1, 1)


def _pool_out(xs, k, s, p):
    return xs[:2] + tuple((xs[2 + i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(2))


def _pool_forward(rng, dtype, ref, n, above):
    for xs, k, s, p in _pool_geometries(n, above):
        yield Case((normal(rng, xs, dtype), k, s, p), label=f"x{xs} k{k} s{s} p{p}")


def _max_pool2d_backward(rng, dtype, ref, n, above):
    fwd = need_reference(ref, "max_pool2d_forward")
    for xs, k, s, p in _pool_geometries(n, above):
        _, idx = fwd(normal(rng, xs, dtype), k, s, p)
        yield Case((normal(rng, _pool_out(xs, k, s, p), dtype), np.array(idx), xs),
                   label=f"x{xs} k{k} s{s} p{p}")


def _avg_pool2d_backward(rng, dtype, ref, n, above):
    for xs, k, s, p in _pool_geometries(n, above):
        yield Case((normal(rng, _pool_out(xs, k, s, p), dtype), xs, k, s, p), label=f"x{xs} k{k} s{s} p{p}")


# -- attention -------------------------------------------------------------------------------
def _attention_shapes(n: int, above: bool) -> Iterator[tuple[int, int, int, int, int, bool]]:
    """(B, L, S, E, Ev, is_causal): a batch of small squares, one long square (causal), and
    one batch of a single query row."""
    e = 8
    batch = _fit(n, 16 * 16 * 2 * e, above)
    if batch:
        yield batch, 16, 16, e, e, False
    side = _side(n, 2 * e, above)
    if side:
        yield 1, side, side, e, e, True
    keys = _fit(n, 2 * e, above)
    if keys:
        yield 1, 1, keys, e, e, False


def _attention_forward(rng, dtype, ref, n, above):
    for b, l, s, e, ev, causal in _attention_shapes(n, above):
        yield Case((normal(rng, (b, l, e), dtype), normal(rng, (b, s, e), dtype), normal(rng, (b, s, ev), dtype),
                    None, causal, 1 / math.sqrt(e), None), label=f"B={b} L={l} S={s} E={e} causal={causal}")


def _attention_backward(rng, dtype, ref, n, above):
    fwd = need_reference(ref, "attention_forward")
    for b, l, s, e, ev, causal in _attention_shapes(n, above):
        q, k, v = normal(rng, (b, l, e), dtype), normal(rng, (b, s, e), dtype), normal(rng, (b, s, ev), dtype)
        out, lse = fwd(q, k, v, None, causal, 1 / math.sqrt(e), None)
        yield Case((normal(rng, (b, l, ev), dtype), q, k, v, out, lse, None, causal, 1 / math.sqrt(e), None),
                   label=f"B={b} L={l} S={s} E={e} causal={causal}")


# -- losses, normalisation -------------------------------------------------------------------
def _rows(n: int, above: bool, width: int) -> Iterator[tuple[int, int]]:
    """(rows, width) families: many rows of ``width``, one long row, many rows of one."""
    rows = _fit(n, width, above)
    if rows:
        yield rows, width
    yield 1, n
    yield n, 1


def _cross_entropy_forward(rng, dtype, ref, n, above):
    for rows, c in _rows(n, above, 10):
        yield Case((normal(rng, (rows, c), dtype, 3.0), rng.integers(0, c, rows).astype(np.int64), 0.1),
                   label=f"N={rows} C={c} smoothing=0.1")


def _cross_entropy_backward(rng, dtype, ref, n, above):
    fwd = need_reference(ref, "cross_entropy_forward")
    for rows, c in _rows(n, above, 10):
        targets = rng.integers(0, c, rows).astype(np.int64)
        _, probs = fwd(normal(rng, (rows, c), dtype, 3.0), targets, 0.1)
        yield Case((normal(rng, (rows,), dtype), np.ascontiguousarray(probs), targets, 0.1),
                   label=f"N={rows} C={c} smoothing=0.1")


def _bn_shapes(n: int, above: bool) -> Iterator[tuple]:
    batch = _fit(n, 4 * 16, above)
    if batch:
        yield batch, 4, 16
    m = _fit(n, 2, above)
    if m:
        yield 1, 2, m
    batch = _fit(n, 3, above)
    if batch:
        yield batch, 3, 1


def _ln_shapes(n: int, above: bool) -> Iterator[tuple]:
    yield from _rows(n, above, 64)


def _norm_forward(shapes: Callable[[int, bool], Iterator[tuple]]) -> SizedGenerator:
    def gen(rng, dtype, ref, n, above):
        for shape in shapes(n, above):
            c = shape[1]
            yield Case((normal(rng, shape, dtype, 2.0) + 1, uniform(rng, (c,), dtype, 0.5, 2.0),
                        normal(rng, (c,), dtype), 1e-5), label=f"x{shape} affine=True")
    return gen


def _norm_backward(forward: str, shapes: Callable[[int, bool], Iterator[tuple]]) -> SizedGenerator:
    def gen(rng, dtype, ref, n, above):
        fwd = need_reference(ref, forward)
        for shape in shapes(n, above):
            x = normal(rng, shape, dtype, 2.0) + 1
            gamma = uniform(rng, (shape[1],), dtype, 0.5, 2.0)
            _, mean, invstd = fwd(x, gamma, None, 1e-5)
            yield Case((normal(rng, shape, dtype), x, gamma, np.array(mean), np.array(invstd)),
                       label=f"x{shape} affine=True")
    return gen


# -- optimizer steps (flat buffers, updated in place) ----------------------------------------
def _sgd_step(rng, dtype, ref, n, above):
    args = (normal(rng, (n,), dtype), normal(rng, (n,), dtype), normal(rng, (n,), dtype), 0.05, 0.9,
            0.1, True, 1e-2, False)
    yield Case(args, label=f"n={n} momentum=0.9 nesterov=True", inplace=(0, 2))


def _adam_step(rng, dtype, ref, n, above):
    sq = uniform(rng, (n,), dtype, 0.0, 0.02)
    args = (normal(rng, (n,), dtype), normal(rng, (n,), dtype), uniform(rng, (n,), dtype, -0.1, 0.1), sq,
            sq + uniform(rng, (n,), dtype, 0.0, 0.01), 3, 1e-3, 0.9, 0.999, 1e-8, 1e-2, True, True)
    yield Case(args, label=f"n={n} step=3 decoupled=True amsgrad=True", inplace=(0, 2, 3, 4))


def _rmsprop_step(rng, dtype, ref, n, above):
    args = (normal(rng, (n,), dtype), normal(rng, (n,), dtype), uniform(rng, (n,), dtype, 0.0, 0.5),
            uniform(rng, (n,), dtype, -0.1, 0.1), 1e-2, 0.99, 1e-8, 0.9, 1e-3)
    yield Case(args, label=f"n={n} momentum=0.9", inplace=(0, 2, 3))


def _rmsprop_centered_step(rng, dtype, ref, n, above):
    args = (normal(rng, (n,), dtype), normal(rng, (n,), dtype), uniform(rng, (n,), dtype, 0.5, 1.0),
            uniform(rng, (n,), dtype, -0.1, 0.1), uniform(rng, (n,), dtype, -0.1, 0.1), 1e-2, 0.99, 1e-8,
            0.9, 1e-2)
    yield Case(args, label=f"n={n} momentum=0.9", inplace=(0, 2, 3, 4))


def _adagrad_step(rng, dtype, ref, n, above):
    args = (normal(rng, (n,), dtype), normal(rng, (n,), dtype), uniform(rng, (n,), dtype, 0.0, 1.0), 2, 1e-2,
            0.01, 1e-10, 1e-2)
    yield Case(args, label=f"n={n} step=2 lr_decay=0.01", inplace=(0, 2))


# -- the table --------------------------------------------------------------------------------
SIZED: dict[str, SizedGenerator] = {}
for _n in BINARY_KERNELS:
    SIZED[_n] = _binary(_n)
for _n in UNARY_KERNELS:
    SIZED[_n] = _unary(_n)
for _n in UNARY_BACKWARD_KERNELS:
    SIZED[_n] = _unary_backward(_n)
for _n in ("sum", "prod", "max", "min"):
    SIZED[_n] = _reduce(_n)
for _n in SOFTMAX_BACKWARD_KERNELS:
    SIZED[_n] = _softmax_backward(_n)
SIZED.update({
    "leaky_relu": _leaky_relu, "gelu": _gelu, "argmax": _arg_reduce, "argmin": _arg_reduce,
    "gemm": _gemm, "addmm": _addmm, "matmul": _matmul, "softmax": _softmax,
    "log_softmax": _softmax,
    "conv2d_forward": _conv2d_forward, "conv2d_backward": _conv2d_backward,
    "im2col": _im2col, "col2im": _col2im,
    "max_pool2d_forward": _pool_forward, "max_pool2d_backward": _max_pool2d_backward,
    "avg_pool2d_forward": _pool_forward, "avg_pool2d_backward": _avg_pool2d_backward,
    "cross_entropy_forward": _cross_entropy_forward, "cross_entropy_backward": _cross_entropy_backward,
    "attention_forward": _attention_forward, "attention_backward": _attention_backward,
    "batch_norm_forward": _norm_forward(_bn_shapes),
    "batch_norm_backward": _norm_backward("batch_norm_forward", _bn_shapes),
    "layer_norm_forward": _norm_forward(_ln_shapes),
    "layer_norm_backward": _norm_backward("layer_norm_forward", _ln_shapes),
    "sgd_step": _sgd_step, "adam_step": _adam_step, "rmsprop_step": _rmsprop_step,
    "rmsprop_centered_step": _rmsprop_centered_step, "adagrad_step": _adagrad_step,
})
del _n
