"""Conversions shared by the data modules: arrays in, arrays (or tensors) out."""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp

from .errors import DataError


def to_array(x: Any) -> np.ndarray:
    """``x`` as a numpy array without copying arrays and tensors (Python floats -> float32)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, mnp.Tensor):
        return x.data
    return mnp.tensor(x).data


def like_input(result: np.ndarray, original: Any) -> Any:
    """``result`` as a Tensor when ``original`` was one, else the array."""
    return mnp.from_numpy(result) if isinstance(original, mnp.Tensor) else result


def check_seed(fn: str, seed: Any) -> int | None:
    """``seed`` as an int >= 0, or None; a DataError naming ``fn`` otherwise."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"{fn}: seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def rng_for(seed: int | None, fn: str = "mnp.data") -> np.random.Generator:
    """A generator seeded by ``seed``; without one, mnp's global generator (`mnp.manual_seed`)."""
    seed = check_seed(fn, seed)
    return mnp.generator() if seed is None else np.random.default_rng(seed)


def check_positive_int(fn: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a DataError naming ``fn`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(f"{fn}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_float(a: np.ndarray) -> np.ndarray:
    """Floating arrays as they are; anything else as float32."""
    return a if a.dtype.kind == "f" else a.astype(np.float32)
