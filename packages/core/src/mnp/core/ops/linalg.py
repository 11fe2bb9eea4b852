"""Matrix and vector products and norms: matmul, dot, outer, matvec, norm, vector_norm,
matrix_norm, frobenius_norm.

>>> import mnp.core as mnp
>>> A = mnp.tensor([[3.0, 0.0], [0.0, 4.0]])
>>> v = mnp.tensor([1.0, 1.0])
>>> mnp.matvec(A, v).tolist(), mnp.norm(v @ A).item(), mnp.matrix_norm(A, 2).item()
([3.0, 4.0], 5.0, 4.0)
"""
from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..dispatch import kernel
from ..errors import ArgumentError, ShapeError
from ._util import (expand_reduced, floating, keep, norm_axis, pair, pick_axis, promote,
                    squeeze_reduced, unbroadcast)
from .shape import reshape, unsqueeze

if TYPE_CHECKING:
    from ..tensor import Tensor


# -- products -------------------------------------------------------------------------------
def _matmul_check(a: np.ndarray, b: np.ndarray, op: str = "matmul") -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"{op}: both operands need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    k1 = a.shape[-1]
    k2 = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k1 != k2:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} are not aligned: {k1} != {k2}")
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ShapeError(f"{op}: batch dimensions of shapes {a.shape} and {b.shape} cannot "
                             f"be broadcast") from None


class MatMul(Function):
    def forward(self, a, b):
        _matmul_check(a, b)
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.a, self.b = a, b
        if a.ndim == 2 and b.ndim == 2:
            return kernel("gemm", a.dtype)(a, b, False, False)
        return np.asarray(kernel("matmul", a.dtype)(a, b))

    def backward(self, g):
        a, b = self.a, self.b
        ra, rb = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            gemm = kernel("gemm", g.dtype)
            return (gemm(g, b, False, True) if ra else None,
                    gemm(a, g, True, False) if rb else None)
        mm = kernel("matmul", g.dtype)
        a2 = a[None, :] if a.ndim == 1 else a          # (.., n, k)
        b2 = b[:, None] if b.ndim == 1 else b          # (.., k, m)
        g2 = g[..., None] if b.ndim == 1 else g        # (.., n, m)
        if a.ndim == 1:
            g2 = g2[..., None, :]
        ga = gb = None
        if ra:
            ga = mm(g2, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape)
            ga = ga.reshape(a.shape)
        if rb:
            gb = mm(np.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-d operands, broadcast batch dimensions).

    >>> import mnp.core as mnp
    >>> mnp.matmul(mnp.ones((2, 3)), mnp.ones((3, 4))).shape
    (2, 4)
    """
    a, b = pair(a, b, "matmul")
    return MatMul.apply(a, b)


class Dot(Function):
    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.a, self.b = a, b
        return np.asarray(kernel("matmul", a.dtype)(a, b))

    def backward(self, g):
        ra, rb = self.needs_input_grad
        mul = kernel("mul", g.dtype)
        return (mul(g, self.b) if ra else None, mul(g, self.a) if rb else None)


def _vectors(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    a, b = pair(a, b, op)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"{op}: expects two 1-d tensors, got shapes {a.shape} and {b.shape}")
    return a, b


def dot(a: Any, b: Any) -> Tensor:
    """Inner product of two 1-d tensors of the same length (a 0-d tensor)."""
    a, b = _vectors(a, b, "dot")
    if a.shape != b.shape:
        raise ShapeError(f"dot: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a.shape[0]} != {b.shape[0]}")
    return Dot.apply(a, b)


class Outer(Function):
    numpy_only = "backward: numpy matrix-vector products, no kernel yet"

    def forward(self, a, b):
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.a, self.b = a, b
        return kernel("mul", a.dtype)(a[:, None], b[None, :])

    def backward(self, g):
        ra, rb = self.needs_input_grad
        return (g @ self.b if ra else None, self.a @ g if rb else None)


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of 1-d ``a`` (n,) and ``b`` (m,): the (n, m) matrix ``a[i] * b[j]``."""
    return Outer.apply(*_vectors(a, b, "outer"))


def matvec(A: Any, v: Any) -> Tensor:  # noqa: N803
    """Matrix-vector product ``A @ v``: ``A`` (..., m, n), ``v`` (..., n) -> (..., m), batch
    dimensions broadcast (numpy's ``matvec``). Alias ``mv``."""
    A, v = pair(A, v, "matvec")  # noqa: N806
    if A.ndim < 2 or v.ndim < 1:
        raise ShapeError(f"matvec: expects a matrix (at least 2-d) and a vector (at least 1-d), "
                         f"got shapes {A.shape} and {v.shape}")
    if A.shape[-1] != v.shape[-1]:
        raise ShapeError(f"matvec: shapes {A.shape} and {v.shape} are not aligned: "
                         f"{A.shape[-1]} != {v.shape[-1]}")
    try:
        batch = np.broadcast_shapes(A.shape[:-2], v.shape[:-1])
    except ValueError:
        raise ShapeError(f"matvec: batch dimensions of shapes {A.shape} and {v.shape} cannot be "
                         f"broadcast") from None
    if v.ndim == 1:
        return MatMul.apply(A, v)
    y = MatMul.apply(A, unsqueeze(v, -1))
    return reshape(y, batch + (A.shape[-2],))


