"""DataLoader(num_workers=N): real worker processes giving the same batches as num_workers=0,
PyTorch's seeding, errors raised in the main process, and no process left behind."""
from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import mnp.core as mnp
from mnp.data import (DataError, DataLoader, Dataset, TensorDataset, WorkerError,
                      get_worker_info)

FORK = "fork" in multiprocessing.get_all_start_methods()
needs_fork = pytest.mark.skipif(not FORK, reason="the datasets below are defined in the test "
                                "module, which only a forked worker can see")
pytestmark = needs_fork


class Squares(Dataset):
    """Built sample by sample (the generic path); index ``fail`` raises, ``kill`` kills the
    worker, ``sleep`` sleeps that long."""

    def __init__(self, n, fail=None, kill=None, sleep=None, counter=None):
        self.n, self.fail, self.kill, self.sleep, self.counter = n, fail, kill, sleep, counter

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += 1
        if i == self.fail:
            raise ValueError(f"sample {i} is broken")
        if i == self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.sleep:
            time.sleep(self.sleep)
        return np.array([i, i * i], np.float32) / 7, i % 3


def _arrays(batches):
    return [[t.numpy() for t in (b if isinstance(b, (tuple, list)) else (b,))] for b in batches]


def _assert_same(a, b):
    assert len(a) == len(b) and len(a) > 0
    for x, y in zip(a, b):
        assert len(x) == len(y)
        for u, v in zip(x, y):
            assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()


def _gone(pid, wait=3.0):
    """The process ``pid`` has exited and been reaped (no zombie)."""
    deadline = time.monotonic() + wait
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.02)
    return not os.path.exists(f"/proc/{pid}")


def _pid_collate(samples):
    return os.getpid()


def _info_collate(samples):
    info = get_worker_info()
    return (info.id, info.num_workers, info.seed, type(info.dataset).__name__,
            os.environ.get("MNP_TEST_INIT"), random.random(), float(np.random.random()),
            float(mnp.rand(1).item()))


def _init(worker_id):
    os.environ["MNP_TEST_INIT"] = f"ran in {worker_id}"


# -- same batches as in the main process ----------------------------------------------------
@pytest.mark.parametrize("generic,drop_last", [(False, False), (True, True)],
                         ids=["tensor-dataset", "generic-drop-last"])
def test_same_order_and_bits_as_num_workers_0(generic, drop_last):
    rng = np.random.default_rng(0)
    ds = Squares(23) if generic else TensorDataset(rng.normal(size=(23, 3)), np.arange(23))
    kw = dict(batch_size=4, shuffle=True, seed=5, drop_last=drop_last)
    main, workers = DataLoader(ds, **kw), DataLoader(ds, num_workers=2, **kw)
    assert len(main) == len(workers) == (5 if drop_last else 6)
    for _ in range(2):   # two epochs: each reshuffles the same way in both
        _assert_same(_arrays(main), _arrays(workers))


def test_collate_fn_sampler_and_batch_sampler_run_in_the_workers():
    ds = Squares(10)
    pids = list(DataLoader(ds, batch_size=3, num_workers=2, collate_fn=_pid_collate))
    assert len(pids) == 4 and os.getpid() not in pids
    assert pids[0] == pids[2] != pids[1] == pids[3]              # round-robin
    batches = [[0, 9], [4], [7, 7, 1]]
    main = DataLoader(ds, batch_sampler=batches)
    workers = DataLoader(ds, batch_sampler=batches, num_workers=2)
    assert len(main) == len(workers) == 3
    _assert_same(_arrays(main), _arrays(workers))
    _assert_same(_arrays(DataLoader(ds, batch_size=2, sampler=[5, 1, 2])),
                 _arrays(DataLoader(ds, batch_size=2, sampler=[5, 1, 2], num_workers=1)))


def test_spawned_workers_give_the_same_batches():
    X = np.random.default_rng(1).normal(size=(9, 2)).astype(np.float32)
    kw = dict(batch_size=4, shuffle=True, seed=0)
    spawned = DataLoader(TensorDataset(X, np.arange(9)), num_workers=1,
                         multiprocessing_context="spawn", **kw)
    _assert_same(_arrays(DataLoader(TensorDataset(X, np.arange(9)), **kw)), _arrays(spawned))


