"""dtypes: mnp dtypes are numpy dtypes (``mnp.float32 is np.dtype("float32")``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DTypeError

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

SUPPORTED = (float16, float32, float64, int32, int64, bool_)
FLOATING = (float16, float32, float64)
_default = [float32]


def get_default_dtype() -> np.dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype Python floats become; must be a floating dtype."""
    dt = to_dtype(dtype, op="set_default_dtype")
    if dt not in FLOATING:
        raise DTypeError(f"set_default_dtype: only floating dtypes can be the default, got {dt.name}")
    _default[0] = dt


def to_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """Resolve ``dtype`` (an mnp/numpy dtype, a name, or a Python type) to a supported dtype."""
    if dtype is float:
        return _default[0]
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{op}: {dtype!r} is not a dtype") from None
    if dt not in SUPPORTED:
        raise DTypeError(f"{op}: unsupported dtype {dt.name}; supported: "
                         f"{', '.join(d.name for d in SUPPORTED)}")
    return dt


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def infer(array: np.ndarray, from_python: bool, op: str = "tensor") -> np.ndarray:
    """Map a freshly converted array onto mnp's dtypes (Python floats -> default dtype)."""
    dt = array.dtype
    if dt in SUPPORTED:
        if from_python and dt == float64 and _default[0] != float64:
            return array.astype(_default[0])
        return array
    kind = dt.kind
    if kind == "f":
        return array.astype(_default[0] if from_python else float32)
    if kind in "iu":
        return array.astype(int64)
    raise DTypeError(f"{op}: cannot make a tensor from data of dtype {dt} "
                     f"(supported: {', '.join(d.name for d in SUPPORTED)})")
