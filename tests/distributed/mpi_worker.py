"""Run on every rank by mpiexec from test_mpi.py: ``python mpi_worker.py JOB OUTDIR``.

Each check asserts on every rank and prints ``ok <name>`` on rank 0; a failing assertion
is an uncaught exception, which ends the whole job with a non-zero status.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

import mnp.core as mnp
from mnp import nn, optim
from mnp.core import parallel

OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")
# every job runs with the cross-rank shape/dtype checks (off by default), which it tests
os.environ.setdefault("MNP_DISTRIBUTED_CHECKS", "1")


def ok(name: str) -> None:
    import mnp.distributed as dist
    dist.barrier()
    if dist.get_rank() == 0:
        print(f"ok {name}", flush=True)


def data_of(key, shape, dtype, scale=4.0):
    """The same pseudo-random array on every rank for the same key."""
    a = np.random.default_rng(key).normal(size=shape) * scale
    return (np.round(a) if np.dtype(dtype).kind in "iub" else a).astype(dtype)


# -- collectives against numpy ------------------------------------------------------------------
def check_collectives():
    import mnp.distributed as dist
    from mnp.distributed import ReduceOp
    r, w = dist.get_rank(), dist.get_world_size()
    reducers = {ReduceOp.SUM: lambda xs: np.sum(xs, axis=0),
                ReduceOp.AVG: lambda xs: np.sum(xs, axis=0) / w,
                ReduceOp.MAX: lambda xs: np.max(xs, axis=0),
                ReduceOp.MIN: lambda xs: np.min(xs, axis=0),
                ReduceOp.PRODUCT: lambda xs: np.prod(xs, axis=0)}
    for dtype in ("float32", "float64", "int32", "int64", "float16"):
        for op, ref in reducers.items():
            scale = 1.5 if op is ReduceOp.PRODUCT else 4.0
            xs = np.stack([data_of([k, 1], (5, 3), dtype, scale) for k in range(w)])
            t = mnp.from_numpy(xs[r].copy())
            address = t.data.ctypes.data
            if op is ReduceOp.AVG and dtype.startswith("int"):
                try:
                    dist.all_reduce(t, op=op)
                except dist.DistributedError as exc:
                    assert "floating-point" in str(exc)
                    continue
                raise AssertionError("AVG on integers must fail")
            dist.all_reduce(t, op=op)
            assert t.data.ctypes.data == address and t.dtype == np.dtype(dtype)
            expected = ref(xs.astype(np.float64 if dtype != "float16" else np.float32))
            tol = 1e-2 if dtype == "float16" else 1e-6
            np.testing.assert_allclose(t.data.astype(np.float64), expected, rtol=tol, atol=tol,
                                       err_msg=f"all_reduce {op} {dtype}")
    ok("all_reduce every op and dtype, in place")

    base = data_of(5, (4, 6), "float32")
    mine = base + r
    view = mine[:, ::2]                                  # a strided view: reduced via a copy
    t = mnp.from_numpy(view)
    dist.all_reduce(t)
    np.testing.assert_allclose(mine[:, ::2], (base * w + sum(range(w)))[:, ::2], rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(mine[:, 1::2], (base + r)[:, 1::2])   # untouched
    flags = mnp.tensor([r == 0, False, True])
    dist.all_reduce(flags)
    assert flags.tolist() == [True, False, True]
    flags = mnp.tensor([r == 0, False, True])
    dist.all_reduce(flags, op=ReduceOp.MIN)
    assert flags.tolist() == [w == 1, False, True]
    ok("all_reduce non-contiguous and bool")

    t = mnp.from_numpy(np.full(1000, float(r + 1), np.float32))
    work = dist.all_reduce(t, op=ReduceOp.AVG, async_op=True)
    assert isinstance(work, dist.Work)
    assert work.wait() and work.is_completed() and work.is_success()
    assert work.result()[0] is t
    np.testing.assert_allclose(t.data, np.full(1000, (w + 1) / 2), rtol=1e-6)
    ok("async all_reduce returns a Work")

    t = mnp.from_numpy(data_of([r, 2], (3, 2), "float64"))
    dist.broadcast(t, src=w - 1)
    np.testing.assert_array_equal(t.data, data_of([w - 1, 2], (3, 2), "float64"))
    t = mnp.from_numpy(data_of([r, 2], (3, 2), "float64")[:, ::-1])     # non-contiguous
    dist.broadcast(t, src=0, async_op=True).wait()
    np.testing.assert_array_equal(t.data, data_of([0, 2], (3, 2), "float64")[:, ::-1])
    ok("broadcast")

    mine = mnp.from_numpy(data_of([r, 3], (2, 3), "int64"))
    outs = [mnp.zeros(2, 3, dtype="int64") for _ in range(w)]
    dist.all_gather(outs, mine)
    for k in range(w):
        np.testing.assert_array_equal(outs[k].data, data_of([k, 3], (2, 3), "int64"))
    flat = mnp.zeros(2 * w, 3, dtype="int64")
    dist.all_gather_into_tensor(flat, mine)
    np.testing.assert_array_equal(flat.data, np.concatenate([data_of([k, 3], (2, 3), "int64")
                                                             for k in range(w)]))
    ok("all_gather and all_gather_into_tensor")

    dst = w - 1
    gl = [mnp.zeros(4) for _ in range(w)] if r == dst else None
    dist.gather(mnp.from_numpy(data_of([r, 4], 4, "float32")), gl, dst=dst)
    if r == dst:
        for k in range(w):
            np.testing.assert_array_equal(gl[k].data, data_of([k, 4], 4, "float32"))
    out = mnp.zeros(4)
    sl = [mnp.from_numpy(data_of([k, 5], 4, "float32")) for k in range(w)] if r == 0 else None
    dist.scatter(out, sl, src=0)
    np.testing.assert_array_equal(out.data, data_of([r, 5], 4, "float32"))
    ok("gather and scatter")

    inputs = [mnp.from_numpy(data_of([r, k, 6], 5, "float64")) for k in range(w)]
    out = mnp.zeros(5, dtype="float64")
    dist.reduce_scatter(out, inputs, op=ReduceOp.SUM)
    np.testing.assert_allclose(out.data, sum(data_of([q, r, 6], 5, "float64") for q in range(w)),
                               rtol=1e-12)
    big = mnp.from_numpy(np.concatenate([data_of([r, k, 6], 5, "float64") for k in range(w)]))
    out2 = mnp.zeros(5, dtype="float64")
    dist.reduce_scatter_tensor(out2, big, op=ReduceOp.MAX)
    np.testing.assert_array_equal(out2.data, np.max([data_of([q, r, 6], 5, "float64")
                                                     for q in range(w)], axis=0))
    t = mnp.from_numpy(data_of([r, 7], 3, "float32"))
    dist.reduce(t, dst=0, op=ReduceOp.SUM)
    if r == 0:
        np.testing.assert_allclose(t.data, sum(data_of([k, 7], 3, "float32") for k in range(w)),
                                   rtol=1e-6)
    else:
        np.testing.assert_array_equal(t.data, data_of([r, 7], 3, "float32"))
    dist.barrier()
    dist.barrier(async_op=True).wait()
    ok("reduce_scatter, reduce and barrier")

    try:
        dist.all_reduce(mnp.zeros(3 + r))
    except dist.CollectiveMismatchError as exc:
        assert "rank 0: shape (3,) float32" in str(exc) and "rank 1: shape (4,)" in str(exc)
    else:
        raise AssertionError("mismatched shapes must fail")
    try:
        dist.broadcast(mnp.zeros(2, dtype="float64" if r else "float32"))
    except dist.CollectiveMismatchError as exc:
        assert "float64" in str(exc) and "float32" in str(exc)
    else:
        raise AssertionError("mismatched dtypes must fail")
    try:
        dist.broadcast(mnp.zeros(2), src=w)
    except dist.DistributedError as exc:
        assert f"src={w}" in str(exc)
    else:
        raise AssertionError("a bad src must fail")
    ok("mismatched shapes, dtypes and ranks are named")


# -- DistributedSampler with the DataLoader -----------------------------------------------------
def check_sampler():
    import mnp.distributed as dist
    from mnp.data import DataLoader, TensorDataset
    r, w = dist.get_rank(), dist.get_world_size()
    n = 3 * w + 1                                    # uneven: padded
    ds = TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))
    sampler = dist.DistributedSampler(ds, shuffle=True, seed=3)
    loader = DataLoader(ds, batch_size=2, sampler=sampler)
    loader.set_epoch(1)
    mine = np.concatenate([yb.numpy() for _, yb in loader])
    every = mnp.zeros(w, len(mine), dtype="int64")
    dist.all_gather_into_tensor(every, mnp.from_numpy(mine))
    got = every.numpy().ravel()
    assert sorted(set(got.tolist())) == list(range(n)) and len(got) == 4 * w
    sampler.set_epoch(2)
    assert not np.array_equal(sampler.indices(), mine)
    ok("DistributedSampler shards a DataLoader")


# -- DDP against single-process training ---------------------------------------------------------
def _params(model):
    return [p for p in model.parameters()]


def _assert_identical_across_ranks(model, where):
    import mnp.distributed as dist
    flat = np.concatenate([p.data.ravel() for p in model.parameters()])
    every = np.empty((dist.get_world_size(), flat.size), flat.dtype)
    dist.all_gather_into_tensor(every, flat)
    for k in range(1, len(every)):
        assert np.array_equal(every[0], every[k]), f"{where}: rank {k}'s weights differ from rank 0's"


def _compare(model, ref, where, rtol=1e-5, atol=1e-6) -> float:
    """Assert the two models' weights agree; the largest absolute difference."""
    largest = 0.0
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=rtol, atol=atol, err_msg=f"{where}: {name}")
        largest = max(largest, float(np.max(np.abs(p.data - q.data), initial=0.0)))
    return largest


