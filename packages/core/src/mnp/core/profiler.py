"""Profiling: per-op forward/backward time and the backend that served each kernel call
(`profile`), and named sections (`Profiler`)."""
from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from typing import Any, Iterator

from . import autograd
from .dispatch import served
from .errors import ArgumentError


class ProfileReport:
    """Per-op calls and milliseconds forward and backward, and kernel calls by the backend
    that served them (``kernels``: ``{(kernel, backend): calls}``), collected by `profile()`."""

    def __init__(self) -> None:
        self.ops: dict[str, dict[str, float]] = defaultdict(
            lambda: {"calls": 0, "forward_ms": 0.0, "backward_calls": 0, "backward_ms": 0.0})
        self.kernels: Counter = Counter()
        self.wall_ms = 0.0

    # observer protocol used by autograd
    def on_forward(self, name: str, seconds: float, inputs: Any, out: Any) -> None:
        row = self.ops[name]
        row["calls"] += 1
        row["forward_ms"] += seconds * 1e3

    def on_backward(self, name: str, seconds: float, grads: Any) -> None:
        row = self.ops[name]
        row["backward_calls"] += 1
        row["backward_ms"] += seconds * 1e3

    def total_ms(self) -> float:
        return sum(r["forward_ms"] + r["backward_ms"] for r in self.ops.values())

    def to_dict(self) -> dict:
        total = self.total_ms() or 1.0
        rows = {name: dict(r, share=(r["forward_ms"] + r["backward_ms"]) / total)
                for name, r in self.ops.items()}
        kernels: dict[str, dict[str, int]] = {}
        for (kernel, backend), calls in sorted(self.kernels.items()):
            kernels.setdefault(kernel, {})[backend] = calls
        return {"ops": rows, "total_ms": self.total_ms(), "wall_ms": self.wall_ms,
                "kernels": kernels}

    def table(self, sort_by: str = "total") -> str:
        """A text table: op, calls, forward ms, backward ms, share of the op time."""
        d = self.to_dict()["ops"]
        key = (lambda kv: -(kv[1]["forward_ms"] + kv[1]["backward_ms"])) if sort_by == "total" \
            else (lambda kv: kv[0])
        lines = [f"{'op':<20}{'calls':>8}{'forward ms':>13}{'backward ms':>13}{'share':>8}"]
        for name, r in sorted(d.items(), key=key):
            lines.append(f"{name:<20}{int(r['calls']):>8}{r['forward_ms']:>13.3f}"
                         f"{r['backward_ms']:>13.3f}{r['share']:>7.1%}")
        lines.append(f"{'total':<20}{'':>8}{sum(r['forward_ms'] for r in d.values()):>13.3f}"
                     f"{sum(r['backward_ms'] for r in d.values()):>13.3f}{'':>8}")
        return "\n".join(lines)

    def kernel_table(self) -> str:
        """A text table: kernel, the backend that served its calls, calls (one row per pair)."""
        lines = [f"{'kernel':<24}{'backend':<12}{'calls':>8}"]
        for (kernel, backend), calls in sorted(self.kernels.items()):
            lines.append(f"{kernel:<24}{backend:<12}{calls:>8}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


@contextlib.contextmanager
def profile() -> Iterator[ProfileReport]:
    """Time every op inside the block, and count each kernel call by the backend that
    served it (`mnp.core.dispatch.served`)::

        with mnp.profile() as prof:
            loss = model(x).sum(); loss.backward()
        print(prof.table())
        print(prof.kernel_table())     # e.g. matmul  c  3 / matmul  numpy  1
    """
    report = ProfileReport()
    autograd._observers.append(report)
    t0 = time.perf_counter()
    try:
        with served() as report.kernels:
            yield report
    finally:
        report.wall_ms = (time.perf_counter() - t0) * 1e3
        autograd._observers.remove(report)


class Profiler:
    """Named sections: ``p.start("data"); ...; p.stop("data"); print(p.summary())``."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self._open: dict[str, float] = {}

    def start(self, name: str) -> None:
        if name in self._open:
            raise ArgumentError(f"Profiler: section {name!r} is already running")
        self._open[name] = time.perf_counter()

    def stop(self, name: str) -> float:
        """Close section ``name``; returns its seconds."""
        if name not in self._open:
            raise ArgumentError(f"Profiler: section {name!r} was not started")
        dt = time.perf_counter() - self._open.pop(name)
        self.totals[name] += dt
        self.counts[name] += 1
        return dt

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)

    def summary(self) -> str:
        total = sum(self.totals.values()) or 1.0
        lines = [f"{'section':<24}{'calls':>8}{'total s':>12}{'mean ms':>12}{'share':>8}"]
        for name, t in sorted(self.totals.items(), key=lambda kv: -kv[1]):
            n = self.counts[name]
            lines.append(f"{name:<24}{n:>8}{t:>12.4f}{t / n * 1e3:>12.3f}{t / total:>7.1%}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {n: {"calls": self.counts[n], "seconds": t} for n, t in self.totals.items()}
