"""Every benchmark workload runs on mnp and prints well-formed figures (smallest settings;
the timings themselves are measured by ``benchmarks/run.py``, never asserted here)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parents[2] / "benchmarks" / "worker.py"
#: the cheapest settings of each workload
CASES = {
    "W1": {"sizes": [64]},
    "W2": {},
    "W3": {},
    "W4": {},
    "W5": {},
    "W6": {},
}


def _worker(workload: str, opts: dict, case: int | None = None, **env: str) -> list[dict]:
    cmd = [sys.executable, str(WORKER), "--workload", workload, "--framework", "mnp",
           "--repeat", "1", "--opts", json.dumps(opts)]
    if case is not None:
        cmd += ["--case", str(case)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MNP_BACKEND": "numpy", **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("workload", sorted(CASES))
def test_workload_reports_positive_figures(workload):
    rows = _worker(workload, CASES[workload], case=0)
    assert rows, f"{workload} printed no figures"
    for row in rows:
        assert row["workload"] == workload and row["framework"] == "mnp"
        assert row["figure"] and row["samples"], row
        assert all(isinstance(v, (int, float)) and v > 0 for v in row["samples"]), row
