"""Training curves as a PNG people can read: one panel per quantity with its training and
validation curves, loss on a log axis, the learning-rate schedule in a panel of its own.

matplotlib is imported only when a plot is drawn (``pip install mnp-nn[plot]``).

>>> fig = curves_figure({"loss": {"training": ([1, 2, 3], [2.0, 1.0, 0.5]),
...                                 "validation": ([1, 2, 3], [2.1, 1.2, 0.9])}},
...                       title="demo", learning_rate=([1, 2, 3], [1e-3, 5e-4, 1e-4]))
>>> [ax.get_title() for ax in fig.axes], fig.axes[0].get_yscale()
(['loss', 'learning rate'], 'log')
"""
from __future__ import annotations

import math
import os
from typing import Mapping, Sequence

from mnp.core import MnpError

Series = tuple[Sequence[float], Sequence[float]]


class PlotError(MnpError, ValueError):
    """A plot that cannot be drawn (no matplotlib, nothing to draw)."""


def _log_scale_helps(panel: str, series: Mapping[str, Series]) -> bool:
    values = [v for _, ys in series.values() for v in ys if math.isfinite(v)]
    return "loss" in panel and bool(values) and min(values) > 0


def curves_figure(panels: Mapping[str, Mapping[str, Series]], title: str,
                  xlabel: str = "epoch", learning_rate: Series | None = None,
                  op: str = "curves_figure"):
    """A matplotlib ``Figure`` of ``panels`` (``{panel name: {legend name: (xs, ys)}}``) side
    by side under ``title``; a panel whose name contains "loss" and whose values are
    positive gets a log-scale y axis. ``learning_rate`` ``(xs, lrs)`` adds a panel for the
    schedule. ``op`` names the caller in errors."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(f"{op} needs matplotlib: pip install mnp-nn[plot]") from None
    panels = {name: series for name, series in panels.items() if series}
    if learning_rate is not None and len(learning_rate[0]):
        panels = {**panels, "learning rate": {"learning rate": learning_rate}}
    if not panels:
        raise PlotError(f"{op}: nothing to plot")
    fig = Figure(figsize=(4.8 * len(panels), 3.8))        # no pyplot: no global state
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, series) in zip(axes, panels.items()):
        for label, (xs, ys) in series.items():
            ax.plot(list(xs), list(ys), label=label, marker="o" if len(xs) <= 40 else None,
                    markersize=3)
        log = _log_scale_helps(name, series)
        if log:
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{name} (log scale)" if log else name)
        ax.grid(alpha=0.3, which="both")
        if len(series) > 1 or name != "learning rate":
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(path: str | os.PathLike, panels: Mapping[str, Mapping[str, Series]],
                title: str, xlabel: str = "epoch", learning_rate: Series | None = None,
                op: str = "plot_curves") -> str:
    """Save `curves_figure` of the same arguments as a PNG at ``path``; returns the path."""
    curves_figure(panels, title, xlabel, learning_rate, op).savefig(os.fspath(path), format="png",
                                                                dpi=110)
    return os.fspath(path)


__all__ = ["plot_curves", "curves_figure", "PlotError"]