def test_spawn_needs_picklable_arguments():
    loader = DataLoader(TensorDataset(np.zeros((2, 1))), num_workers=1,
                        multiprocessing_context="spawn", worker_init_fn=lambda i: None)
    with pytest.raises(DataError, match="'spawn' start method .* pickling"):
        next(iter(loader))


def test_tensors_cross_processes_as_arrays_without_their_graph():
    from multiprocessing.reduction import ForkingPickler
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    for t in (x, x * 2, mnp.arange(3)):
        back = ForkingPickler.loads(ForkingPickler.dumps(t))
        assert isinstance(back, mnp.Tensor) and back.is_leaf
        assert back.requires_grad == t.requires_grad and back.dtype == t.dtype
        assert back.tolist() == t.tolist()


# -- seeding, worker_init_fn, get_worker_info ------------------------------------------------
def test_worker_info_seeds_and_init_fn():
    assert get_worker_info() is None
    kw = dict(batch_size=1, num_workers=2, collate_fn=_info_collate, worker_init_fn=_init, seed=3)
    first = list(DataLoader(Squares(4), **kw))
    assert [r[0] for r in first] == [0, 1, 0, 1]
    assert {r[1] for r in first} == {2} and {r[3] for r in first} == {"Squares"}
    assert [r[4] for r in first] == ["ran in 0", "ran in 1"] * 2
    assert first[1][2] == first[0][2] + 1                       # seed = base_seed + worker_id
    assert first[0][5:] != first[1][5:]                         # random, numpy, mnp differ per worker
    assert first[0][5] == random.Random(first[0][2]).random()
    assert first[0][6] == np.random.RandomState(first[0][2] % 2 ** 32).random_sample()
    assert list(DataLoader(Squares(4), **kw)) == first           # reproducible with the seed
    loader = DataLoader(Squares(4), **kw)
    next(iter(loader))
    assert next(iter(loader))[2] != first[0][2]                 # a new base seed each epoch
    assert os.environ.get("MNP_TEST_INIT") is None


def _threads_collate(samples):
    return mnp.get_num_threads()


def _two_threads(worker_id):
    mnp.set_num_threads(2)


def test_workers_start_with_one_compute_thread_unless_init_fn_says_otherwise():
    """Workers beside the main process must not oversubscribe the cores (PyTorch's rule)."""
    kw = dict(batch_size=1, num_workers=2, collate_fn=_threads_collate)
    assert list(DataLoader(Squares(4), **kw)) == [1, 1, 1, 1]
    assert list(DataLoader(Squares(4), worker_init_fn=_two_threads, **kw)) == [2, 2, 2, 2]


def test_persistent_workers_live_across_epochs():
    loader = DataLoader(Squares(4), batch_size=2, num_workers=2, collate_fn=_pid_collate,
                        persistent_workers=True)
    epochs = [list(loader) for _ in range(3)]
    assert epochs[0] == epochs[1] == epochs[2] and len(set(epochs[0])) == 2
    old = iter(loader)
    new = iter(loader)
    with pytest.raises(WorkerError, match="newer epoch"):
        next(old)
    assert list(new) == epochs[0]
    fresh = DataLoader(Squares(4), batch_size=2, num_workers=2, collate_fn=_pid_collate)
    assert set(list(fresh)).isdisjoint(list(fresh))
    info = DataLoader(Squares(4), batch_size=1, num_workers=1, collate_fn=_info_collate,
                      persistent_workers=True, seed=0)
    a, b = list(info), list(info)
    assert a[0][2] == b[0][2] and a[0][5:] != b[0][5:]          # one seeding, state carries on
    pid = epochs[0][0]
    del loader, old, new
    assert _gone(pid)


# -- errors ---------------------------------------------------------------------------------
def test_worker_exception_names_worker_batch_and_traceback():
    loader = DataLoader(Squares(8, fail=3), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError) as info:
        next(it)
    message = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1 while fetching batch 1" in message
    assert "indices [2, 3]" in message and "sample 3 is broken" in message
    assert "Traceback (most recent call last)" in message and "__getitem__" in message
    assert [b[1].tolist() for b in it] == [[1, 2], [0, 1]]      # the other batches still come

    def bad_init(worker_id):
        raise KeyError(worker_id)
    with pytest.raises(WorkerError, match="KeyError in DataLoader worker process 0 in worker_init_fn"):
        list(DataLoader(Squares(2), num_workers=1, worker_init_fn=bad_init))


