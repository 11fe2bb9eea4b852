"""Data-parallel training and collectives on several processes (mpiexec -n 2 and -n 3).

Few jobs, each checking many things (see mpi_worker.py): every check asserts on every rank;
a failure aborts the job, whose stderr then names the rank and carries its traceback.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mnp.distributed", reason="mnp-distributed is not installed")

from .conftest import WORKER, mpi_env, mpiexec, needs_mpi, run_mpi  # noqa: E402
from .mpi_worker import make_trainer, trainer_data  # noqa: E402

pytestmark = needs_mpi

TWO = ["Trainer.fit data-parallel, rank 0 writes", "all_reduce every op and dtype, in place",
       "all_reduce non-contiguous and bool", "async all_reduce returns a Work", "broadcast",
       "all_gather and all_gather_into_tensor", "gather and scatter",
       "reduce_scatter, reduce and barrier", "mismatched shapes, dtypes and ranks are named",
       "DDP digits CNN equals single-process training, weights bit-identical on every rank"]
THREE = TWO[1:-1] + [
    "DistributedSampler shards a DataLoader",
    "DDP MLP equals single-process training, weights bit-identical on every rank",
    "DDP shared parameters and find_unused_parameters",
    "no_sync accumulation equals the large-batch gradient",
    "a checkpoint saved by 2 ranks resumes on 3",
    "an unused parameter without find_unused_parameters is named"]


def _passed(proc, expected):
    done = [line[3:] for line in proc.stdout.splitlines() if line.startswith("ok ")]
    assert proc.returncode == 0 and done == expected, (
        f"exit {proc.returncode}; passed {done}\n--- stdout\n{proc.stdout[-3000:]}\n"
        f"--- stderr\n{proc.stderr[-6000:]}")


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi")
    two = run_mpi(2, "two", str(out))
    three = run_mpi(3, "three", str(out)) if two.returncode == 0 else None
    return out, two, three


def test_two_ranks(jobs):
    _, two, _ = jobs
    _passed(two, TWO)


def test_three_ranks(jobs):
    _, two, three = jobs
    if three is None:
        pytest.fail("the two-rank job failed, so the three-rank job (which resumes its "
                    "checkpoint) did not run")
    _passed(three, THREE)


def _single_process_trainer(epochs):
    X, y = trainer_data()
    model, trainer = make_trainer()
    history = trainer.fit(X, y, epochs=epochs, batch_size=12, seed=0, progress=False,
                          validation_data=(X[:10], y[:10]) if epochs == 2 else None)
    return model, trainer, history


def test_trainer_on_two_ranks_equals_one_process_and_only_rank_0_writes(jobs):
    out, two, _ = jobs
    assert two.returncode == 0, two.stderr[-3000:]
    assert (out / "curve-rank0.png").exists() and not (out / "curve-rank1.png").exists()
    assert two.stderr.count("Epoch 2/2") >= 1 and "Epoch" not in two.stdout
    bars = [line for line in two.stderr.replace("\r", "\n").splitlines() if "Epoch 1/2: 100%" in line]
    assert len(set(bars)) <= 2           # one bar (tqdm's refresh and close), not one per rank
    model, trainer, history = _single_process_trainer(2)
    saved = np.load(out / "two_ranks.npz")
    for i, p in enumerate(model.parameters()):
        np.testing.assert_allclose(saved[f"arr_{i}"], p.data, rtol=1e-5, atol=1e-6)
    logged = json.loads((out / "two_ranks.json").read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(logged["history"][key], history.history[key], rtol=1e-5)
    single = trainer.evaluate(*trainer_data())
    assert logged["evaluate"]["accuracy"] == pytest.approx(single["accuracy"])
    assert logged["evaluate"]["loss"] == pytest.approx(single["loss"], rel=1e-5)


def test_checkpoint_from_two_ranks_resumed_on_three_equals_one_uninterrupted_run(jobs):
    out, _, three = jobs
    assert three is not None and three.returncode == 0
    model, _, _ = _single_process_trainer(4)
    saved = np.load(out / "three_ranks_resumed.npz")
    for i, p in enumerate(model.parameters()):
        np.testing.assert_allclose(saved[f"arr_{i}"], p.data, rtol=1e-5, atol=1e-6)


def test_checkpoint_from_two_ranks_resumes_in_one_process(jobs):
    out, _, _ = jobs
    X, y = trainer_data()
    model, trainer = make_trainer()
    trainer.fit(X, y, epochs=3, batch_size=12, seed=0, progress=False,
                resume_from=out / "ckpt.safetensors")
    ref, _, _ = _single_process_trainer(3)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-5, atol=1e-6)


# -- faults ---------------------------------------------------------------------------------------
def test_an_exception_on_rank_1_ends_the_job_with_its_traceback(tmp_path):
    """Through the launcher, end to end: its exit status is the job's."""
    start = time.monotonic()
    cmd = [sys.executable, "-m", "mnp.distributed.run", "-n", "2", "--threads", "1",
           "--mpiexec", mpiexec(), str(WORKER), "fault-raise", str(tmp_path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=mpi_env())
    except subprocess.TimeoutExpired:
        pytest.fail("the job did not end within 60 s after rank 1 failed")
    assert proc.returncode != 0
    assert time.monotonic() - start < 30
    assert "rank 1 of 2 failed" in proc.stderr
    assert "RuntimeError: deliberate failure on rank 1" in proc.stderr
    assert "rank 1 threads 1 world 2" in proc.stdout         # the launcher set the threads


def test_a_rank_killed_by_a_signal_does_not_leave_the_others_hanging(tmp_path):
    start = time.monotonic()
    proc = run_mpi(2, "fault-kill", str(tmp_path), timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - start < 30


def test_a_collective_times_out(tmp_path):
    start = time.monotonic()
    proc = run_mpi(2, "fault-timeout", str(tmp_path), timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - start < 30
    assert "DistributedTimeoutError" in proc.stderr and "rank 0 of 2 waited" in proc.stderr


SHARE = """
import sys
import mnp.core as mnp
alone = mnp.get_num_threads()
import mnp.distributed as dist
dist.init_process_group("mpi")
sys.stdout.write(f"{dist.get_rank()} {alone} {mnp.get_num_threads()}\\n")  # one write: ranks share the pipe
dist.destroy_process_group()
"""


@needs_mpi
@pytest.mark.parametrize("threads", [None, "3"])
def test_ranks_of_a_plain_mpiexec_share_the_cores_unless_mnp_num_threads_is_set(threads):
    """Two ranks on one node each get half the budget a lone process would take."""
    env = mpi_env()
    for key in ("MNP_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(key)
    if threads:
        env["MNP_NUM_THREADS"] = threads
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-c", SHARE], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = sorted(tuple(int(v) for v in line.split()) for line in proc.stdout.split("\n") if line)
    assert [r for r, *_ in lines] == [0, 1], proc.stdout
    for _, alone, now in lines:
        assert now == (int(threads) if threads else max(1, alone // 2))
