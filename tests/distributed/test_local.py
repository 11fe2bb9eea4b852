"""mnp.distributed in one process: the sampler, the launcher's command, errors, one rank."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.core import parallel

dist = pytest.importorskip("mnp.distributed", reason="mnp-distributed is not installed")
from mnp.distributed import DistributedSampler  # noqa: E402
from mnp.distributed.run import build_command  # noqa: E402

from .conftest import needs_mpi


# -- DistributedSampler ---------------------------------------------------------------------------
@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [0, 1, 5, 12, 13, 17])
@pytest.mark.parametrize("shuffle", [False, True])
def test_sampler_shards_are_disjoint_and_cover(world, n, shuffle):
    for drop_last in (False, True):
        shards = [list(DistributedSampler(range(n), world, r, shuffle=shuffle, seed=4,
                                          drop_last=drop_last)) for r in range(world)]
        sizes = {len(s) for s in shards}
        assert len(sizes) == 1 and sizes.pop() == len(DistributedSampler(range(n), world, 0,
                                                                          drop_last=drop_last))
        every = [i for s in shards for i in s]
        if drop_last:           # disjoint, the tail that does not divide evenly dropped
            assert len(set(every)) == len(every) == (n // world) * world
        else:                   # cover everything; only the padding repeats
            assert set(every) == set(range(n))
            assert len(every) - n == (-n) % world if n else len(every) == 0
        if shuffle and n > 2:
            a = DistributedSampler(range(n), world, 0, seed=4)
            b = DistributedSampler(range(n), world, 0, seed=4)
            a.set_epoch(1)
            b.set_epoch(1)
            assert list(a) == list(b)           # every rank draws the same order


def test_sampler_order_and_padding_are_pytorchs(torch):
    from torch.utils.data import DistributedSampler as TorchSampler
    for n, world in [(10, 3), (7, 4), (8, 2), (3, 4)]:
        for drop_last in (False, True):
            for r in range(world):
                ours = list(DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
                theirs = list(TorchSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
                assert ours == theirs, (n, world, r, drop_last)


def test_sampler_errors():
    with pytest.raises(dist.DistributedError, match="invalid rank 3"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(dist.DistributedError, match="num_replicas"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(dist.DistributedError, match="not been initialised"):
        DistributedSampler(range(4))


# -- the launcher -------------------------------------------------------------------------------
def test_launcher_command_for_mpich_and_open_mpi(monkeypatch):
    cmd = build_command(4, ["train.py", "--epochs", "3"], hostfile="hosts", threads=2,
                        mpiexec="/x/mpiexec", flavour="mpich")
    assert cmd[:2] == ["/x/mpiexec", "-f"] and "hosts" in cmd
    assert cmd[-6:] == ["-n", "4", sys.executable, "train.py", "--epochs", "3"]
    assert ["-genv", "MNP_NUM_THREADS", "2"] == cmd[cmd.index("MNP_NUM_THREADS") - 1:cmd.index("MNP_NUM_THREADS") + 2]
    monkeypatch.setattr("os.geteuid", lambda: 0)
    cmd = build_command(2, ["-c", "pass"], threads=1, mpiexec="mpirun", flavour="openmpi")
    assert "--allow-run-as-root" in cmd and "-x" in cmd and "MNP_NUM_THREADS=1" in cmd
    cmd = build_command(2, ["pkg.train"], hostfile="h", mpiexec="mpirun", flavour="openmpi",
                        module=True)
    assert cmd[cmd.index("--hostfile") + 1] == "h" and cmd[-2:] == ["-m", "pkg.train"]


def test_launcher_dry_run_and_usage_errors():
    run = [sys.executable, "-m", "mnp.distributed.run"]
    proc = subprocess.run(run + ["-n", "3", "--mpiexec", "/x/mpiexec", "--dry-run", "t.py", "a"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "-n 3" in proc.stdout and proc.stdout.strip().endswith("t.py a")
    proc = subprocess.run(run + ["-n", "2"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "name the script" in proc.stderr


def test_missing_mpi_says_what_to_install(monkeypatch):
    from mnp.distributed import _mpi
    monkeypatch.setattr(_mpi, "_MPI", None)
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(dist.MPINotAvailableError, match=r"pip install mnp-distributed\[mpich\]"):
        _mpi.load()
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr(sys, "executable", "/nowhere/python")
    with pytest.raises(dist.MPINotAvailableError, match="no mpiexec"):
        _mpi.find_mpiexec()


# -- the cross-rank checks' switch ---------------------------------------------------------------
@pytest.mark.parametrize("mnp_value,torch_value,expected", [
    (None, None, False),                 # off by default, as in PyTorch
    ("1", None, True), ("on", None, True), ("TRUE", None, True), ("yes", None, True),
    ("0", None, False), ("off", None, False),
    (None, "DETAIL", True), (None, "detail", True), (None, "INFO", False),
    ("0", "DETAIL", False),              # mnp's own switch wins
])
def test_cross_rank_checks_switch(monkeypatch, mnp_value, torch_value, expected):
    from mnp.distributed.collectives import checks_from_environment
    for name, value in (("MNP_DISTRIBUTED_CHECKS", mnp_value),
                        ("TORCH_DISTRIBUTED_DEBUG", torch_value)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert checks_from_environment() is expected


# -- errors before and around init --------------------------------------------------------------
def test_calls_before_init_process_group_are_clear_errors():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier,
                 lambda: dist.all_reduce(mnp.ones(2))):
        with pytest.raises(dist.DistributedError, match="init_process_group"):
            call()
    with pytest.raises(dist.DistributedError, match="backend 'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(dist.DistributedError, match="timeout"):
        dist.init_process_group("mpi", timeout=-1)


@needs_mpi
def test_one_rank_group_and_ddp_in_this_process():
    dist.init_process_group("mpi")
    try:
        assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
        assert parallel.get_process_group() is not None and parallel.is_main_process()
        with pytest.raises(dist.DistributedError, match="already initialised"):
            dist.init_process_group()
        t = mnp.tensor([1.0, 2.0])
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [1.0, 2.0]
        mnp.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 2))
        ddp = dist.DistributedDataParallel(model)
        x = mnp.ones(4, 3)
        ddp(x).sum().backward()
        grad = model[0].weight.grad.numpy().copy()
        model.zero_grad()
        model(x).sum().backward()
        np.testing.assert_array_equal(grad, model[0].weight.grad.numpy())
        sd = ddp.state_dict()
        assert list(sd) == ["module.0.weight", "module.0.bias"]
        ddp.load_state_dict(sd)
        ddp.load_state_dict(model.state_dict())       # bare keys load too
        with pytest.raises(dist.DistributedError, match="device_ids"):
            dist.DistributedDataParallel(model, device_ids=[0])
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized() and parallel.get_process_group() is None
