"""Resumable checkpoints of a `Trainer` run: model, optimizer, epoch, random states,
history, callbacks and scheduler."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

import mnp.core as mnp

from .history import History
from .trainer_data import _group


class _Checkpoints:
    """The checkpoint methods of `Trainer`."""

    def checkpoint_state(self) -> dict[str, Any]:
        """What besides model and optimizer a resumed run needs (JSON data and arrays)."""
        return {
            "epoch": self.epoch,
            "shuffle_rng": self.rng.bit_generator.state,
            "mnp_rng": mnp.get_rng_state(),
            "history": self.history.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
        }

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write a resumable checkpoint (model, optimizer, epoch, random states, history,
        callbacks, scheduler) to ``path`` atomically."""
        from .serialization import save_checkpoint
        group = _group()
        if group is None or group.rank == 0:     # data-parallel: rank 0 writes, all wait
            save_checkpoint(path, model=self.model, optimizer_state=self.optimizer.state_dict(),
                            epoch=self.epoch, extra={"trainer": self.checkpoint_state()})
        if group is not None:
            group.barrier()

    def load_checkpoint(self, path: str | os.PathLike) -> dict[str, Any]:
        """Restore everything `save_checkpoint` wrote; returns the checkpoint's contents."""
        from .serialization import ModelFormatError, load_checkpoint
        ckpt = load_checkpoint(path, model=self.model, optimizer=self.optimizer)
        state = (ckpt.get("extra") or {}).get("trainer")
        if not isinstance(state, dict):
            raise ModelFormatError(f"resume: {os.fspath(path)}: not a Trainer checkpoint (no "
                                   f"trainer state); write it with ModelCheckpoint or "
                                   f"Trainer.save_checkpoint")
        try:
            self.rng = np.random.default_rng()
            self.rng.bit_generator.state = state["shuffle_rng"]
            mnp.set_rng_state(state["mnp_rng"])
            self.epoch = int(state["epoch"])
            self.history = History(**state["history"])
            self._restore_callbacks(state["callbacks"])
            if self.scheduler is not None and state.get("scheduler") is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelFormatError(f"resume: {os.fspath(path)}: malformed trainer state: "
                                   f"{type(exc).__name__}: {exc}") from None
        return ckpt

    def _restore_callbacks(self, saved: list) -> None:
        """Give the k-th saved state of each callback class to the k-th callback of that class;
        callbacks added since keep a fresh state, states of removed ones are dropped."""
        pending: dict[str, list] = {}
        for name, cb_state in saved:
            pending.setdefault(str(name), []).append(cb_state)
        for cb in self.callbacks:
            states = pending.get(type(cb).__name__)
            if states:
                cb.load_state_dict(states.pop(0))
