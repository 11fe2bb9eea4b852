"""`Adagrad`: per-coordinate rates from the running sum of squared gradients.

>>> import mnp.core as mnp
>>> from mnp.optim import Adagrad
>>> w = mnp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = Adagrad([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> [round(v, 4) for v in w.tolist()]
[0.9, -1.9]
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnp.core import Tensor
from mnp.core.dispatch import kernel

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad, PyTorch's update rule (``t`` counts steps from 1)::

        g = grad (+ weight_decay * p);  s = s + g * g   (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check(self, options: dict[str, Any], where: str) -> None:
        super()._check(options, where)
        self._check_nonnegative(options, where, "lr_decay", "weight_decay",
                                "initial_accumulator_value", "eps")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        state["step"] = state.get("step", 0) + 1
        sum_, _ = self._buffer(state, "sum", param, float(group["initial_accumulator_value"]))
        kernel("adagrad_step", param.dtype)(
            param, grad, sum_, state["step"], float(group["lr"]), float(group["lr_decay"]),
            float(group["eps"]), float(group["weight_decay"]))
