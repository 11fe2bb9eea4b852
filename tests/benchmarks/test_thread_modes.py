"""The benchmark harness's thread modes: ``limited`` caps every pool through the environment,
``default`` sets none and leaves the thread count to mnp.set_num_threads in the worker."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

from common import THREAD_VARIABLES, worker_env  # noqa: E402


def test_worker_environment_per_mode():
    base = {"PATH": "/bin", "OPENBLAS_NUM_THREADS": "7", "MNP_BACKEND": "c", "MNP_NUM_THREADS": "5"}
    limited = worker_env(base, 2, "limited")
    assert all(limited[k] == "2" for k in THREAD_VARIABLES) and "MNP_BACKEND" not in limited
    default = worker_env(base, 2, "default")
    assert default == {"PATH": "/bin"}


def test_default_mode_sets_threads_in_the_worker():
    code = [sys.executable, str(BENCH / "worker.py"), "--workload", "W2", "--framework", "mnp",
            "--repeat", "1", "--threads", "2", "--thread-mode", "default", "--case", "0"]
    env = worker_env(dict(os.environ), 2, "default")
    env["MNP_BACKEND"] = "numpy"
    proc = subprocess.run(code, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows and all(r["mode"] == "default" and r["threads"] == 2 for r in rows)
