"""Allocator tuning: applied once on glibc, switched off by MNP_MALLOC_TUNING=0."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CODE = """
import json, mnp.core as mnp
from mnp.core import memory
before = dict(memory._state)
(mnp.ones(3) + 1).sum()           # the first kernel dispatch applies it
print(json.dumps({"before": before, "after": memory._state, "again": memory.tune_allocator()}))
"""


def _run(**env: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_applied_on_first_dispatch_once():
    out = _run(MNP_MALLOC_TUNING="1")
    assert out["before"] == {}
    assert out["after"] == {"applied": True} and out["again"] is True


def test_switched_off_by_the_environment():
    out = _run(MNP_MALLOC_TUNING="0")
    assert out["after"] == {"applied": False} and out["again"] is False
