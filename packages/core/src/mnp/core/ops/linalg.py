"""Matrix and vector ops: matmul and the vector/matrix API."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..dispatch import kernel
from ..errors import ShapeError
from ..tensor import Tensor, method
from ._util import pair, promote, unbroadcast


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
        return kernel("matmul", a.dtype)(a, b)

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
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
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


@method
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-d operands, broadcast batch dimensions).

    >>> import mnp.core as mnp
    >>> mnp.matmul(mnp.ones((2, 3)), mnp.ones((3, 4))).shape
    (2, 4)
    """
    a, b = pair(a, b, "matmul")
    return MatMul.apply(a, b)

__all__ = ["matmul"]