mv = matvec


# -- norms ----------------------------------------------------------------------------------
class VectorNorm(Function):
    """``(sum |x|^p)^(1/p)`` over ``axes`` (``p`` in 0, ±inf too). Where the norm is 0 the
    gradient is 0 (a subgradient), never NaN; ties of the ±inf norms share it evenly."""
    name = "norm"
    numpy_only = "no kernel yet"

    def forward(self, x, ord=2.0, axes=None, keepdims=False):
        self.x, self.ord, self.axes, self.keepdims = x, ord, axes, keepdims
        dt = x.dtype
        if ord == 2:
            n = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        elif ord == 1:
            n = np.sum(np.abs(x), axis=axes, keepdims=True)
        elif ord == math.inf:
            n = np.max(np.abs(x), axis=axes, keepdims=True)
        elif ord == -math.inf:
            n = np.min(np.abs(x), axis=axes, keepdims=True)
        elif ord == 0:
            n = np.sum(x != 0, axis=axes, keepdims=True)
        else:
            with np.errstate(divide="ignore", over="ignore"):
                n = np.sum(np.abs(x) ** ord, axis=axes, keepdims=True) ** (1.0 / ord)
        self.n = np.asarray(n, dtype=dt)
        return squeeze_reduced(self.n, axes, keepdims)

    def backward(self, g):
        x, n, p = self.x, self.n, self.ord
        g = expand_reduced(g, self.axes, self.keepdims)
        zero = np.zeros((), g.dtype)
        if p == 0:
            return np.zeros(x.shape, g.dtype)
        if p == 2:
            return np.where(n > 0, g / np.where(n > 0, n, 1), zero) * x
        if p == 1:
            return g * np.sign(x)
        if p in (math.inf, -math.inf):
            mask = np.abs(x) == n
            ties = np.sum(mask, axis=self.axes, keepdims=True, dtype=g.dtype)
            return np.sign(x) * mask * (g / np.maximum(ties, 1))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = np.sign(x) * (np.abs(x) / n) ** (p - 1)
        return g * np.where(np.isfinite(d) & (x != 0), d, zero)


class MatrixNorm(Function):
    """Induced 1 / inf norms (max absolute column / row sum), their -1 / -inf minima, and the
    singular-value norms 2 / -2 / 'nuc', over the two ``axes`` (rows, columns)."""
    name = "matrix_norm"
    numpy_only = "no kernel yet (numpy's SVD for the singular-value norms)"

    def forward(self, x, ord="nuc", axes=(0, 1), keepdims=False):
        self.shape, self.ord, self.axes, self.keepdims = x.shape, ord, axes, keepdims
        r, c = axes
        if ord in (1, -1, math.inf, -math.inf):
            across, pick = (r, c) if ord in (1, -1) else (c, r)
            s = np.sum(np.abs(x), axis=across, keepdims=True)
            n = (np.max if ord > 0 else np.min)(s, axis=pick, keepdims=True)
            self.sign, self.mask = np.sign(x), s == n
            self.ties = np.sum(self.mask, axis=pick, keepdims=True, dtype=x.dtype)
        else:
            m = np.moveaxis(x, (r, c), (-2, -1))
            u, sv, vh = np.linalg.svd(m, full_matrices=False)
            if ord == "nuc":
                n, self.dm = sv.sum(-1), u @ vh
            else:
                k = 0 if ord == 2 else -1
                n, self.dm = sv[..., k], u[..., :, k, None] * vh[..., k, None, :]
            n = np.expand_dims(n, tuple(sorted(axes)))
        self.n = np.asarray(n, dtype=x.dtype)
        return squeeze_reduced(self.n, tuple(sorted(axes)), keepdims)

    def backward(self, g):
        g = expand_reduced(g, tuple(sorted(self.axes)), self.keepdims)
        if self.ord in (1, -1, math.inf, -math.inf):
            return self.sign * self.mask * (g / self.ties)
        r, c = self.axes
        gm = np.moveaxis(g, (r, c), (-2, -1)) * self.dm
        return np.moveaxis(gm, (-2, -1), (r, c))


def _ord(ord: Any, p: Any, op: str, allowed: tuple = ()) -> Any:  # noqa: A002
    if p is not None:
        ord = p  # noqa: A001
    if isinstance(ord, str):
        if ord in allowed:
            return ord
    elif isinstance(ord, (int, float, np.integer, np.floating)) and not isinstance(ord, bool) \
            and not math.isnan(ord):
        return float(ord)
    raise ArgumentError(f"{op}: unsupported ord {ord!r}; use a number (2, 1, inf, -inf, 0, p)"
                        + (f" or one of {', '.join(map(repr, allowed))}" if allowed else ""))


