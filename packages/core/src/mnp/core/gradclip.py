"""Gradient clipping in place, shared by `mnp.nn.utils` and `mnp.optim` (PyTorch's
``clip_grad_norm_`` and ``clip_grad_value_`` semantics).

>>> import mnp.core as mnp
>>> from mnp.core.gradclip import clip_grad_norm_
>>> w = mnp.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()                   # grad [6, 8], norm 10
>>> round(clip_grad_norm_([w], max_norm=1.0).item(), 4)
10.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .errors import ArgumentError, MnpError
from .tensor import Tensor


class NonFiniteNormError(MnpError, RuntimeError):
    """`clip_grad_norm_(..., error_if_nonfinite=True)` met a NaN or infinite total norm."""


def _grads(parameters: Tensor | Iterable[Tensor], op: str, error: type) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise error(f"{op}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if p.grad is not None:
            grads.append(p.grad.data)
    return grads


def _norm_type(norm_type: float | str, error: type) -> float:
    if isinstance(norm_type, str) and norm_type.lower() not in ("inf", "-inf"):
        raise error(f"clip_grad_norm_: norm_type must be a number or 'inf', got {norm_type!r}")
    return float(norm_type)


def vector_norm(x: np.ndarray, ord: float) -> float:
    """The ``ord`` norm of ``x`` flattened, in float64 (``inf``, ``-inf`` and 0 as torch)."""
    x = np.abs(np.asarray(x, dtype=np.float64).ravel())
    if x.size == 0:
        return 0.0
    if ord == math.inf:
        return float(x.max())
    if ord == -math.inf:
        return float(x.min())
    if ord == 0:
        return float(np.count_nonzero(x))
    if ord == 1:
        return float(x.sum())
    if ord == 2:
        return float(np.sqrt(np.dot(x, x)))
    return float(np.sum(x ** ord) ** (1.0 / ord))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None, *, error: type = ArgumentError) -> Tensor:
    """Scale all gradients together so their joint ``norm_type`` norm is at most ``max_norm``.

    The joint norm is the norm of the per-gradient norms (PyTorch's definition); gradients
    are multiplied by ``min(1, max_norm / (total + 1e-6))``. Returns the total norm before
    clipping as a 0-d Tensor of the gradients' dtype. ``error_if_nonfinite=True`` raises
    `NonFiniteNormError` instead of clipping when the norm is NaN or infinite; bad arguments
    raise ``error``. ``foreach`` is accepted for PyTorch compatibility.
    """
    ord = _norm_type(norm_type, error)
    max_norm = float(max_norm)
    grads = _grads(parameters, "clip_grad_norm_", error)
    if not grads:
        return Tensor(np.float32(0.0))
    total = vector_norm(np.array([vector_norm(g, ord) for g in grads]), ord)
    if error_if_nonfinite and not math.isfinite(total):
        raise NonFiniteNormError(f"clip_grad_norm_: the total norm of order {ord} of the "
                                 f"gradients is {total}; set error_if_nonfinite=False to clip "
                                 f"anyway")
    dtype = np.result_type(*grads)
    real = (np.float32 if dtype == np.float16 else dtype.type)
    coef = min(real(max_norm) / (real(total) + real(1e-6)), real(1.0))
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite norm gives NaN, as torch
        for g in grads:
            np.multiply(g, coef, out=g, casting="same_kind")
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None, *, error: type = ArgumentError) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise error(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters, "clip_grad_value_", error):
        np.clip(g, -clip_value, clip_value, out=g)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "vector_norm", "NonFiniteNormError"]
