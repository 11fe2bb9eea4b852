"""Shared fixtures: the backend every op test runs under, and torch as the oracle."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp

BACKENDS = ("numpy", "c")


def _available(name: str) -> bool:
    return any(b["name"] == name and b["available"] for b in mnp.backends())


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test under each kernel backend; a backend not installed is skipped."""
    name = request.param
    if not _available(name):
        pytest.skip(f"backend {name!r} is not installed")
    with mnp.use_backend(name):
        yield name


@pytest.fixture
def torch():
    """PyTorch as the oracle; tests that take it are skipped without it."""
    return pytest.importorskip("torch", exc_type=ImportError)   # absent or broken: skip


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line at the end: how many tests were skipped, grouped by reason."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    parts = [f"{n} {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
    terminalreporter.write_line(f"skipped: {len(skipped)} ({'; '.join(parts)})")
