"""`SGD` (with momentum, dampening, Nesterov, weight decay) and its alias `Momentum`.

>>> import mnp.core as mnp
>>> from mnp.optim import SGD
>>> w = mnp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1, momentum=0.9)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w.tolist()
[0.800000011920929, -1.600000023841858]
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnp.core import Tensor
from mnp.core.dispatch import kernel

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's update rule::

        g = grad (+ weight_decay * p);  (-g if maximize)
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf      (with momentum)
        p = p - lr * g
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 momentum: float = 0, dampening: float = 0, nesterov: bool = False,
                 weight_decay: float = 0, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any], where: str) -> None:
        super()._check(options, where)
        self._check_nonnegative(options, where, "momentum", "weight_decay")
        if options.get("nesterov"):
            self._require(options.get("momentum", 0) > 0 and options.get("dampening", 0) == 0,
                          where, f"nesterov=True needs momentum > 0 and dampening == 0, got "
                          f"momentum={options.get('momentum')}, "
                          f"dampening={options.get('dampening')}")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        momentum = float(group["momentum"])
        buf, first = None, False
        if momentum != 0:
            buf, first = self._buffer(state, "momentum_buffer", param)
        kernel("sgd_step", param.dtype)(
            param, grad, buf, float(group["lr"]), momentum, float(group["dampening"]),
            bool(group["nesterov"]), float(group["weight_decay"]), first)


class Momentum(SGD):
    """SGD with momentum 0.9 by default (the classic "momentum" optimizer)."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 momentum: float = 0.9, dampening: float = 0, nesterov: bool = False,
                 weight_decay: float = 0, *, maximize: bool = False):
        super().__init__(params, lr, momentum, dampening, nesterov, weight_decay,
                         maximize=maximize)
