"""Gradient clipping in place: `clip_grad_norm_` and `clip_grad_value_` (PyTorch's semantics;
the implementation is `mnp.core.gradclip`, shared with `mnp.nn.utils`).

>>> import mnp.core as mnp
>>> from mnp.optim import clip_grad_norm_
>>> w = mnp.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()                   # grad [6, 8], norm 10
>>> round(clip_grad_norm_([w], max_norm=1.0).item(), 4)
10.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""
from __future__ import annotations

from typing import Iterable

from mnp.core import Tensor
from mnp.core import gradclip

from .errors import OptimizerError


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so their joint ``norm_type`` norm is at most ``max_norm``
    (see `mnp.core.gradclip.clip_grad_norm_`); returns the total norm before clipping."""
    return gradclip.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite,
                                    foreach, error=OptimizerError)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    gradclip.clip_grad_value_(parameters, clip_value, foreach, error=OptimizerError)
