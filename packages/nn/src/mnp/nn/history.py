"""`History`: the per-epoch values of a training run, and its plot."""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from mnp.core import parallel

from ._util import TrainerError
from .plotting import PlotError, plot_curves


class History:
    """Per-epoch values of a run: ``history["loss"][i]`` is epoch ``i``'s mean loss.

    Keys: ``loss``, each metric, and ``val_loss`` / ``val_<metric>`` with validation data.
    ``lr`` holds the learning rate each epoch trained with (the first parameter group's).
    """

    def __init__(self, history: dict[str, list[float]] | None = None,
                 epoch: list[int] | None = None, lr: list[float] | None = None):
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch: list[int] = list(epoch or [])
        self.lr: list[float] = list(lr or [])

    def append(self, epoch: int, logs: Mapping[str, float], lr: float | None = None) -> None:
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        if lr is not None:
            self.lr.append(float(lr))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch, "lr": self.lr}

    def plot(self, path: str | os.PathLike, keys: Sequence[str] | None = None,
             title: str | None = None) -> str:
        """Save a PNG of the curves: one panel per quantity with its training and validation
        curves (loss on a log axis), and the learning rate in its own panel when it changed.

        ``keys``: the quantities to draw (default: every training quantity); ``title``: the
        run's name above the panels. Returns the path. Needs matplotlib:
        ``pip install mnp-nn[plot]``.
        """
        if keys is not None:
            names = list(keys)
            unknown = [k for k in names if k not in self.history]
            if unknown:
                raise TrainerError(f"History.plot: no values for {unknown}; recorded: "
                                   f"{', '.join(self.history)}")
        else:
            names = [k for k in self.history if not k.startswith("val_")] or list(self.history)
        if not names:
            raise TrainerError("History.plot: nothing to plot (the history is empty)")
        if not parallel.is_main_process():      # in a process group only rank 0 writes
            return os.fspath(path)
        epochs = [e + 1 for e in self.epoch]
        panels = {}
        for name in names:
            base = name.removeprefix("val_")
            series = {("validation" if name.startswith("val_") else "training"): (epochs, self.history[name])}
            if not name.startswith("val_") and "val_" + name in self.history:
                series["validation"] = (epochs, self.history["val_" + name])
            panels[base] = {**panels.get(base, {}), **series}
        schedule = (epochs, self.lr) if len(set(self.lr)) > 1 and len(self.lr) == len(epochs) else None
        try:
            return plot_curves(path, panels, title or f"training: {len(epochs)} epochs",
                               "epoch", learning_rate=schedule, op="History.plot")
        except PlotError as exc:
            raise TrainerError(str(exc)) from None