def test_killed_worker_raises_instead_of_hanging():
    loader = DataLoader(Squares(8, kill=5), batch_size=2, num_workers=2, timeout=20)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 0 \(pid \d+\) was killed by signal SIGKILL "
                                          r"unexpectedly \(batches \[(0, )?2\] sent to it"):
        list(loader)
    assert time.monotonic() - start < 5


def test_timeout():
    loader = DataLoader(Squares(2, sleep=3), num_workers=1, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"timed out after 0.3 s waiting for batch 0 from worker 0"):
        next(iter(loader))
    assert time.monotonic() - start < 1.5


def test_prefetch_is_bounded():
    counter = multiprocessing.get_context("fork").Value("i", 0)
    loader = DataLoader(Squares(30, counter=counter), num_workers=2, prefetch_factor=3)
    it = iter(loader)
    next(it)                     # 3 * 2 requested ahead, then one more for the batch taken
    deadline = time.monotonic() + 3
    while counter.value < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert counter.value == 7
    next(it)
    time.sleep(0.2)
    assert counter.value == 8
    del it


@pytest.mark.parametrize("kw,match", [
    (dict(prefetch_factor=2), "prefetch_factor"), (dict(persistent_workers=True), "num_workers > 0"),
    (dict(num_workers=-1), "num_workers"), (dict(num_workers=1, timeout=-1), "timeout"),
    (dict(num_workers=1, prefetch_factor=0), "prefetch_factor"),
    (dict(batch_sampler=[[0]], batch_size=2), "mutually exclusive"),
    (dict(num_workers=1, multiprocessing_context="nope"), "start method"),
    (dict(num_workers=1, worker_init_fn=3), "callable"),
    (dict(shuffle=True, seed=1, generator=np.random.default_rng(0)), "not both"),
])
def test_bad_options(kw, match):
    with pytest.raises(DataError, match=match):
        DataLoader(Squares(2), **kw)


def test_generator_sets_the_shuffle_and_pin_memory_is_accepted():
    def order(**kw):
        return [int(v) for xb, _ in DataLoader(Squares(9), batch_size=4, shuffle=True, **kw)
                for v in (xb.numpy()[:, 0] * 7).round()]
    a = order(generator=np.random.default_rng(4), pin_memory=True)
    assert a == order(generator=np.random.default_rng(4)) and sorted(a) == list(range(9))
    assert a != list(range(9))


def test_an_mnp_generator_sets_the_shuffle_as_torch_generator_does():
    def order(g, **kw):
        return [int(v) for xb, _ in DataLoader(Squares(9), batch_size=4, shuffle=True,
                                                generator=g, **kw)
                for v in (xb.numpy()[:, 0] * 7).round()]
    g = mnp.Generator()
    g.manual_seed(3)
    a = order(g)
    g.manual_seed(3)                 # reseeding the generator the loader holds repeats it
    assert order(g) == a and sorted(a) == list(range(9))
    g.manual_seed(3)
    assert order(g, num_workers=2) == a
    with pytest.raises(DataError, match="generator must be an mnp.Generator"):
        DataLoader(Squares(9), generator=3)


# -- no process left behind -----------------------------------------------------------------
def test_workers_stop_after_the_epoch_on_break_and_on_delete():
    loader = DataLoader(Squares(12), batch_size=2, num_workers=2, collate_fn=_pid_collate)
    pids = list(loader)
    for pid in set(pids):
        assert _gone(pid)
    for pid in loader:
        break
    assert _gone(pid)
    it = iter(loader)
    pid = next(it)
    del it
    assert _gone(pid)


def test_workers_stop_at_interpreter_exit(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import os, numpy as np
        from mnp.data import DataLoader, TensorDataset

        def pid_collate(samples):
            return os.getpid()

        if __name__ == "__main__":
            ds = TensorDataset(np.zeros((40, 2), np.float32))
            persistent = DataLoader(ds, num_workers=2, persistent_workers=True,
                                    collate_fn=pid_collate)
            list(persistent)
            running = iter(DataLoader(ds, num_workers=1, collate_fn=pid_collate))
            print(*set(list(persistent) + [next(running)]), flush=True)
    """))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 3
    for pid in pids:
        assert _gone(pid), f"worker {pid} outlived the interpreter"
