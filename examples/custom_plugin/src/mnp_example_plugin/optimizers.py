"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the update is
the sign of an interpolation between the momentum and the gradient.

>>> import mnp.core as mnp
>>> from mnp_example_plugin import Lion
>>> w = mnp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = Lion([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> [round(v, 6) for v in w.tolist()]
[0.9, -1.9]
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnp.core import Tensor
from mnp import optim


class Lion(optim.Optimizer):
    """Lion, with decoupled weight decay as in the paper::

        c = beta1 * m + (1 - beta1) * g
        p = p - lr * (sign(c) + weight_decay * p)
        m = beta2 * m + (1 - beta2) * g

    The state of each parameter is ``exp_avg`` (``m``). Being a subclass of
    `mnp.optim.Optimizer`, Lion gets parameter groups, state dicts, ``maximize`` and
    float32 master weights for float16 parameters from the base class.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0, *,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any], where: str) -> None:
        super()._check(options, where)
        self._check_nonnegative(options, where, "weight_decay")
        betas = options.get("betas")
        if betas is not None:
            ok = len(betas) == 2 and all(0.0 <= b < 1.0 for b in betas)
            self._require(ok, where, f"invalid betas={betas} (two values in [0, 1))")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        m, _ = self._buffer(state, "exp_avg", param)
        direction = np.sign(beta1 * m + (1.0 - beta1) * grad)
        if wd:
            param *= 1.0 - lr * wd
        param -= lr * direction
        m *= beta2
        m += (1.0 - beta2) * grad
