"""mnp.core.set_num_threads / get_num_threads: one budget for the backends' pools and BLAS;
the default from MNP_NUM_THREADS or the cores available to the process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mnp.core as mnp
from mnp.core import threads as T
from mnp.core.errors import ArgumentError


def _blas_threads() -> list[int]:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_set_num_threads_sets_backend_pools_and_blas():
    before = mnp.get_num_threads()
    pools = T._pools()
    try:
        mnp.set_num_threads(1)
        assert mnp.get_num_threads() == 1
        assert all(s.get_threads() == 1 for s in pools)
        assert all(n == 1 for n in _blas_threads())
        mnp.set_num_threads(2)
        assert mnp.get_num_threads() == 2
        assert all(s.get_threads() == 2 for s in pools)
        # a backend's pool holds the budget: BLAS keeps one thread; else BLAS gets it
        assert all(n == (1 if pools else 2) for n in _blas_threads())
    finally:
        mnp.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_thread_counts(bad):
    with pytest.raises(ArgumentError, match="set_num_threads"):
        mnp.set_num_threads(bad)


def test_environment_sets_the_default_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("MNP_NUM_THREADS", "3")
    assert T.default_num_threads() == 3
    monkeypatch.setenv("MNP_NUM_THREADS", "zero")
    with pytest.raises(ArgumentError, match="MNP_NUM_THREADS='zero'"):
        T.default_num_threads()
    monkeypatch.delenv("MNP_NUM_THREADS")
    assert T.default_num_threads() == T.available_cores()


def test_available_cores_follow_affinity_and_cgroup_quota(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False)
    monkeypatch.setattr(T, "_cgroup_quota", lambda: None)
    assert T.available_cores() == 6
    monkeypatch.setattr(T, "_cgroup_quota", lambda: 1.5)
    assert T.available_cores() == 2
    monkeypatch.setattr(T, "_cgroup_quota", lambda: 0.2)
    assert T.available_cores() == 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert T._read_quota(tmp_path, ("cpu.max",)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert T._read_quota(tmp_path, ("cpu.max",)) is None
    (tmp_path / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu.cfs_period_us").write_text("100000\n")
    assert T._read_quota(tmp_path, ("cpu.cfs_quota_us", "cpu.cfs_period_us")) is None
    (tmp_path / "cpu.cfs_quota_us").write_text("300000\n")
    assert T._read_quota(tmp_path, ("cpu.cfs_quota_us", "cpu.cfs_period_us")) == 3.0


_CHILD = """
import json, threadpoolctl, mnp.core as mnp
def blas():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
x = (mnp.ones((300, 300)) @ mnp.ones((300, 300))).sum()          # the first ops apply the budget
from mnp.core import threads
pools = {s.name: s.get_threads() for s in threads._pools()}
out = {"budget": mnp.get_num_threads(), "blas": blas(), "pools": pools}
mnp.set_num_threads(1)
out["after1"] = [mnp.get_num_threads(), blas(), {s.name: s.get_threads() for s in threads._pools()}]
print(json.dumps(out))
"""


def test_environment_budget_in_a_fresh_process():
    """MNP_NUM_THREADS=2: each backend's pool gets 2 threads and BLAS at most what mnp
    allows while a kernel of that pool runs (1 with a pool, else 2)."""
    pytest.importorskip("threadpoolctl")
    env = dict(os.environ, MNP_NUM_THREADS="2")
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    res = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["budget"] == 2
    assert all(n == 2 for n in out["pools"].values())
    assert all(n == (1 if out["pools"] else 2) for n in out["blas"])
    budget, blas, pools = out["after1"]
    assert budget == 1 and all(n == 1 for n in blas) and all(n == 1 for n in pools.values())


def test_deterministic_flag_round_trip():
    assert not mnp.are_deterministic_algorithms_enabled()
    mnp.use_deterministic_algorithms(True)
    try:
        assert mnp.are_deterministic_algorithms_enabled()
        assert all(n == 1 for n in _blas_threads())        # numpy's BLAS: fixed at one thread
    finally:
        mnp.use_deterministic_algorithms(False)
    assert not mnp.are_deterministic_algorithms_enabled()
