"""The plugin: backend "c" is registered, preferred, and serves float32/float64 only."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.dispatch import resolve


def test_backend_registered_with_priority(kc):
    rows = {b["name"]: b for b in mnp.backends()}
    assert rows["c"]["available"] and rows["c"]["priority"] == 10
    assert rows["c"]["priority"] > rows["numpy"]["priority"]
    assert rows["c"]["provider"] == "c"


def test_every_kernel_resolves_to_c_for_float_dtypes(ext):
    import mnp.kernels_c as pkg
    assert sorted(pkg.kernels()) == sorted(pkg.KERNEL_NAMES)
    for name in pkg.kernels():
        for dt in ("float32", "float64"):
            fn, where = resolve(name, np.dtype(dt), backend="c")
            assert where == "c", (name, dt)
            assert fn is getattr(ext, name)


def test_other_dtypes_fall_back_to_numpy(kc):
    for name, dt in (("add", "int64"), ("sum", "int32"), ("gemm", "float16")):
        _, where = resolve(name, np.dtype(dt), backend="c")
        assert where == "numpy"


def test_default_backend_dispatches_float32_to_c(kc):
    if os.environ.get("MNP_BACKEND"):
        pytest.skip("MNP_BACKEND is set")
    with mnp.use_backend("c"):
        with mnp.dispatch.served() as calls:
            mnp.kernel("relu", np.dtype("float32"))(np.ones(3, np.float32))
        assert calls == {("relu", "c"): 1}
        x = mnp.tensor([[-1.0, 2.0]], requires_grad=True)
        y = (x * x).relu().sum()
        y.backward()
        assert y.item() == 5.0 and x.grad.tolist() == [[-2.0, 4.0]]


def test_thread_setting(kc):
    import mnp.kernels_c as pkg
    before = pkg.get_num_threads()
    try:
        pkg.set_num_threads(1)
        assert pkg.get_num_threads() == 1
        with pytest.raises(ValueError):
            pkg.set_num_threads(0)
    finally:
        pkg.set_num_threads(before)
    info = pkg.build_info()
    assert info["max_threads"] >= 1 and isinstance(info["openmp"], bool)


def test_env_thread_count(kc):
    code = "import mnp.kernels_c as k; print(k.get_num_threads())"
    env = dict(os.environ, MNP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_fallback_reaches_numpy_reference(kc):
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(kc.add(a, a), a + a)
    assert kc.add(a, a).dtype == np.int64
    np.testing.assert_array_equal(kc.sum(a, (1,), False), a.sum(axis=1))


def test_forked_child_runs_single_threaded(kc):
    code = ("import os, numpy as np, mnp.kernels_c as k\n"
            "k.set_num_threads(2)\n"
            "a = np.ones((300, 300), np.float32); k._ext.gemm(a, a)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    ok = k.get_num_threads() == 1 and float(k._ext.gemm(a, a)[0, 0]) == 300.0\n"
            "    os._exit(0 if ok else 3)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), k.get_num_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "2"]
