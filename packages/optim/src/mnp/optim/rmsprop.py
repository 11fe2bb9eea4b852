"""`RMSprop` (optionally centered, with momentum) and its alias `RMSProp`.

>>> import mnp.core as mnp
>>> from mnp.optim import RMSprop
>>> w = mnp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = RMSprop([w], lr=0.01)
>>> (w * w).sum().backward()
>>> opt.step()
>>> [round(v, 3) for v in w.tolist()]
[0.9, -1.9]
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnp.core import Tensor
from mnp.core.dispatch import kernel

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop, PyTorch's update rule::

        g = grad (+ weight_decay * p)
        v = alpha * v + (1 - alpha) * g * g
        centered: a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a * a) + eps
        otherwise d = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / d;  p = p - lr * b
        otherwise p = p - lr * g / d
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0,
                 weight_decay: float = 0, centered: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                      weight_decay=weight_decay, centered=centered,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any], where: str) -> None:
        super()._check(options, where)
        self._check_nonnegative(options, where, "alpha", "eps", "momentum", "weight_decay")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        state["step"] = state.get("step", 0) + 1
        square_avg, _ = self._buffer(state, "square_avg", param)
        momentum = float(group["momentum"])
        buf = self._buffer(state, "momentum_buffer", param)[0] if momentum > 0 else None
        args = (float(group["lr"]), float(group["alpha"]), float(group["eps"]), momentum,
                float(group["weight_decay"]))
        if group["centered"]:
            grad_avg, _ = self._buffer(state, "grad_avg", param)
            kernel("rmsprop_centered_step", param.dtype)(param, grad, square_avg, grad_avg,
                                                         buf, *args)
        else:
            kernel("rmsprop_step", param.dtype)(param, grad, square_avg, buf, *args)


RMSProp = RMSprop
