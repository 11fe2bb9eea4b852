"""Lion (Chen et al., 2023): the update is the sign of an interpolated momentum."""
from __future__ import annotations

import numpy as np

import mnp.core as mnp
from mnp import optim


class Lion(optim.Optimizer):
    """``c = b1*m + (1-b1)*g;  p -= lr * (sign(c) + wd*p);  m = b2*m + (1-b2)*g``."""

    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0):
        if lr < 0:
            raise ValueError(f"Lion: invalid learning rate {lr}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with mnp.no_grad():
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.data
                    state = self.state.setdefault(p, {})
                    m = state.setdefault("exp_avg", np.zeros_like(p.data))
                    update = np.sign(b1 * m + (1 - b1) * g)
                    p.data -= group["lr"] * (update + group["weight_decay"] * p.data)
                    m *= b2
                    m += (1 - b2) * g
        return loss
