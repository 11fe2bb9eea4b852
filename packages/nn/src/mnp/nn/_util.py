"""Small helpers shared by nn's ops, layers and losses: argument normalisation, errors and
kernel calls on operands of mixed dtypes."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import ArgumentError, DTypeError, MnpError, ShapeError, Tensor, as_tensor
from mnp.core.dispatch import kernel

REDUCTIONS = ("mean", "sum", "none")


class IndexOutOfRangeError(MnpError, IndexError):
    """An index (a class target, an embedding row, a container position) out of range."""


class TrainerError(MnpError, ValueError):
    """Bad arguments to `Trainer` or data it cannot batch."""


def apply_kernel(name: str, *arrays: Any) -> np.ndarray:
    """The ``name`` kernel of the active backend on ``arrays`` (numpy arrays or scalars),
    cast first to the dtype numpy's own ufunc would compute in; a Python scalar takes the
    dtype of the arrays (as numpy treats it), so the numpy backend's result is numpy's."""
    dt = np.result_type(*arrays)
    return kernel(name, dt)(*(a.astype(dt, copy=False) if isinstance(a, np.ndarray)
                              else np.asarray(a, dt) for a in arrays))


def ntuple(value: Any, n: int, name: str, op: str, minimum: int = 0) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``n`` ints) as an ``n``-tuple of ints >= ``minimum``."""
    if isinstance(value, (int, np.integer)):
        out = (int(value),) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, "
                                f"got {value!r}") from None
        if len(out) != n:
            raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in out):
        raise ArgumentError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return out


def check_reduction(reduction: str, op: str) -> str:
    if reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_dtypes(op: str, x: Tensor, weight: Tensor | None, bias: Tensor | None = None,
                 half_input: bool = False) -> None:
    """As in PyTorch, an input and the parameters it meets must share one dtype (a float64
    batch into a float32 layer is an error, not a silent cast). ``half_input``: the
    normalisations also take a float16 input with float32 parameters, as PyTorch does."""
    mixed = half_input and x.dtype == np.float16 and weight is not None \
        and weight.dtype == np.float32
    if weight is not None and x.dtype != weight.dtype and not mixed:
        raise DTypeError(f"{op}: input dtype {x.dtype.name} does not match the weight dtype "
                         f"{weight.dtype.name}; convert the input (x.to(mnp.{weight.dtype.name})) "
                         f"or the parameters (module.to(mnp.{x.dtype.name}))")
    if weight is not None and bias is not None and bias.dtype != weight.dtype:
        raise DTypeError(f"{op}: bias dtype {bias.dtype.name} does not match the weight dtype "
                         f"{weight.dtype.name}")


def optional_tensor(x: Any, op: str) -> Tensor | None:
    return None if x is None else as_tensor(x, op=op)


#: the names of the spatial dimensions of a 1-, 2- or 3-d layer's input
SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def batched(x: Tensor, dims: int, op: str) -> tuple[Tensor, bool]:
    """``x`` as an (N, C, *spatial) tensor with ``dims`` spatial dimensions (an unbatched
    (C, *spatial) one gets N = 1), and whether it was unbatched."""
    unbatched = x.ndim == dims + 1
    if unbatched:
        x = x.reshape((1,) + x.shape)
    if x.ndim != dims + 2:
        raise ShapeError(f"{op}: expected a {dims + 2}-d input (N, C, {SPATIAL[dims]}) "
                         f"or an unbatched {dims + 1}-d one, got shape {x.shape}")
    return x, unbatched


def legacy_reduction(size_average: Any, reduce: Any, reduction: str, op: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair, when either is given, overrides
    ``reduction``; otherwise ``reduction``, checked."""
    if size_average is None and reduce is None:
        return check_reduction(reduction, op)
    size_average = True if size_average is None else bool(size_average)
    reduce = True if reduce is None else bool(reduce)
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def reduce_loss(losses: Tensor, reduction: str) -> Tensor:
    """Per-element ``losses`` reduced by ``reduction`` (``'mean'``, ``'sum'`` or ``'none'``)."""
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()
