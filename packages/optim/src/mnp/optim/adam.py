"""`Adam` (optionally AMSGrad, L2 weight decay) and `AdamW` (decoupled weight decay).

>>> import mnp.core as mnp
>>> from mnp.optim import Adam
>>> w = mnp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = Adam([w], lr=0.1)
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


class Adam(Optimizer):
    """Adam, PyTorch's update rule (``t`` counts steps from 1)::

        g = grad (+ weight_decay * p; AdamW instead scales p by 1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v) with amsgrad
        p = p - lr / (1 - beta1**t) * m / (sqrt(v or v_max) / sqrt(1 - beta2**t) + eps)
    """
    _decoupled = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check(self, options: dict[str, Any], where: str) -> None:
        super()._check(options, where)
        self._check_nonnegative(options, where, "eps", "weight_decay")
        betas = options.get("betas")
        if betas is not None:
            self._require(len(betas) == 2, where, f"betas must be a pair, got {betas!r}")
            for i, beta in enumerate(betas):
                self._require(0.0 <= beta < 1.0, where,
                              f"invalid beta parameter at index {i}: {beta} (must be in [0, 1))")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        amsgrad = bool(group["amsgrad"])
        state["step"] = state.get("step", 0) + 1
        exp_avg, _ = self._buffer(state, "exp_avg", param)
        exp_avg_sq, _ = self._buffer(state, "exp_avg_sq", param)
        max_sq = self._buffer(state, "max_exp_avg_sq", param)[0] if amsgrad else None
        beta1, beta2 = group["betas"]
        kernel("adam_step", param.dtype)(
            param, grad, exp_avg, exp_avg_sq, max_sq, state["step"], float(group["lr"]),
            float(beta1), float(beta2), float(group["eps"]), float(group["weight_decay"]),
            self._decoupled, amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``
    before the Adam update, instead of adding ``weight_decay * p`` to the gradient."""
    _decoupled = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
