"""Matrix-product reference kernels."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError


def gemm(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False) -> np.ndarray:
    """``op(a) @ op(b)`` for 2-d ``a`` and ``b``, ``op`` transposing where the flag says."""
    return np.matmul(a.T if trans_a else a, b.T if trans_b else b)


def addmm(bias: np.ndarray, a: np.ndarray, b: np.ndarray, trans_a: bool = False,
          trans_b: bool = False) -> np.ndarray:
    """``bias + op(a) @ op(b)`` (PyTorch's ``addmm``; a linear layer's ``x @ w.T + b``): the
    product is rounded first, then ``bias`` (broadcast to the product's shape) added."""
    out = gemm(a, b, trans_a, trans_b)
    try:
        fits = np.broadcast_shapes(out.shape, bias.shape) == out.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"addmm: bias of shape {bias.shape} does not broadcast to the product's "
                         f"shape {out.shape}")
    if np.result_type(out, bias) == out.dtype:
        return np.add(out, bias, out=out)
    return out + bias


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy's ``matmul`` (1-d operands, broadcast batch dimensions); always an array, a 0-d
    one for two vectors."""
    return np.asarray(np.matmul(a, b))


KERNELS = {"gemm": gemm, "addmm": addmm, "matmul": matmul}