def ddp_matches_single_process(build, make_batch, steps, per_rank, where, bucket_cap_mb=25.0,
                               lr=0.05, **ddp_kw):
    """Train ``build()`` with DDP on each rank's share and, on every rank, a copy on the
    concatenated batch (each share's mean loss averaged); compare after every step."""
    import mnp.distributed as dist
    r, w = dist.get_rank(), dist.get_world_size()
    mnp.manual_seed(100 + r)                # different initial weights: DDP must broadcast
    model = build()
    mnp.manual_seed(100)
    ref = build()
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb, **ddp_kw)
    assert ddp.module is model
    _compare(model, ref, f"{where} after wrapping", 0, 0)
    opt = optim.SGD(ddp.parameters(), lr=lr, momentum=0.9)
    ref_opt = optim.SGD(ref.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    largest = 0.0
    for step in range(steps):
        X, y = make_batch(step, per_rank * w)
        sl = slice(r * per_rank, (r + 1) * per_rank)
        opt.zero_grad()
        loss_fn(ddp(mnp.from_numpy(X[sl])), mnp.from_numpy(y[sl])).backward()
        opt.step()
        ref_opt.zero_grad()
        total = None
        for k in range(w):                  # the mean over the concatenated batch
            part = loss_fn(ref(mnp.from_numpy(X[k * per_rank:(k + 1) * per_rank])),
                           mnp.from_numpy(y[k * per_rank:(k + 1) * per_rank])) * (1.0 / w)
            total = part if total is None else total + part
        total.backward()
        ref_opt.step()
        _assert_identical_across_ranks(model, f"{where} step {step}")
        largest = max(largest, _compare(model, ref, f"{where} step {step}"))
    if r == 0:
        print(f"{where}: largest weight difference from single-process training over {steps} "
              f"steps: {largest:.3g}", flush=True)
    return ddp


def mlp():
    return nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 3))


