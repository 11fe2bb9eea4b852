"""The scheduler base class: per-group base rates, the epoch counter, stepping and
state dicts, and the argument checks every scheduler shares."""
from __future__ import annotations

import copy
from typing import Any

from ..errors import SchedulerError
from ..optimizer import Optimizer


def _check_optimizer(optimizer: Any, name: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise SchedulerError(f"{name}: expected an mnp.optim Optimizer, "
                             f"got {type(optimizer).__name__}")


def _per_group(name: str, optimizer: Optimizer, value: Any, owner: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise SchedulerError(f"{owner}: {name} has {len(value)} values but the optimizer "
                                 f"has {len(optimizer.param_groups)} parameter groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: keeps ``base_lrs`` (each group's ``initial_lr``), ``last_epoch`` and the
    last learning rates; subclasses compute the next ones in `get_lr`."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise SchedulerError(
                        f"{type(self).__name__}: param group {i} has no 'initial_lr'; "
                        f"resuming with last_epoch={last_epoch} needs the optimizer's state "
                        f"loaded first")
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for ``last_epoch`` (already advanced)."""
        raise SchedulerError(f"{type(self).__name__} defines no schedule")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step` set, one per parameter group."""
        return list(self._last_lr)

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to ``epoch``, using the closed form if there is one)."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (a copy)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))
