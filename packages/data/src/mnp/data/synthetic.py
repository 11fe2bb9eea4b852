"""Small synthetic datasets for examples and tests, deterministic under ``seed``.

Each returns ``(X, y)``: float32 features and int64 class labels (float32 targets for
`regression`). Without ``seed`` they draw from mnp's global generator (`mnp.manual_seed`).

>>> from mnp.data import xor, spiral
>>> X, y = xor()
>>> X.tolist(), y.tolist()
([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
>>> spiral(n_per_class=50, classes=3, seed=0)[0].shape
(150, 2)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import check_positive_int, rng_for
from .errors import DataError

_XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
_XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)


def _check_noise(fn: str, noise: Any, name: str = "noise") -> float:
    try:
        value = float(noise)
    except (TypeError, ValueError):
        value = -1.0
    if not np.isfinite(value) or value < 0:
        raise DataError(f"{fn}: {name} must be a non-negative number, got {noise!r}")
    return value


def _out(X: np.ndarray, y: np.ndarray, rng: np.random.Generator | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """float32 X and int64 y, shuffled together when ``rng`` is given."""
    if rng is not None:
        perm = rng.permutation(len(y))
        X, y = X[perm], y[perm]
    return np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64)


def xor(n: int = 4, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: X ``[[0,0],[0,1],[1,0],[1,1]]``, y ``[0,1,1,0]``.

    ``n`` (a multiple of 4) repeats the table ``n // 4`` times, in table order; ``noise``
    adds Gaussian jitter of that standard deviation to X (labels are unchanged).
    """
    n = check_positive_int("xor", "n", n, minimum=4)
    if n % 4:
        raise DataError(f"xor: n must be a multiple of 4 (the truth table repeated), got {n}")
    noise = _check_noise("xor", noise)
    rng = rng_for(seed, "xor")
    X, y = np.tile(_XOR_X, (n // 4, 1)), np.tile(_XOR_Y, n // 4)
    if noise:
        X = X + noise * rng.standard_normal(X.shape)
    return _out(X, y)


def spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2,
           seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-d spirals, one arm per class (the CS231n toy set), ordered by class.

    Arm ``k``: radius ``linspace(0, 1)``, angle ``linspace(4k, 4k + 4)`` plus Gaussian
    noise of std ``noise`` (radians). X has shape ``(n_per_class * classes, 2)``.
    """
    m = check_positive_int("spiral", "n_per_class", n_per_class)
    k = check_positive_int("spiral", "classes", classes)
    noise = _check_noise("spiral", noise)
    rng = rng_for(seed, "spiral")
    r = np.tile(np.linspace(0.0, 1.0, m), k)
    t = (np.linspace(0.0, 4.0, m)[None, :] + 4.0 * np.arange(k)[:, None]).reshape(-1)
    t = t + noise * rng.standard_normal(t.shape)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return _out(X, np.repeat(np.arange(k), m))


def linear(n: int = 100, features: int = 2, noise: float = 0.1,
           seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two linearly separable classes split by a random hyperplane through the origin.

    Points are standard normal, pushed 0.5 away from the plane on their own side; ``noise``
    is the std of Gaussian jitter added afterwards, whose component across the plane is
    clipped to 0.45 so the classes always stay separable. Labels: 1 on the positive side.
    """
    n = check_positive_int("linear", "n", n)
    d = check_positive_int("linear", "features", features)
    noise = _check_noise("linear", noise)
    rng = rng_for(seed, "linear")
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    X = rng.standard_normal((n, d))
    side = np.where(X @ w >= 0, 1.0, -1.0)
    X += 0.5 * side[:, None] * w
    jitter = noise * rng.standard_normal((n, d))
    across = jitter @ w
    jitter += (np.clip(across, -0.45, 0.45) - across)[:, None] * w
    return _out(X + jitter, (side > 0).astype(np.int64))


def moons(n: int = 100, noise: float = 0.1, seed: int | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``), shuffled.

    Class 0 is the upper moon (``n // 2`` points), class 1 the lower one; ``noise`` is the
    std of Gaussian jitter.
    """
    n = check_positive_int("moons", "n", n, minimum=2)
    noise = _check_noise("moons", noise)
    rng = rng_for(seed, "moons")
    n_out = n // 2
    n_in = n - n_out
    a, b = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1),
                        np.stack([1 - np.cos(b), 1 - np.sin(b) - 0.5], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    return _out(X, np.repeat([0, 1], [n_out, n_in]), rng)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A circle inside another (scikit-learn's ``make_circles``), shuffled.

    Class 0 is the unit circle (``n // 2`` points), class 1 the inner one of radius
    ``factor`` (in [0, 1)); ``noise`` is the std of Gaussian jitter.
    """
    n = check_positive_int("circles", "n", n, minimum=2)
    noise = _check_noise("circles", noise)
    if not 0.0 <= factor < 1.0:
        raise DataError(f"circles: factor must lie in [0, 1), got {factor!r}")
    rng = rng_for(seed, "circles")
    n_out = n // 2
    n_in = n - n_out
    a = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    b = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1),
                        factor * np.stack([np.cos(b), np.sin(b)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    return _out(X, np.repeat([0, 1], [n_out, n_in]), rng)


def blobs(n: int = 100, centers: Any = 3, features: int = 2, std: float = 1.0,
          seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``), shuffled.

    ``centers``: a number of clusters (centres drawn uniformly in ``[-10, 10]^features``)
    or an array of centres ``(k, features)``. The ``n`` points are spread as evenly as
    possible over the clusters; ``std`` is each cluster's standard deviation. y is the
    cluster index.
    """
    n = check_positive_int("blobs", "n", n)
    std = _check_noise("blobs", std, "std")
    rng = rng_for(seed, "blobs")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = check_positive_int("blobs", "centers", centers)
        d = check_positive_int("blobs", "features", features)
        c = rng.uniform(-10.0, 10.0, size=(k, d))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] == 0:
            raise DataError(f"blobs: centers must be a count or an array (k, features), got "
                            f"shape {c.shape}")
        k, d = c.shape
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    y = np.repeat(np.arange(k), sizes)
    X = c[y] + std * rng.standard_normal((n, d))
    return _out(X, y, rng)


def regression(n: int = 100, features: int = 1, noise: float = 0.1,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A noisy linear target: ``y = X @ w + b + noise * N(0, 1)`` with random ``w`` and ``b``.

    X is standard normal ``(n, features)``; y is float32 of shape ``(n,)``.
    """
    n = check_positive_int("regression", "n", n)
    d = check_positive_int("regression", "features", features)
    noise = _check_noise("regression", noise)
    rng = rng_for(seed, "regression")
    w, b = rng.standard_normal(d), rng.standard_normal()
    X = rng.standard_normal((n, d))
    y = X @ w + b + noise * rng.standard_normal(n)
    return X.astype(np.float32), y.astype(np.float32)


__all__ = ["xor", "spiral", "linear", "moons", "circles", "blobs", "regression"]