def mlp_batch(step, n):
    rng = np.random.default_rng([step, 11])
    X = rng.normal(size=(n, 6)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)


class BackwardsMLP(nn.Module):
    """Layers registered in the reverse of the order the forward uses them."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(32, 3)
        self.hidden = nn.Linear(32, 32)
        self.inp = nn.Linear(6, 32)

    def forward(self, x):
        return self.out(self.hidden(self.inp(x).tanh()).relu())


def check_ddp_mlp():
    ddp = ddp_matches_single_process(mlp, mlp_batch, 20, 4, "DDP MLP", bucket_cap_mb=0.002)
    assert len(ddp._buckets) >= 3                   # several buckets, overlapping backward
    model = ddp.module                              # overlap: bucket 0 starts mid-backward
    seen = []
    model[2].weight.register_post_accumulate_grad_hook(
        lambda p: seen.append((ddp._next, model[0].weight.grad is None)))
    model.zero_grad()
    X, y = mlp_batch(99, 4)
    nn.CrossEntropyLoss()(ddp(mnp.from_numpy(X)), mnp.from_numpy(y)).backward()
    assert seen and seen[0][0] >= 1 and seen[0][1], seen   # launched before layer 0's gradient
    ddp2 = ddp_matches_single_process(BackwardsMLP, mlp_batch, 4, 4, "DDP MLP (buckets rebuilt)",
                                      bucket_cap_mb=0.002)
    first = [ddp2._names[n] for n, _ in ddp2._buckets[0].params]
    assert first[0].startswith("out."), first      # rebuilt in the order gradients arrived
    names = [n for n, _ in ddp.named_parameters()]
    assert names[0] == "module.0.weight" and list(ddp.state_dict())[0] == "module.0.weight"
    ok("DDP MLP equals single-process training, weights bit-identical on every rank")


class Tied(nn.Module):
    """One Linear used twice (a shared parameter), plus a branch used on rank 0 only and a
    layer used nowhere."""

    def __init__(self, rank_zero_branch=True):
        super().__init__()
        self.shared = nn.Linear(6, 6)
        self.head = nn.Linear(6, 3)
        self.branch = nn.Linear(6, 3)
        self.unused = nn.Linear(6, 3)
        self.rank_zero_branch = rank_zero_branch

    def forward(self, x):
        h = self.shared(self.shared(x).tanh()).tanh()
        out = self.head(h)
        if self.rank_zero_branch and parallel.get_process_group().rank == 0:
            out = out + self.branch(h)
        return out


def check_ddp_shared_and_unused():
    import mnp.distributed as dist
    r, w = dist.get_rank(), dist.get_world_size()
    mnp.manual_seed(5)
    model = Tied()
    ddp = dist.DistributedDataParallel(model, find_unused_parameters=True, bucket_cap_mb=0.0005)
    mnp.manual_seed(5)
    ref = Tied(rank_zero_branch=False)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(3):
        X, y = mlp_batch(50 + step, 4 * w)
        model.zero_grad()
        loss_fn(ddp(mnp.from_numpy(X[4 * r:4 * r + 4])), mnp.from_numpy(y[4 * r:4 * r + 4])).backward()
        ref.zero_grad()
        total = None
        for k in range(w):
            xk = mnp.from_numpy(X[4 * k:4 * k + 4])
            h = ref.shared(ref.shared(xk).tanh()).tanh()
            out = ref.head(h) + (ref.branch(h) if k == 0 else 0.0)
            part = loss_fn(out, mnp.from_numpy(y[4 * k:4 * k + 4])) * (1.0 / w)
            total = part if total is None else total + part
        total.backward()
        for name in ("shared", "head", "branch"):
            for pn in ("weight", "bias"):
                p, q = getattr(getattr(model, name), pn), getattr(getattr(ref, name), pn)
                np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=1e-5, atol=1e-7,
                                           err_msg=f"{name}.{pn} step {step}")
        assert model.unused.weight.grad is None and model.unused.bias.grad is None
        _assert_identical_across_ranks(model, "shared/unused")
    ok("DDP shared parameters and find_unused_parameters")


def check_no_sync():
    import mnp.distributed as dist
    r, w = dist.get_rank(), dist.get_world_size()
    mnp.manual_seed(9)
    model = mlp()
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.001)
    mnp.manual_seed(9)
    ref = mlp()
    loss_fn = nn.CrossEntropyLoss()
    micro = [mlp_batch(70 + k, 4 * w) for k in range(3)]
    with ddp.no_sync():
        for k, (X, y) in enumerate(micro[:-1]):
            loss_fn(ddp(mnp.from_numpy(X[4 * r:4 * r + 4])), mnp.from_numpy(y[4 * r:4 * r + 4])).backward()
            if k == 0:                               # local, not averaged, inside no_sync
                local = mlp()
                local.load_state_dict(model.state_dict())
                loss_fn(local(mnp.from_numpy(X[4 * r:4 * r + 4])), mnp.from_numpy(y[4 * r:4 * r + 4])).backward()
                np.testing.assert_array_equal(model[0].weight.grad.data, local[0].weight.grad.data)
    X, y = micro[-1]
    loss_fn(ddp(mnp.from_numpy(X[4 * r:4 * r + 4])), mnp.from_numpy(y[4 * r:4 * r + 4])).backward()
    big_X = np.concatenate([X for X, _ in micro])
    big_y = np.concatenate([y for _, y in micro])
    (loss_fn(ref(mnp.from_numpy(big_X)), mnp.from_numpy(big_y)) * float(len(micro))).backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=1e-5, atol=1e-6, err_msg=name)
    ok("no_sync accumulation equals the large-batch gradient")


def check_unready_error():
    import mnp.distributed as dist
    mnp.manual_seed(1)
    model = Tied(rank_zero_branch=False)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.0005)
    X, y = mlp_batch(1, 4)
    nn.CrossEntropyLoss()(ddp(mnp.from_numpy(X)), mnp.from_numpy(y)).backward()
    try:
        ddp(mnp.from_numpy(X))
    except dist.DistributedError as exc:
        assert "find_unused_parameters=True" in str(exc) and "unused.weight" in str(exc)
    else:
        raise AssertionError("an unused parameter without find_unused_parameters must fail")
    ok("an unused parameter without find_unused_parameters is named")


# -- the digits CNN ---------------------------------------------------------------------------
def check_ddp_digits_cnn():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    from digits_cnn import build_model
    from mnp import data
    X, y = data.digits()
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)

    def build():
        model = build_model()
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0                        # dropout masks differ per rank
        return model

    def batch(step, n):
        idx = np.random.default_rng([step, 13]).choice(len(X), n, replace=False)
        return X[idx], y[idx]
    ddp = ddp_matches_single_process(build, batch, 20, 8, "DDP digits CNN", lr=0.02,
                                     bucket_cap_mb=0.05)
    assert len(ddp._buckets) >= 2
    ok("DDP digits CNN equals single-process training, weights bit-identical on every rank")


# -- the Trainer ----------------------------------------------------------------------------------
def trainer_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 6)).astype(np.float32)
    y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)).astype(np.int64)
    return X, y


def make_trainer(callbacks=()):
    mnp.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, nn.Trainer(model, opt, "CrossEntropyLoss", metrics=("accuracy",),
                             callbacks=callbacks)


def check_trainer_saves():
    """No init_process_group: fit finds the group because mpiexec started the process."""
    import mnp.distributed as dist
    X, y = trainer_data()
    model, trainer = make_trainer([nn.ModelCheckpoint(OUT / "ckpt.safetensors", monitor="loss")])
    history = trainer.fit(X, y, epochs=2, batch_size=12, seed=0, progress=True,
                          validation_data=(X[:10], y[:10]))
    assert dist.is_initialized()
    r = dist.get_rank()
    history.plot(OUT / f"curve-rank{r}.png")
    _assert_identical_across_ranks(model, "Trainer")
    every = np.empty((dist.get_world_size(), 4), np.float64)
    mine = np.array([history["loss"][-1], history["accuracy"][-1], history["val_loss"][-1],
                     history["val_accuracy"][-1]])
    dist.all_gather_into_tensor(every, mine)
    assert (every == every[0]).all(), "every rank must report the same epoch metrics"
    result = trainer.evaluate(X, y)
    if r == 0:
        np.savez(OUT / "two_ranks.npz", *[p.data for p in model.parameters()])
        (OUT / "two_ranks.json").write_text(json.dumps({"history": history.history,
                                                        "evaluate": result}))
    ok("Trainer.fit data-parallel, rank 0 writes")


def check_trainer_resumes():
    import mnp.distributed as dist
    X, y = trainer_data()
    model, trainer = make_trainer()
    history = trainer.fit(X, y, epochs=4, batch_size=12, seed=0, progress=False,
                          resume_from=OUT / "ckpt.safetensors")
    assert history.epoch == [0, 1, 2, 3]
    _assert_identical_across_ranks(model, "resumed Trainer")
    if dist.get_rank() == 0:
        np.savez(OUT / "three_ranks_resumed.npz", *[p.data for p in model.parameters()])
    ok(f"a checkpoint saved by 2 ranks resumes on {dist.get_world_size()}")


# -- faults ---------------------------------------------------------------------------------------
def fault(mode):
    import mnp.distributed as dist
    timeout = 2.0 if mode == "timeout" else None
    dist.init_process_group("mpi", timeout=timeout)
    r = dist.get_rank()
    print(f"rank {r} threads {os.environ.get('MNP_NUM_THREADS')} world {dist.get_world_size()}",
          flush=True)
    dist.barrier()
    if r == 1:
        if mode == "raise":
            raise RuntimeError("deliberate failure on rank 1")
        if mode == "kill":
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "timeout":
            time.sleep(60)
    dist.all_reduce(mnp.ones(4))               # the other ranks wait here
    time.sleep(60)                             # never reached in bounded time


JOBS = {
    "two": [check_trainer_saves, check_collectives, check_ddp_digits_cnn],
    "three": [lambda: __import__("mnp.distributed").distributed.init_process_group("mpi"),
              check_collectives, check_sampler, check_ddp_mlp, check_ddp_shared_and_unused,
              check_no_sync, check_trainer_resumes, check_unready_error],
}

if __name__ == "__main__":
    job = sys.argv[1]
    if job.startswith("fault-"):
        fault(job[len("fault-"):])
    else:
        for check in JOBS[job]:
            check()
        import mnp.distributed as dist
        dist.destroy_process_group()
