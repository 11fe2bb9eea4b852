"""Learning-rate schedulers with PyTorch's sequences, step for step.

A scheduler sets ``group["lr"]`` of each of the optimizer's parameter groups; call
``scheduler.step()`` once per epoch (or per batch for `OneCycleLR`) after
``optimizer.step()``. The recursive ("chainable") forms are PyTorch's own, so the
floating-point sequence is the same; ``step(epoch)`` uses the closed form where one exists.

>>> import mnp.core as mnp
>>> from mnp.optim import SGD
>>> from mnp.optim.lr_scheduler import StepLR
>>> opt = SGD([mnp.zeros(2, requires_grad=True)], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(sched.get_last_lr()[0])
...     opt.step()
...     sched.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""
from __future__ import annotations

from typing import Any

from ..optimizer import Optimizer
from .base import LRScheduler
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .sequential import SequentialLR
from .step import CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, StepLR

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "LinearLR", "ReduceLROnPlateau", "OneCycleLR", "SequentialLR",
           "create"]


def create(name: str, optimizer: Optimizer, **kwargs: Any) -> LRScheduler:
    """Build the scheduler registered as ``name`` (see `mnp.core.registry("schedulers")`).

    >>> import mnp.core as mnp
    >>> from mnp.optim import SGD, lr_scheduler
    >>> opt = SGD([mnp.zeros(1, requires_grad=True)], lr=1.0)
    >>> lr_scheduler.create("ExponentialLR", opt, gamma=0.5).get_last_lr()
    [1.0]
    """
    from ..registry import find
    return find("schedulers", name)(optimizer, **kwargs)
