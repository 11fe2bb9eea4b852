"""``mnp.core.linalg``: the norms under PyTorch's ``torch.linalg`` names.

>>> import mnp.core as mnp
>>> A = mnp.tensor([[3.0, 0.0], [0.0, -4.0]])
>>> mnp.linalg.norm(A).item(), mnp.linalg.matrix_norm(A, 2).item(), mnp.linalg.vector_norm(A, 1).item()
(5.0, 4.0, 7.0)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ShapeError
from .ops._util import to_tensor
from .ops.linalg import matrix_norm as _matrix_norm
from .ops.linalg import vector_norm as _vector_norm

if TYPE_CHECKING:
    from .tensor import Tensor


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """``torch.linalg.vector_norm``: the entrywise ``ord`` norm over ``dim`` (all elements by
    default; an int or a tuple); ``ord`` 2, 1, inf, -inf, 0 or any p."""
    return _vector_norm(x, ord, dim, keepdim)


def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False) -> Tensor:  # noqa: A002,N803
    """``torch.linalg.matrix_norm`` over the two dimensions ``dim``, batched over the rest:
    ``'fro'``, ``'nuc'``, 2 / -2 (largest / smallest singular value), 1 / -1 (max / min
    absolute column sum), inf / -inf (max / min absolute row sum), all differentiable."""
    return _matrix_norm(A, ord, dim, keepdim)


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A002,N803
    """``torch.linalg.norm``: a matrix norm when ``dim`` is a pair, or when ``dim`` is None,
    ``ord`` is given and ``A`` is 2-d; otherwise a vector norm (``ord`` None: the 2-norm of
    all elements, or over ``dim``). A string ``ord`` needs a matrix; a ``dim`` of None with
    ``ord`` given needs a 1-d or 2-d ``A``."""
    A = to_tensor(A, op="norm")  # noqa: N806
    if isinstance(dim, (tuple, list)) and len(dim) == 2:
        return _matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim)
    if dim is None and ord is not None:
        if A.ndim == 2:
            return _matrix_norm(A, ord, (-2, -1), keepdim)
        if A.ndim != 1:
            raise ShapeError(f"norm: with ord={ord!r} and no dim the input must be 1-d or 2-d, "
                             f"got shape {A.shape}")
    if isinstance(ord, str):
        raise ShapeError(f"norm: ord {ord!r} is a matrix norm; it needs a 2-d input or a pair "
                         f"of dims (got shape {A.shape}, dim {dim!r})")
    return _vector_norm(A, 2 if ord is None else ord, dim, keepdim)


__all__ = ["vector_norm", "matrix_norm", "norm"]
