"""Triangles and diagonals: tril, triu, diagonal, diag_embed, diag and trace, PyTorch's
semantics (batched over the leading dimensions where PyTorch batches).

>>> import mnp.core as mnp
>>> a = mnp.arange(9.0).reshape(3, 3)
>>> a.triu(1).tolist()
[[0.0, 1.0, 2.0], [0.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
>>> a.diagonal().tolist(), a.trace().item(), mnp.diag(mnp.tensor([1.0, 2.0])).tolist()
([0.0, 4.0, 8.0], 12.0, [[1.0, 0.0], [0.0, 2.0]])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ._util import axis_index, int_arg, to_tensor
from .reduce import sum as _sum

if TYPE_CHECKING:
    from ..tensor import Tensor


def _offset(k: Any, op: str) -> int:
    return int_arg(k, "the diagonal offset", op)


class Triangle(Function):
    name = "tril"
    numpy_only = "keeps one triangle of each matrix: data movement"

    def forward(self, x, upper=False, k=0):
        self.cut = np.triu if upper else np.tril
        self.k = k
        return self.cut(x, k)

    def backward(self, g):
        return self.cut(g, self.k)


def _triangle(x: Any, diagonal: Any, upper: bool, op: str) -> Tensor:
    x = to_tensor(x, op=op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions, got shape {x.shape}")
    return Triangle.apply(x, upper=upper, k=_offset(diagonal, op))


def tril(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of each matrix (last two dimensions): elements on and below
    diagonal ``diagonal`` (above the main one when positive), the rest zero."""
    return _triangle(input, diagonal, False, "tril")


def triu(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of each matrix (last two dimensions): elements on and above
    diagonal ``diagonal``, the rest zero."""
    return _triangle(input, diagonal, True, "triu")


def _diag_positions(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the ``n`` elements of diagonal ``offset``."""
    i = np.arange(n)
    return i + max(-offset, 0), i + max(offset, 0)


class Diagonal(Function):
    numpy_only = "reads one diagonal: data movement"

    def forward(self, x, offset=0, dim1=0, dim2=1):
        self.shape, self.args = x.shape, (offset, dim1, dim2)
        return np.diagonal(x, offset, dim1, dim2)

    def backward(self, g):
        return _embed(g, self.shape, *self.args)


class DiagEmbed(Function):
    name = "diag_embed"
    numpy_only = "writes a diagonal into zeros: data movement"

    def forward(self, x, offset=0, dim1=-2, dim2=-1):
        self.args = (offset, dim1, dim2)
        m = x.shape[-1] + abs(offset) if x.ndim else abs(offset) + 1
        shape = list(x.shape[:-1])
        lo, hi = sorted((dim1, dim2))
        shape.insert(lo, m)
        shape.insert(hi, m)
        return _embed(x, tuple(shape), offset, dim1, dim2)

    def backward(self, g):
        return np.diagonal(g, *self.args)


def _embed(d: np.ndarray, shape: tuple[int, ...], offset: int, dim1: int, dim2: int) -> np.ndarray:
    """Zeros of ``shape`` holding ``d`` (diagonals last, as `np.diagonal` gives them) on
    diagonal ``offset`` of dimensions ``dim1`` and ``dim2``."""
    out = np.zeros(shape, d.dtype)
    moved = np.moveaxis(out, (dim1, dim2), (-2, -1))
    rows, cols = _diag_positions(d.shape[-1], offset)
    moved[..., rows, cols] = d
    return out


def _two_dims(ndim: int, dim1: Any, dim2: Any, op: str) -> tuple[int, int]:
    d1, d2 = axis_index(dim1, ndim, op), axis_index(dim2, ndim, op)
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return d1, d2


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """Diagonal ``offset`` of the matrices spanned by ``dim1`` and ``dim2``, appended as the
    last dimension (the other dimensions lead, in order)."""
    x = to_tensor(input, op="diagonal")
    if x.ndim < 2:
        raise ShapeError(f"diagonal: input must have at least 2 dimensions, got shape {x.shape}")
    d1, d2 = _two_dims(x.ndim, dim1, dim2, "diagonal")
    return Diagonal.apply(x, offset=_offset(offset, "diagonal"), dim1=d1, dim2=d2)


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Matrices (in dimensions ``dim1`` and ``dim2`` of the result) whose diagonal ``offset``
    holds the last dimension of ``input``; the inverse of `diagonal`."""
    x = to_tensor(input, op="diag_embed")
    if x.ndim < 1:
        raise ShapeError("diag_embed: input must have at least 1 dimension, got shape ()")
    d1, d2 = _two_dims(x.ndim + 1, dim1, dim2, "diag_embed")
    return DiagEmbed.apply(x, offset=_offset(offset, "diag_embed"), dim1=d1, dim2=d2)


def diag(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-d ``input`` becomes a square matrix with it on diagonal ``diagonal``; a 2-d one
    gives that diagonal as a vector."""
    x = to_tensor(input, op="diag")
    if x.ndim == 1:
        return DiagEmbed.apply(x, offset=_offset(diagonal, "diag"), dim1=0, dim2=1)
    if x.ndim == 2:
        return Diagonal.apply(x, offset=_offset(diagonal, "diag"), dim1=0, dim2=1)
    raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {x.shape}")


def trace(input: Any) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a matrix (integers sum to int64, as in PyTorch)."""
    x = to_tensor(input, op="trace")
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, got shape {x.shape}")
    return _sum(Diagonal.apply(x, offset=0, dim1=0, dim2=1))


class DiagMethods:
    """`Tensor`'s methods of this family: ``x.tril()`` is ``tril(x)``, and so on."""
    __slots__ = ()
    tril = tril
    triu = triu
    diagonal = diagonal
    diag_embed = diag_embed
    diag = diag
    trace = trace


__all__ = ["tril", "triu", "diagonal", "diag_embed", "diag", "trace"]
