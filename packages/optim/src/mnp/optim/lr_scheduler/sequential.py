"""`SequentialLR`: several schedulers one after another, switching at milestones."""
from __future__ import annotations

import copy
from bisect import bisect_right
from typing import Any, Sequence

from ..errors import SchedulerError
from ..optimizer import Optimizer
from .base import LRScheduler, _check_optimizer
from .plateau import ReduceLROnPlateau


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the epochs in ``milestones``
    (``len(schedulers) - 1`` increasing epochs); each takes over from its own epoch 0, as
    PyTorch's ``SequentialLR`` does (e.g. a `LinearLR` warmup then `CosineAnnealingLR`).

    >>> import mnp.core as mnp
    >>> from mnp.optim import SGD
    >>> from mnp.optim.lr_scheduler import ExponentialLR, LinearLR
    >>> opt = SGD([mnp.zeros(1, requires_grad=True)], lr=1.0)
    >>> warm = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> sched = SequentialLR(opt, [warm, ExponentialLR(opt, gamma=0.5)], milestones=[2])
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1):
        _check_optimizer(optimizer, "SequentialLR")
        schedulers = list(schedulers)
        if not schedulers:
            raise SchedulerError("SequentialLR: expects at least one scheduler")
        for i, sch in enumerate(schedulers):
            if not isinstance(sch, LRScheduler) or isinstance(sch, ReduceLROnPlateau):
                raise SchedulerError(f"SequentialLR: scheduler {i} is a {type(sch).__name__}; "
                                     f"expected an epoch-based LRScheduler")
            if sch.optimizer is not optimizer:
                raise SchedulerError(f"SequentialLR: scheduler {i} is bound to another "
                                     f"optimizer than the one given")
        milestones = [int(m) for m in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise SchedulerError(f"SequentialLR: expects {len(schedulers) - 1} milestone(s) for "
                                 f"{len(schedulers)} schedulers, got {len(milestones)}")
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise SchedulerError(f"SequentialLR: milestones must increase, got {milestones}")
        self.optimizer = optimizer
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = last_epoch + 1
        self._step_count = 0
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        for group in optimizer.param_groups:          # undo the other schedulers' first steps
            group["lr"] = group["initial_lr"]
        for sch in schedulers:
            sch.last_epoch -= 1
        first = schedulers[0]
        first._is_initial = True
        try:
            first.step()
        finally:
            first._is_initial = False
        self._last_lr = first.get_last_lr()

    def step(self, epoch: int | None = None) -> None:  # type: ignore[override]
        """Advance one epoch, switching scheduler at each milestone."""
        if epoch is not None:
            raise SchedulerError("SequentialLR.step: takes no epoch argument")
        self._step_count += 1
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sch = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sch.step(0)
        else:
            sch.step()
        self._last_lr = sch.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        sd = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
              if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        inner = state_dict.pop("_schedulers", [])
        self.__dict__.update(copy.deepcopy(state_dict))
        for sch, sd in zip(self._schedulers, inner):
            sch.load_state_dict(sd)
