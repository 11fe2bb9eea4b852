"""Input generators for the backend conformance suite, one per kernel name of docs/kernels.md.

A generator is ``gen(rng, dtype, ref) -> iterable of Case``: several random shapes, including
non-contiguous inputs and dims of size 1 and 0 wherever the kernel has one that matters
(reduced axes, outer and inner extents, batches), in the given float dtype. ``ref(name)`` returns a reference kernel
(for backward kernels that need a forward output such as softmax's ``y``); a generator
that needs one the reference lacks raises `MissingReference`. Calling a generator twice
with equally seeded generators gives equal cases, so the reference and the backend under
test each get their own copy.

>>> import numpy as np
>>> from mnp.core.testing.generators import GENERATORS
>>> case = next(iter(GENERATORS["add"](np.random.default_rng(0), np.dtype("float32"), None)))
>>> [a.dtype.name for a in case.args]
['float32', 'float32']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

Generator = Callable[[np.random.Generator, np.dtype, Callable[[str], Callable]], Iterable["Case"]]


class MissingReference(LookupError):
    """A generator needs a reference kernel that is not registered."""


@dataclass
class Case:
    """One call: ``kernel(*args, **kwargs)``. ``inplace`` lists the indices of the arguments a
    ``_step`` kernel updates in place (those are compared instead of the return value)."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    inplace: tuple[int, ...] | None = None


# -- array helpers ----------------------------------------------------------------------------
def strided(a: np.ndarray) -> np.ndarray:
    """The same values in a non-contiguous view (every other element of a wider buffer)."""
    if a.ndim == 0 or a.size == 0:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    return big[..., ::2]   # (a single element is contiguous whatever its strides)


def transposed(a: np.ndarray) -> np.ndarray:
    """The same values, stored transposed (a Fortran-ordered, non-C-contiguous array)."""
    if a.ndim < 2:
        return strided(a)
    return np.asfortranarray(a)


def _draw_dtype(dtype: np.dtype) -> type:
    """The dtype random values are drawn in: float32 for the narrow dtypes (it is faster)."""
    return np.float32 if np.dtype(dtype).itemsize <= 4 else np.float64


def normal(rng: np.random.Generator, shape: tuple, dtype: np.dtype, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape, dtype=_draw_dtype(dtype)) * scale).astype(dtype, copy=False)


def uniform(rng: np.random.Generator, shape: tuple, dtype: np.dtype, lo: float, hi: float) -> np.ndarray:
    draw = _draw_dtype(dtype)
    return (rng.random(shape, dtype=draw) * draw(hi - lo) + draw(lo)).astype(dtype, copy=False)


def negative_strides(a: np.ndarray) -> np.ndarray:
    """The same values in a view with a negative stride on every axis (``a[::-1]`` style)."""
    if a.ndim == 0:
        return a
    every = (slice(None, None, -1),) * a.ndim
    return a[every].copy()[every]


LAYOUTS = (("contiguous", lambda a: a), ("strided", strided), ("transposed", transposed))
SHAPES = ((7,), (3, 5), (2, 3, 4), (1, 65), ())
#: shapes with a dim of size 1 or 0 in each position
EDGE_SHAPES = ((1,), (5, 1), (1, 1, 3), (0,), (2, 0, 3))


def need_reference(ref: Callable[[str], Callable] | None, name: str) -> Callable:
    """Reference kernel ``name`` (for inputs made by a forward kernel); `MissingReference` if absent."""
    fn = ref(name) if ref is not None else None
    if fn is None:
        raise MissingReference(name)
    return fn


