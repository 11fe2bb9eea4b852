"""`default_collate`: a list of samples stacked into one batch of tensors."""
from __future__ import annotations

import collections.abc as cabc
from typing import Any, Sequence

import numpy as np

import mnp.core as mnp
from mnp.core import ShapeError

from .errors import DataError


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch.

    Arrays and tensors are stacked along a new first axis into a tensor; Python numbers
    become a 1-d tensor (floats float32, ints int64, bools bool); tuples, lists and dicts
    are batched field by field, keeping their type; strings stay a list.
    """
    if not samples:
        raise DataError("default_collate: no samples to batch")
    first = samples[0]
    if isinstance(first, (mnp.Tensor, np.ndarray)):
        arrays = [s.data if isinstance(s, mnp.Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ShapeError("default_collate: samples have different shapes "
                             + ", ".join(str(s) for s in sorted(shapes, key=str))
                             + "; pass a collate_fn to batch them")
        return mnp.from_numpy(np.stack(arrays))
    if isinstance(first, np.generic):
        return mnp.from_numpy(np.asarray(samples))
    if isinstance(first, (bool, int, float)):
        return mnp.tensor(list(samples))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, cabc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(s) for s in samples}) > 1:
            raise DataError("default_collate: tuple samples of different lengths "
                            f"{sorted({len(s) for s in samples})}")
        fields = [default_collate(list(f)) for f in zip(*samples)]
        if isinstance(first, list):
            return fields
        if hasattr(first, "_fields"):          # a namedtuple
            return type(first)(*fields)
        return tuple(fields)
    raise DataError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "pass a collate_fn")


__all__ = ["default_collate"]
