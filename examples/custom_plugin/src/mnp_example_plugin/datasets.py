"""A two-class checkerboard in the unit square.

>>> from mnp_example_plugin import checkerboard
>>> X, y = checkerboard(n=6, seed=0)
>>> X.shape, X.dtype.name, y.dtype.name
((6, 2), 'float32', 'int64')
"""
from __future__ import annotations

import numpy as np

from mnp.core import ArgumentError


def checkerboard(n: int = 400, squares: int = 4, seed: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``n`` points uniform in [0, 1)^2 (float32), the class (int64) the parity of
    the cell of a ``squares`` x ``squares`` board they fall in."""
    if int(n) < 1 or int(squares) < 1:
        raise ArgumentError(f"checkerboard: n and squares must be >= 1, got n={n}, "
                            f"squares={squares}")
    rng = np.random.default_rng(seed)
    X = rng.random((int(n), 2)).astype(np.float32)
    cells = np.minimum(np.floor(X * int(squares)), int(squares) - 1).astype(np.int64)
    y = (cells.sum(axis=1) % 2).astype(np.int64)
    return X, y