def _empty_check(x: Tensor, axes: tuple[int, ...] | None, ord: Any, op: str) -> None:  # noqa: A002
    count = x.numel() if axes is None else math.prod(x.shape[a] for a in axes)
    if count == 0 and ord in (math.inf, -math.inf):
        raise ShapeError(f"{op}: ord {ord!r} of an empty slice (shape {x.shape}, axes {axes}) "
                         f"is undefined")


def vector_norm(x: Any, ord: float = 2, axis: Any = None, keepdims: bool = False, *,  # noqa: A002
                dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Entrywise vector norm over ``axis`` (all elements by default; an int or a tuple), as
    ``torch.linalg.vector_norm``: ``ord`` = 2, 1, inf, -inf, 0 (count of non-zeros) or any p."""
    x = floating(x, "vector_norm")
    p = _ord(ord, None, "vector_norm")
    axes = norm_axis(pick_axis(axis, dim, "vector_norm"), x.ndim, "vector_norm")
    axes = None if x.ndim == 0 else axes
    _empty_check(x, axes, p, "vector_norm")
    return VectorNorm.apply(x, ord=p, axes=axes, keepdims=keep(keepdims, keepdim))


def _matrix_axes(axis: Any, ndim: int, op: str, shape: tuple) -> tuple[int, int]:
    if ndim < 2:
        raise ShapeError(f"{op}: expects a matrix (at least 2 dimensions), got shape {shape}")
    try:
        r, c = (operator.index(a) for a in axis)
    except (TypeError, ValueError):
        raise ShapeError(f"{op}: axis must be a pair of dimensions, got {axis!r}") from None
    norm_axis((r, c), ndim, op)  # range and repeat checks
    return r % ndim, c % ndim


def matrix_norm(A: Any, ord: Any = "fro", axis: Any = (-2, -1), keepdims: bool = False, *,  # noqa: A002,N803
                dim: Any = None, keepdim: bool | None = None) -> Tensor:
    """Matrix norm over the two dimensions ``axis`` (rows, columns), batched over the rest, as
    ``torch.linalg.matrix_norm``: ``'fro'``, ``'nuc'`` (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min absolute column sum), inf / -inf
    (max / min absolute row sum)."""
    A = floating(A, "matrix_norm")  # noqa: N806
    p = _ord(ord, None, "matrix_norm", ("fro", "nuc"))
    if p not in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf):
        raise ArgumentError(f"matrix_norm: unsupported ord {ord!r}; use 'fro', 'nuc', 2, -2, 1, "
                            f"-1, inf or -inf")
    axes = _matrix_axes(axis if dim is None else dim, A.ndim, "matrix_norm", A.shape)
    kept = keep(keepdims, keepdim)
    if p == "fro":
        return VectorNorm.apply(A, ord=2.0, axes=tuple(sorted(axes)), keepdims=kept)
    if A.shape[axes[0]] == 0 or A.shape[axes[1]] == 0:
        raise ShapeError(f"matrix_norm: ord {ord!r} of empty matrices (shape {A.shape}) is "
                         f"undefined")
    return MatrixNorm.apply(A, ord=p, axes=axes, keepdims=kept)


def norm(x: Any, ord: Any = 2, axis: Any = None, keepdims: bool = False, *,  # noqa: A002
         dim: Any = None, keepdim: bool | None = None, p: Any = None) -> Tensor:
    """Norm over ``axis`` (all elements by default), as ``torch.norm`` / ``Tensor.norm``
    (``dim``, ``keepdim`` and ``p`` accepted): a number ``ord`` (2, 1, inf, -inf, 0 or any p)
    is the entrywise vector norm over ``axis`` (an int or a tuple) and ``'fro'`` is the same
    as 2; ``'nuc'`` is the nuclear norm of the matrices in the last two axes (or ``axis``).
    So ``norm(A, 2)`` of a matrix is its Frobenius norm: for the spectral norm and the
    induced matrix norms use `matrix_norm`.

    >>> import mnp.core as mnp
    >>> mnp.norm(mnp.tensor([3.0, -4.0])).item(), mnp.norm(mnp.tensor([3.0, -4.0]), 1).item()
    (5.0, 7.0)
    """
    o = _ord(2 if ord is None else ord, p, "norm", ("fro", "nuc"))
    axis = pick_axis(axis, dim, "norm")
    if o == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if axis is None else axis, keepdims, keepdim=keepdim)
    return vector_norm(x, 2.0 if o == "fro" else o, axis, keepdims, keepdim=keepdim)


def frobenius_norm(A: Any, axis: Any = (-2, -1), keepdims: bool = False) -> Tensor:  # noqa: N803
    """``sqrt(sum(A**2))`` over the matrix dimensions ``axis`` (the last two), batched."""
    return matrix_norm(A, "fro", axis, keepdims)


class LinalgMethods:
    """`Tensor`'s methods of this family: ``x.matmul(y)`` is ``matmul(x, y)``, and so on."""
    __slots__ = ()
    matmul = matmul
    dot = dot
    outer = outer
    mv = mv
    norm = norm


__all__ = ["matmul", "dot", "outer", "matvec", "mv", "norm", "vector_norm", "matrix_norm",
           "frobenius_norm"]
