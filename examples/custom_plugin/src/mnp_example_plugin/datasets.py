"""A two-class checkerboard in the unit square."""
from __future__ import annotations

import numpy as np


def checkerboard(n: int = 400, squares: int = 4, seed: int | None = None):
    """``(X, y)``: ``n`` points uniform in [0, 1)^2, class = parity of the square they fall in."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 2)).astype(np.float32)
    cells = np.floor(X * squares).astype(np.int64)
    y = (cells.sum(axis=1) % 2).astype(np.int64)
    return X, y
