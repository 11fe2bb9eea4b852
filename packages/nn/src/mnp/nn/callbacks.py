"""Callbacks: hooks into `Trainer.fit`, plus `EarlyStopping` and `ModelCheckpoint`.

A callback sees the trainer as ``self.trainer`` and stops training by setting
``self.trainer.stop_training = True``. Epochs are numbered from 0 in the hooks.

>>> from mnp.nn import callbacks
>>> stop = callbacks.EarlyStopping(monitor="loss", patience=2)
>>> stop.mode
'min'
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from mnp.core import MnpError

#: monitored names (without ``val_``) where larger is better under ``mode="auto"``
HIGHER_IS_BETTER = ("accuracy", "acc", "precision", "recall", "f1", "auc")


class CallbackError(MnpError, ValueError):
    """A callback misconfigured, or asked to monitor a value the logs do not have."""


class Callback:
    """Base class: override the hooks you need. ``logs`` holds the current scalars
    (``loss``, metrics, and at epoch end ``val_*``)."""

    trainer: Any = None

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a resumable checkpoint must keep of this callback (JSON data and arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict` (called after ``on_train_begin`` when a run resumes)."""


def resolve_mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise CallbackError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    base = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if any(base == n or base.endswith("_" + n) for n in HIGHER_IS_BETTER) else "min"


def monitored(logs: dict | None, monitor: str, who: str) -> float:
    if not logs or monitor not in logs:
        known = ", ".join(sorted(logs or {})) or "(none)"
        hint = "; pass validation_data to fit" if monitor.startswith("val_") else ""
        raise CallbackError(f"{who}: monitored value {monitor!r} is not in the logs "
                            f"(available: {known}){hint}")
    return float(logs[monitor])


class _Monitor:
    """Best-so-far tracking shared by EarlyStopping and ModelCheckpoint."""

    def __init__(self, monitor: str, mode: str, min_delta: float, who: str):
        self.monitor, self.who = monitor, who
        self.mode = resolve_mode(mode, monitor, who)
        self.min_delta = abs(float(min_delta))
        self.best = np.inf if self.mode == "min" else -np.inf

    def improved(self, value: float) -> bool:
        if np.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs in a row. ``mode``: ``'min'``, ``'max'`` or ``'auto'`` (max for accuracy-like
    names). ``restore_best_weights``: load the best epoch's weights when training ends.
    ``baseline``: a value the monitor must beat to count as an improvement at all.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 baseline: float | None = None):
        if int(patience) < 0:
            raise CallbackError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self._m = _Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.monitor, self.mode, self.min_delta = monitor, self._m.mode, self._m.min_delta
        self.patience, self.baseline = int(patience), baseline
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self._m.best = self.baseline if self.baseline is not None else (
            np.inf if self.mode == "min" else -np.inf)
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best_weights: dict[str, np.ndarray] | None = None

    @property
    def best(self) -> float:
        return float(self._m.best)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = monitored(logs, self.monitor, "EarlyStopping")
        if self._m.improved(value):
            self._m.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: np.array(getattr(v, "data", v), copy=True)
                                     for k, v in self.trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"best": float(self._m.best), "wait": self.wait, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.best = float(state["best"])
        self.wait, self.best_epoch = int(state["wait"]), state["best_epoch"]
        self.stopped_epoch, self.best_weights = state["stopped_epoch"], state["best_weights"]


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint (model, optimizer, epoch, random states, history) at the
    end of epochs; `Trainer.fit(..., resume_from=path)` continues from it exactly.

    ``path`` may hold ``{epoch}`` (1-based) and log names, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``. ``save_best_only``: save only when
    ``monitor`` improves. ``every``: save every that many epochs.
    ``last_path`` is the file written last, ``best_path`` the best one.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto", min_delta: float = 0.0,
                 every: int = 1):
        if int(every) < 1:
            raise CallbackError(f"ModelCheckpoint: every must be >= 1, got {every}")
        self.path, self.monitor = os.fspath(path), monitor
        self.save_best_only, self.every = bool(save_best_only), int(every)
        self._m = _Monitor(monitor, mode, min_delta, "ModelCheckpoint")
        self.mode = self._m.mode
        self.last_path: str | None = None
        self.best_path: str | None = None

    def _format(self, epoch: int, logs: dict) -> str:
        try:
            return self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise CallbackError(f"ModelCheckpoint: cannot fill path {self.path!r} from the "
                                f"logs ({', '.join(sorted(logs))}): {exc}") from None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if (epoch + 1) % self.every:
            return
        if self.save_best_only:
            value = monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._m.improved(value):
                return
            self._m.best = value
        path = self._format(epoch, logs)
        self.trainer.save_checkpoint(path)
        self.last_path = path
        if self.save_best_only:
            self.best_path = path

    def state_dict(self) -> dict[str, Any]:
        return {"best": float(self._m.best), "last_path": self.last_path,
                "best_path": self.best_path}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._m.best = float(state["best"])
        self.last_path, self.best_path = state["last_path"], state["best_path"]
