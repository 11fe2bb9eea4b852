"""`GradScaler`: dynamic loss scaling for float16 training.

Small gradients underflow to zero in float16 (smallest normal value 6.1e-5). Scaling the
loss by ``S`` before ``backward`` scales every gradient by ``S``; `unscale_` divides it out
again (into float32 for float16 parameters, so nothing underflows on the way back) and
records whether any gradient overflowed. `step` then skips the update when one did, and
`update` halves the scale after an overflow and doubles it after ``growth_interval`` clean
steps. Optimizers update float16 parameters through float32 master copies, so the small
updates are not lost either.

>>> import numpy as np
>>> import mnp.core as mnp
>>> from mnp.optim import SGD, GradScaler
>>> rng = np.random.default_rng(0)
>>> X = mnp.tensor(rng.normal(size=(64, 4)), dtype=mnp.float16)
>>> y = X @ mnp.tensor([0.5, -1.0, 2.0, 0.25], dtype=mnp.float16)
>>> w = mnp.zeros(4, dtype=mnp.float16, requires_grad=True)
>>> opt, scaler = SGD([w], lr=0.1), GradScaler(init_scale=2.0**16, growth_interval=50)
>>> for _ in range(200):
...     opt.zero_grad()
...     loss = ((X @ w - y) ** 2).sum() / 64
...     scaler.scale(loss).backward()
...     scaler.step(opt)              # skipped when a gradient is Inf/NaN
...     scaler.update()
>>> [round(v, 2) for v in w.tolist()]
[0.5, -1.0, 2.0, 0.25]
>>> scaler.get_scale() < 2.0**16      # backed off after the early overflows
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Tensor

from .errors import GradScalerError, OptimizerError
from .optimizer import Optimizer, compute_dtype

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _f32(x: float) -> float:
    """``x`` rounded to float32 (the scale lives in float32, as in PyTorch)."""
    return float(np.float32(x))


class GradScaler:
    """Dynamic loss scaler (PyTorch's ``torch.amp.GradScaler``).

    Per iteration: ``scaler.scale(loss).backward()``, optionally ``scaler.unscale_(opt)``
    (e.g. before `clip_grad_norm_`), ``scaler.step(opt)``, ``scaler.update()``.
    With ``enabled=False`` every method is a pass-through.
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True):
        self._enabled = bool(enabled)
        if not init_scale > 0:
            raise OptimizerError(f"GradScaler: init_scale must be > 0, got {init_scale}")
        if not growth_factor > 1.0:
            raise OptimizerError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise OptimizerError(f"GradScaler: backoff_factor must be in (0, 1), "
                                 f"got {backoff_factor}")
        if int(growth_interval) != growth_interval or growth_interval < 1:
            raise OptimizerError(f"GradScaler: growth_interval must be a positive integer, "
                                 f"got {growth_interval}")
        self._scale = _f32(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def _state(self, optimizer: Optimizer) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    # -- the iteration --------------------------------------------------------------------
    def scale(self, outputs: Any) -> Any:
        """``outputs`` times the scale: a Tensor, or a list/tuple of them (recursively)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise OptimizerError(f"GradScaler.scale: outputs must be a Tensor or a list/tuple of "
                             f"Tensors, got {type(outputs).__name__}")

    def unscale_(self, optimizer: Optimizer) -> None:
        """Divide the optimizer's gradients by the scale in place and record Inf/NaN.

        Gradients of float16 parameters become float32 Tensors (the dtype their update
        runs in), so unscaled small values keep their precision. At most once per optimizer
        between `update` calls, and before `step`.
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise GradScalerError("GradScaler.unscale_: already called on this optimizer "
                                  "since the last update()")
        if state["stage"] == _STEPPED:
            raise GradScalerError("GradScaler.unscale_: called after step(); call it before")
        inv_scale = _f32(1.0 / self._scale)
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                dtype = compute_dtype(p.dtype)
                if g.dtype != dtype:
                    g = g.astype(dtype)
                    p.grad = Tensor(g)
                np.multiply(g, inv_scale, out=g)
                if not found_inf and not np.isfinite(g).all():
                    found_inf = True
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless done already) and call ``optimizer.step()`` unless a gradient was
        Inf/NaN; returns what ``optimizer.step`` returns, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs or args:
            raise GradScalerError("GradScaler.step: closures are not supported while the "
                                  "scaler is enabled")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise GradScalerError("GradScaler.step: already called since the last update()")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step()
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | None = None) -> None:
        """Adjust the scale: times ``backoff_factor`` if this iteration saw Inf/NaN, times
        ``growth_factor`` after ``growth_interval`` clean iterations in a row. ``new_scale``
        sets it directly instead."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = _f32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values()
                     if s["found_inf"] is not None]
            if not found:
                raise GradScalerError("GradScaler.update: no Inf/NaN checks were recorded; "
                                      "call step() or unscale_() first")
            if any(found):
                self._scale = _f32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = _f32(self._scale * self._growth_factor)
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer = {}

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{scale, growth_factor, backoff_factor, growth_interval, _growth_tracker}``
        (empty when disabled), as PyTorch's."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise GradScalerError("GradScaler.load_state_dict: the state dict is empty (it "
                                  "came from a disabled scaler)")
        self._scale = _f32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