# -- mnp-core ---------------------------------------------------------------------------------
BROADCAST_PAIRS = (((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((2, 1, 4), (3, 1)),
                   ((5,), ()), ((1, 1), (1,)), ((1, 5), (1, 1)), ((0, 4), (4,)), ((3, 0), (3, 1)))
BINARY_DOMAINS = {"div": ((-2.0, 2.0), (0.5, 2.0)), "pow": ((0.2, 3.0), (-2.0, 2.0))}


def _binary(name: str) -> Generator:
    def gen(rng, dtype, ref):
        (alo, ahi), (blo, bhi) = BINARY_DOMAINS.get(name, ((-3.0, 3.0), (-3.0, 3.0)))
        for sa, sb in BROADCAST_PAIRS:
            for label, lay in LAYOUTS:
                a = lay(uniform(rng, sa, dtype, alo, ahi))
                b = uniform(rng, sb, dtype, blo, bhi)
                if name == "div":   # divisor away from zero, either sign
                    b = b * np.where(rng.random(sb) < 0.5, -1, 1).astype(dtype)
                yield Case((a, lay(b)), label=f"{sa} {sb} {label}")
        if name in ("maximum", "minimum"):   # ties
            a = uniform(rng, (4, 4), dtype, -1, 1)
            yield Case((a, a.copy()), label="equal operands")
    return gen


UNARY_DOMAINS = {"log": (0.05, 5.0), "sqrt": (0.0, 5.0), "log1p": (-0.9, 5.0), "exp": (-10.0, 10.0),
                 "sigmoid": (-30.0, 30.0), "tanh": (-8.0, 8.0), "erf": (-4.0, 4.0)}


def _unary(name: str) -> Generator:
    def gen(rng, dtype, ref):
        lo, hi = UNARY_DOMAINS.get(name, (-4.0, 4.0))
        for shape in SHAPES + EDGE_SHAPES:
            for label, lay in LAYOUTS:
                yield Case((lay(uniform(rng, shape, dtype, lo, hi)),), label=f"{shape} {label}")
        if name in ("relu", "abs", "sign"):
            yield Case((np.array([-1.0, 0.0, 1.0, -0.0], dtype),), label="zeros")
    return gen


def _leaky_relu(rng, dtype, ref):
    for shape in SHAPES[:4] + EDGE_SHAPES:
        for label, lay in LAYOUTS:
            for slope in (0.01, 0.2):
                yield Case((lay(normal(rng, shape, dtype)), slope), label=f"{shape} {label} slope={slope}")


def _gelu(rng, dtype, ref):
    for shape in SHAPES[:4] + EDGE_SHAPES:
        for label, lay in LAYOUTS:
            for approx in ("none", "tanh"):
                yield Case((lay(normal(rng, shape, dtype, 2.0)), approx), label=f"{shape} {label} {approx}")


def _unary_backward(name: str) -> Generator:
    def gen(rng, dtype, ref):
        for shape in SHAPES[:4] + EDGE_SHAPES:
            for label, lay in LAYOUTS:
                g = lay(normal(rng, shape, dtype))
                if name == "sigmoid_backward":
                    second = uniform(rng, shape, dtype, 0.01, 0.99)
                elif name == "tanh_backward":
                    second = uniform(rng, shape, dtype, -0.99, 0.99)
                else:
                    second = normal(rng, shape, dtype, 2.0)
                extra: tuple = ()
                if name == "leaky_relu_backward":
                    extra = (0.1,)
                for more in ((("none",), ("tanh",)) if name == "gelu_backward" else (extra,)):
                    yield Case((g, lay(second)) + more, label=f"{shape} {label} {more}")
    return gen


REDUCE_CASES = (((3, 4), None), ((3, 4), (0,)), ((3, 4), (1,)), ((2, 3, 4), (0, 2)),
                ((2, 3, 4), (1,)), ((5,), (0,)), ((2, 3, 4), (0, 1, 2)),
                # size-1 reduced axes, size-1 outer and inner extents, empty kept extents
                ((1, 5), (0,)), ((5, 1), (1,)), ((1, 5, 1), (0, 2)), ((4, 1, 3), (1,)), ((1, 1), None),
                ((1, 6), (1,)), ((6, 1), (0,)), ((0, 4), (1,)), ((3, 0), (0,)))
#: empty reduced axes: only reductions with an identity (sum 0, prod 1) accept them
EMPTY_REDUCE_CASES = (((0, 4), (0,)), ((3, 0), None))


def _reduce(rng, dtype, ref):
    yield from _reduce_cases(rng, dtype, REDUCE_CASES)


def _reduce_with_identity(rng, dtype, ref):
    yield from _reduce_cases(rng, dtype, REDUCE_CASES + EMPTY_REDUCE_CASES)


def _reduce_cases(rng, dtype, table):
    for shape, axes in table:
        for label, lay in LAYOUTS:
            for keepdims in (False, True):
                yield Case((lay(normal(rng, shape, dtype)), axes, keepdims),
                           label=f"{shape} axes={axes} keepdims={keepdims} {label}")


def _arg_reduce(rng, dtype, ref):
    for shape, axis in (((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((7,), 0),
                        ((1, 5), 0), ((5, 1), 1), ((1, 5), 1), ((1, 1), None), ((0, 4), 1), ((3, 0), 0)):
        for label, lay in LAYOUTS:
            for keepdims in (False, True):
                yield Case((lay(normal(rng, shape, dtype)), axis, keepdims),
                           label=f"{shape} axis={axis} keepdims={keepdims} {label}")


def _gemm(rng, dtype, ref):
    for m, k, n in ((4, 5, 3), (1, 7, 1), (16, 33, 9), (64, 64, 64), (3, 1, 5), (1, 1, 1), (0, 4, 3),
                    (4, 0, 3), (4, 3, 0)):
        for ta in (False, True):
            for tb in (False, True):
                a = normal(rng, (k, m) if ta else (m, k), dtype)
                b = normal(rng, (n, k) if tb else (k, n), dtype)
                yield Case((a, b, ta, tb), label=f"m={m} k={k} n={n} ta={ta} tb={tb}")
                # the same product through transposed/strided views
                yield Case((strided(a), transposed(b), ta, tb), label=f"m={m} k={k} n={n} ta={ta} tb={tb} views")
        a, b = normal(rng, (m, k), dtype), normal(rng, (k, n), dtype)
        yield Case((a.T.copy().T, b[::1, ::-1], False, False), label=f"m={m} k={k} n={n} negative stride")


def _addmm(rng, dtype, ref):
    for m, k, n in ((4, 5, 3), (1, 7, 1), (16, 33, 9), (64, 64, 64), (3, 1, 5), (0, 4, 3),
                    (4, 0, 3), (4, 3, 0)):
        for ta, tb in ((False, True), (True, False), (False, False)):
            a = normal(rng, (k, m) if ta else (m, k), dtype)
            b = normal(rng, (n, k) if tb else (k, n), dtype)
            bias = normal(rng, (2 * n,), dtype)
            yield Case((bias[:n], a, b, ta, tb), label=f"m={m} k={k} n={n} ta={ta} tb={tb}")
            yield Case((bias[::2], strided(a), b, ta, tb),
                       label=f"m={m} k={k} n={n} ta={ta} tb={tb} strided bias and a")
        # a bias of another shape: broadcast as numpy does (the C kernel hands it on)
        yield Case((normal(rng, (m, 1), dtype), normal(rng, (m, k), dtype), normal(rng, (k, n), dtype)),
                   label=f"m={m} k={k} n={n} column bias")


def _matmul(rng, dtype, ref):
    for sa, sb in (((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 3)), ((3, 4), (4,)),
                   ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((6, 2, 3), (6, 3, 2)), ((1, 4), (4, 1)),
                   ((1, 3, 4), (2, 4, 5)), ((0, 3, 4), (4, 5)), ((3, 0), (0, 5)), ((2, 0, 4), (4, 3)),
                   # a batch dim of 0 broadcast against 1 (the result's is 0), empty K
                   ((1, 3, 4), (0, 4, 5)), ((0, 1, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (0, 4, 5)),
                   ((2, 3, 0), (1, 0, 4))):
        for label, lay in LAYOUTS:
            yield Case((lay(normal(rng, sa, dtype)), lay(normal(rng, sb, dtype))), label=f"{sa} @ {sb} {label}")


SOFTMAX_CASES = (((4, 10), -1), ((4, 10), 0), ((2, 3, 5), 1), ((7,), 0), ((3, 1000), -1),
                 ((1, 10), -1), ((10, 1), -1), ((1, 10), 0), ((3, 1, 4), 1), ((0, 5), -1))


def _softmax(rng, dtype, ref):
    for shape, axis in SOFTMAX_CASES:
        for label, lay in LAYOUTS:
            yield Case((lay(normal(rng, shape, dtype, 3.0)), axis), label=f"{shape} axis={axis} {label}")
    # large logits: a stable implementation stays finite
    yield Case((np.array([[1000.0, 0.0, -1000.0], [50.0, 51.0, 52.0]], dtype), -1), label="large logits")
    # a slice with +inf or NaN, or only -inf, is NaN throughout (PyTorch); -inf entries give 0
    special = np.array([[np.inf, 1.0, 0.0], [-np.inf] * 3, [np.nan, 1.0, 2.0], [-np.inf, 0.0, 1.0],
                        [np.inf, np.inf, -np.inf], [1.0, 2.0, 3.0]], dtype)
    yield Case((special, -1), label="inf and NaN slices")
    yield Case((np.ascontiguousarray(special.T), 0), label="inf and NaN slices, axis 0")


def _softmax_backward(name: str) -> Generator:
    forward = name.replace("_backward", "")

    def gen(rng, dtype, ref):
        fwd = need_reference(ref, forward)
        for shape, axis in SOFTMAX_CASES:
            for label, lay in LAYOUTS:
                y = np.ascontiguousarray(fwd(normal(rng, shape, dtype, 2.0), axis))
                yield Case((lay(normal(rng, shape, dtype)), lay(y), axis), label=f"{shape} axis={axis} {label}")
    return gen


# -- mnp-nn -----------------------------------------------------------------------------------
def _out_size(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


#: (N, C, H, W, OC, KH, KW, stride, padding, dilation)
CONV_CASES = ((2, 3, 7, 7, 4, 3, 3, (1, 1), (1, 1), (1, 1)),
              (1, 2, 8, 6, 3, 3, 2, (2, 1), (0, 1), (1, 1)),
              (2, 1, 9, 9, 2, 3, 3, (1, 1), (2, 2), (2, 2)),
              (1, 4, 1, 12, 5, 1, 3, (1, 2), (0, 1), (1, 1)),       # conv1d as H = 1
              (3, 2, 5, 5, 2, 1, 1, (1, 1), (0, 0), (1, 1)),
              (1, 1, 1, 1, 1, 1, 1, (1, 1), (0, 0), (1, 1)),       # every extent 1
              (0, 2, 5, 5, 3, 3, 3, (1, 1), (1, 1), (1, 1)))       # an empty batch


def _conv_shapes(case):
    n, c, h, w, oc, kh, kw, st, pd, dl = case
    oh, ow = _out_size(h, kh, st[0], pd[0], dl[0]), _out_size(w, kw, st[1], pd[1], dl[1])
    return (n, c, h, w), (oc, c, kh, kw), (n, oc, oh, ow)


def _conv2d_forward(rng, dtype, ref):
    for case in CONV_CASES:
        xs, ws, _ = _conv_shapes(case)
        st, pd, dl = case[7:]
        for label, lay in LAYOUTS[:2]:
            for bias in (True, False):
                b = normal(rng, (ws[0],), dtype) if bias else None
                yield Case((lay(normal(rng, xs, dtype)), lay(normal(rng, ws, dtype)), b, st, pd, dl),
                           label=f"x{xs} w{ws} s{st} p{pd} d{dl} bias={bias} {label}")


def _conv2d_backward(rng, dtype, ref):
    for case in CONV_CASES:
        xs, ws, ys = _conv_shapes(case)
        st, pd, dl = case[7:]
        for label, lay in LAYOUTS[:2]:
            for needs in ((True, True, True), (True, False, False), (False, True, True)):
                yield Case((lay(normal(rng, ys, dtype)), lay(normal(rng, xs, dtype)),
                            lay(normal(rng, ws, dtype)), st, pd, dl) + needs,
                           label=f"x{xs} w{ws} s{st} p{pd} d{dl} needs={needs} {label}")


def _im2col(rng, dtype, ref):
    for case in CONV_CASES:
        xs, ws, _ = _conv_shapes(case)
        st, pd, dl = case[7:]
        for label, lay in LAYOUTS[:2]:
            yield Case((lay(normal(rng, xs, dtype)), ws[2:], st, pd, dl),
                       label=f"x{xs} k{ws[2:]} s{st} p{pd} d{dl} {label}")


def _col2im(rng, dtype, ref):
    for case in CONV_CASES[:-1]:    # the reference takes no empty batch
        xs, ws, ys = _conv_shapes(case)
        st, pd, dl = case[7:]
        cols = (xs[0], xs[1] * ws[2] * ws[3], ys[2] * ys[3])
        for label, lay in LAYOUTS[:2]:
            yield Case((lay(normal(rng, cols, dtype)), xs, ws[2:], st, pd, dl),
                       label=f"x{xs} k{ws[2:]} s{st} p{pd} d{dl} {label}")


#: (x shape, kernel_size, stride, padding)
POOL_CASES = (((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),
              ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1)),
              ((2, 1, 6, 9), (2, 3), (1, 2), (0, 1)),
              ((1, 4, 5, 5), (3, 3), (1, 1), (1, 1)),
              ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0)),
              ((0, 2, 4, 4), (2, 2), (2, 2), (0, 0)))


def _pool_out(xs, k, s, p):
    return xs[:2] + (_out_size(xs[2], k[0], s[0], p[0]), _out_size(xs[3], k[1], s[1], p[1]))


def _pool_forward(rng, dtype, ref):
    for xs, k, s, p in POOL_CASES:
        for label, lay in LAYOUTS[:2]:
            yield Case((lay(normal(rng, xs, dtype)), k, s, p), label=f"x{xs} k{k} s{s} p{p} {label}")
    if np.dtype(dtype).kind == "f":             # the edge cases of docs/kernels.md
        x = normal(rng, (1, 2, 6, 6), dtype)
        x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan     # two NaNs in one window: the last one wins
        x[0, 1, :3, :3] = -np.inf                 # a padded window of -inf only
        x[0, 1, 3:, 3:] = 7                       # tied windows: the first maximum wins
        yield Case((x, (3, 3), (2, 2), (1, 1)), label="NaN, -inf and tied windows")


def _max_pool2d_backward(rng, dtype, ref):
    fwd = need_reference(ref, "max_pool2d_forward")
    for xs, k, s, p in POOL_CASES[:-1]:     # the reference takes no empty batch
        _, idx = fwd(normal(rng, xs, dtype), k, s, p)
        for label, lay in LAYOUTS[:2]:
            g = lay(normal(rng, _pool_out(xs, k, s, p), dtype))
            yield Case((g, np.array(idx), xs), label=f"x{xs} k{k} s{s} p{p} {label}")


def _avg_pool2d_backward(rng, dtype, ref):
    for xs, k, s, p in POOL_CASES:
        for label, lay in LAYOUTS[:2]:
            g = lay(normal(rng, _pool_out(xs, k, s, p), dtype))
            yield Case((g, xs, k, s, p), label=f"x{xs} k{k} s{s} p{p} {label}")


CE_CASES = ((4, 3), (16, 10), (1, 5), (7, 2), (3, 1), (0, 5))


def _cross_entropy_forward(rng, dtype, ref):
    for n, c in CE_CASES:
        for label, lay in LAYOUTS:
            for smoothing in (0.0, 0.1):
                yield Case((lay(normal(rng, (n, c), dtype, 3.0)), rng.integers(0, c, n).astype(np.int64),
                            smoothing), label=f"N={n} C={c} smoothing={smoothing} {label}")
    yield Case((np.array([[1000.0, 0.0, -1000.0]], dtype), np.array([2], np.int64), 0.0),
               label="large logits")


def _cross_entropy_backward(rng, dtype, ref):
    fwd = need_reference(ref, "cross_entropy_forward")
    for n, c in CE_CASES:
        for label, lay in LAYOUTS[:2]:
            for smoothing in (0.0, 0.1):
                targets = rng.integers(0, c, n).astype(np.int64)
                _, probs = fwd(normal(rng, (n, c), dtype, 3.0), targets, smoothing)
                yield Case((lay(normal(rng, (n,), dtype)), lay(np.ascontiguousarray(probs)), targets,
                            smoothing), label=f"N={n} C={c} smoothing={smoothing} {label}")


#: (B, L, S, E, Ev): L != S both ways, extents of 1, an empty batch
ATTENTION_CASES = ((2, 5, 5, 4, 4), (3, 4, 7, 8, 5), (2, 9, 3, 6, 6), (1, 1, 1, 1, 1), (1, 1, 6, 3, 2),
                   (2, 6, 1, 4, 3), (1, 50, 53, 16, 8), (0, 3, 4, 2, 2))


def _attention_masks(rng, dtype, b: int, l: int, s: int):
    """(label, mask) for every mask form of docs/kernels.md: none, additive (B, L, S),
    broadcast (1, L, S) and (B, 1, S), a bool mask as 0 / -inf with some rows fully masked."""
    yield "no mask", None
    yield "mask (B, L, S)", normal(rng, (b, l, s), dtype)
    yield "mask (1, L, S)", normal(rng, (1, l, s), dtype)
    yield "mask (B, 1, S)", normal(rng, (b, 1, s), dtype)
    keep = rng.random((b, l, s)) < 0.6
    if l > 1:
        keep[:, -1, :] = False     # a row with every key masked: out 0, lse -inf
    yield "bool mask", np.where(keep, 0.0, -np.inf).astype(dtype)


def _attention_inputs(rng, dtype, case):
    b, l, s, e, ev = case
    return normal(rng, (b, l, e), dtype), normal(rng, (b, s, e), dtype), normal(rng, (b, s, ev), dtype)


def _dropout(rng, dtype, b: int, l: int, s: int):
    return (np.where(rng.random((b, l, s)) < 0.25, 0.0, 1 / 0.75)).astype(dtype)


def _attention_forward(rng, dtype, ref):
    for case in ATTENTION_CASES:
        b, l, s, e, _ = case
        for mlabel, mask in _attention_masks(rng, dtype, b, l, s):
            for causal in (False, True):
                for label, lay in LAYOUTS[:2]:
                    q, k, v = _attention_inputs(rng, dtype, case)
                    yield Case((lay(q), lay(k), lay(v), mask, causal, 1 / np.sqrt(max(e, 1)), None),
                               label=f"B={b} L={l} S={s} E={e} {mlabel} causal={causal} {label}")
        q, k, v = _attention_inputs(rng, dtype, case)
        yield Case((q, k, v, None, False, 0.5, _dropout(rng, dtype, b, l, s)),
                   label=f"B={b} L={l} S={s} E={e} dropout")


def _attention_backward(rng, dtype, ref):
    fwd = need_reference(ref, "attention_forward")
    for case in ATTENTION_CASES:
        b, l, s, e, ev = case
        for mlabel, mask in _attention_masks(rng, dtype, b, l, s):
            for causal in (False, True):
                scale = 1 / np.sqrt(max(e, 1))
                q, k, v = _attention_inputs(rng, dtype, case)
                out, lse = fwd(q, k, v, mask, causal, scale, None)
                for label, lay in LAYOUTS[:2]:
                    yield Case((lay(normal(rng, (b, l, ev), dtype)), lay(q), lay(k), lay(v),
                                np.ascontiguousarray(out), np.ascontiguousarray(lse), mask, causal, scale, None),
                               label=f"B={b} L={l} S={s} E={e} {mlabel} causal={causal} {label}")
        q, k, v = _attention_inputs(rng, dtype, case)
        drop = _dropout(rng, dtype, b, l, s)
        out, lse = fwd(q, k, v, None, False, 0.5, drop)
        yield Case((normal(rng, (b, l, ev), dtype), q, k, v, np.ascontiguousarray(out), np.ascontiguousarray(lse),
                    None, False, 0.5, drop), label=f"B={b} L={l} S={s} E={e} dropout")


BN_CASES = ((8, 3, 1), (4, 5, 6), (2, 2, 49), (16, 1, 1), (1, 3, 2), (2, 1, 3))


LN_CASES = ((4, 8), (1, 5), (16, 33), (5, 1), (0, 4))


def _norm_forward(cases: tuple, channel: Callable[[tuple], int]) -> Generator:
    def gen(rng, dtype, ref):
        for shape in cases:
            for label, lay in LAYOUTS[:2]:
                for affine in (True, False):
                    c = channel(shape)
                    gamma = lay(uniform(rng, (c,), dtype, 0.5, 2.0)) if affine else None
                    beta = normal(rng, (c,), dtype) if affine else None
                    yield Case((lay(normal(rng, shape, dtype, 2.0) + 1), gamma, beta, 1e-5),
                               label=f"x{shape} affine={affine} {label}")
    return gen


def _norm_backward(forward: str, cases: tuple, channel: Callable[[tuple], int]) -> Generator:
    def gen(rng, dtype, ref):
        fwd = need_reference(ref, forward)
        for shape in cases:
            for label, lay in LAYOUTS[:2]:
                for affine in (True, False):
                    c = channel(shape)
                    x = normal(rng, shape, dtype, 2.0) + 1
                    gamma = uniform(rng, (c,), dtype, 0.5, 2.0) if affine else None
                    _, mean, invstd = fwd(x, gamma, None, 1e-5)
                    yield Case((lay(normal(rng, shape, dtype)), lay(x), gamma, np.array(mean),
                                np.array(invstd)), label=f"x{shape} affine={affine} {label}")
    return gen


# -- mnp-optim (flat buffers, updated in place) ----------------------------------------------
OPTIM_SIZES = (1, 10, 257, 0)


def _flat(rng, size, dtype, lay, lo=None, hi=None):
    a = normal(rng, (size,), dtype) if lo is None else uniform(rng, (size,), dtype, lo, hi)
    return lay(a)


def _sgd_step(rng, dtype, ref):
    settings = ((0.0, 0.0, False, 0.0, False), (0.9, 0.0, False, 0.0, True),
                (0.9, 0.0, False, 1e-2, False), (0.9, 0.1, False, 0.0, False),
                (0.9, 0.0, True, 1e-3, False), (0.5, 0.0, True, 0.0, True))
    for size in OPTIM_SIZES:
        for label, lay in LAYOUTS[:2]:
            for momentum, dampening, nesterov, wd, first in settings:
                buf = None if momentum == 0 else _flat(rng, size, dtype, lay)
                args = (_flat(rng, size, dtype, lay), _flat(rng, size, dtype, lay), buf, 0.05, momentum,
                        dampening, nesterov, wd, first)
                yield Case(args, label=f"n={size} momentum={momentum} dampening={dampening} "
                                       f"nesterov={nesterov} wd={wd} first={first} {label}",
                           inplace=(0,) if buf is None else (0, 2))


def _adam_step(rng, dtype, ref):
    for size in OPTIM_SIZES:
        for label, lay in LAYOUTS[:2]:
            for step, wd, decoupled, amsgrad in ((1, 0.0, False, False), (5, 1e-2, False, False),
                                                 (3, 1e-2, True, False), (7, 0.0, False, True),
                                                 (2, 1e-2, True, True)):
                first = step == 1
                exp_avg = np.zeros(size, dtype) if first else _flat(rng, size, dtype, lambda a: a, -0.1, 0.1)
                exp_avg_sq = (np.zeros(size, dtype) if first else _flat(rng, size, dtype, lambda a: a, 0.0, 0.02))
                max_sq = (exp_avg_sq + _flat(rng, size, dtype, lambda a: a, 0.0, 0.01)) if amsgrad else None
                args = (_flat(rng, size, dtype, lay), _flat(rng, size, dtype, lay), lay(exp_avg), lay(exp_avg_sq),
                        None if max_sq is None else lay(max_sq), step, 1e-3, 0.9, 0.999, 1e-8, wd,
                        decoupled, amsgrad)
                yield Case(args, label=f"n={size} step={step} wd={wd} decoupled={decoupled} "
                                       f"amsgrad={amsgrad} {label}",
                           inplace=(0, 2, 3, 4) if amsgrad else (0, 2, 3))


def _rmsprop_step(rng, dtype, ref):
    for size in OPTIM_SIZES:
        for label, lay in LAYOUTS[:2]:
            for momentum, wd in ((0.0, 0.0), (0.9, 0.0), (0.0, 1e-2), (0.5, 1e-3)):
                buf = None if momentum == 0 else _flat(rng, size, dtype, lay, -0.1, 0.1)
                args = (_flat(rng, size, dtype, lay), _flat(rng, size, dtype, lay),
                        _flat(rng, size, dtype, lay, 0.0, 0.5), buf, 1e-2, 0.99, 1e-8, momentum, wd)
                yield Case(args, label=f"n={size} momentum={momentum} wd={wd} {label}",
                           inplace=(0, 2) if buf is None else (0, 2, 3))


def _rmsprop_centered_step(rng, dtype, ref):
    for size in OPTIM_SIZES:
        for label, lay in LAYOUTS[:2]:
            for momentum, wd in ((0.0, 0.0), (0.9, 1e-2)):
                buf = None if momentum == 0 else _flat(rng, size, dtype, lay, -0.1, 0.1)
                args = (_flat(rng, size, dtype, lay), _flat(rng, size, dtype, lay),
                        _flat(rng, size, dtype, lay, 0.5, 1.0), _flat(rng, size, dtype, lay, -0.1, 0.1),
                        buf, 1e-2, 0.99, 1e-8, momentum, wd)
                yield Case(args, label=f"n={size} momentum={momentum} wd={wd} {label}",
                           inplace=(0, 2, 3) if buf is None else (0, 2, 3, 4))


def _adagrad_step(rng, dtype, ref):
    for size in OPTIM_SIZES:
        for label, lay in LAYOUTS[:2]:
            for step, lr_decay, wd in ((1, 0.0, 0.0), (4, 0.01, 0.0), (2, 0.0, 1e-2)):
                args = (_flat(rng, size, dtype, lay), _flat(rng, size, dtype, lay),
                        _flat(rng, size, dtype, lay, 0.0, 1.0), step, 1e-2, lr_decay, 1e-10, wd)
                yield Case(args, label=f"n={size} step={step} lr_decay={lr_decay} wd={wd} {label}",
                           inplace=(0, 2))


# -- the table --------------------------------------------------------------------------------
CORE_KERNELS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum",
                "neg", "abs", "sign", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid",
                "relu", "erf", "leaky_relu", "gelu", "relu_backward", "sigmoid_backward",
                "tanh_backward", "leaky_relu_backward", "gelu_backward", "sum", "max", "min",
                "argmax", "argmin", "prod", "gemm", "addmm", "matmul", "softmax", "log_softmax", "softmax_backward",
                "log_softmax_backward")
NN_KERNELS = ("conv2d_forward", "conv2d_backward", "im2col", "col2im", "max_pool2d_forward",
              "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
              "cross_entropy_forward", "cross_entropy_backward", "batch_norm_forward",
              "batch_norm_backward", "layer_norm_forward", "layer_norm_backward",
              "attention_forward", "attention_backward")
OPTIM_KERNELS = ("sgd_step", "adam_step", "rmsprop_step", "rmsprop_centered_step", "adagrad_step")

#: kernel families whose cases are made by one generator per family (also used by `sized`)
BINARY_KERNELS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")
UNARY_KERNELS = ("neg", "abs", "sign", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh",
                 "sigmoid", "relu", "erf")
UNARY_BACKWARD_KERNELS = ("relu_backward", "sigmoid_backward", "tanh_backward",
                          "leaky_relu_backward", "gelu_backward")
SOFTMAX_BACKWARD_KERNELS = ("softmax_backward", "log_softmax_backward")

GENERATORS: dict[str, Generator] = {}
for _n in BINARY_KERNELS:
    GENERATORS[_n] = _binary(_n)
for _n in UNARY_KERNELS:
    GENERATORS[_n] = _unary(_n)
for _n in UNARY_BACKWARD_KERNELS:
    GENERATORS[_n] = _unary_backward(_n)
for _n in SOFTMAX_BACKWARD_KERNELS:
    GENERATORS[_n] = _softmax_backward(_n)
GENERATORS.update({
    "leaky_relu": _leaky_relu, "gelu": _gelu,
    "sum": _reduce_with_identity, "prod": _reduce_with_identity, "max": _reduce, "min": _reduce, "argmax": _arg_reduce, "argmin": _arg_reduce,
    "gemm": _gemm, "addmm": _addmm, "matmul": _matmul, "softmax": _softmax,
    "log_softmax": _softmax, "conv2d_forward": _conv2d_forward, "conv2d_backward": _conv2d_backward,
    "im2col": _im2col, "col2im": _col2im,
    "max_pool2d_forward": _pool_forward, "max_pool2d_backward": _max_pool2d_backward,
    "avg_pool2d_forward": _pool_forward, "avg_pool2d_backward": _avg_pool2d_backward,
    "cross_entropy_forward": _cross_entropy_forward, "cross_entropy_backward": _cross_entropy_backward,
    "batch_norm_forward": _norm_forward(BN_CASES, lambda s: s[1]),
    "batch_norm_backward": _norm_backward("batch_norm_forward", BN_CASES, lambda s: s[1]),
    "layer_norm_forward": _norm_forward(LN_CASES, lambda s: s[1]),
    "layer_norm_backward": _norm_backward("layer_norm_forward", LN_CASES, lambda s: s[1]),
    "attention_forward": _attention_forward, "attention_backward": _attention_backward,
    "rmsprop_centered_step": _rmsprop_centered_step,
    "sgd_step": _sgd_step, "adam_step": _adam_step, "rmsprop_step": _rmsprop_step,
    "adagrad_step": _adagrad_step,
})
del _n


def cases(name: str, dtype: Any, seed: int = 0,
          ref: Callable[[str], Callable] | None = None) -> Iterator[Case]:
    """The cases of kernel ``name`` for ``dtype`` (KeyError when it has no generator)."""
    return iter(GENERATORS[name](np.random.default_rng(seed), np.dtype(dtype), ref))
