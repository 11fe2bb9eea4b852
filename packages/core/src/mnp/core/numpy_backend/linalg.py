"""Matrix-product reference kernels."""
from __future__ import annotations

import numpy as np


def gemm(a: np.ndarray, b: np.ndarray, trans_a: bool = False, trans_b: bool = False) -> np.ndarray:
    """``op(a) @ op(b)`` for 2-d ``a`` and ``b``, ``op`` transposing where the flag says."""
    return np.matmul(a.T if trans_a else a, b.T if trans_b else b)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy's ``matmul`` (1-d operands, broadcast batch dimensions); always an array, a 0-d
    one for two vectors."""
    return np.asarray(np.matmul(a, b))


KERNELS = {"gemm": gemm, "matmul": matmul}
