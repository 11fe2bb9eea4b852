"""Which backend served each call: C kernels decline inputs they do not take, dispatch runs
the numpy reference for them and hands large products to numpy's BLAS (`dispatch.served`)."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.dispatch import kernel, served


@pytest.fixture
def c_backend(ext):
    """Backend "c" on one thread (where large products go to BLAS)."""
    threads = mnp.get_num_threads()
    mnp.set_num_threads(1)
    with mnp.use_backend("c"):
        yield
    mnp.set_num_threads(threads)


F32 = np.dtype("float32")


def test_raw_kernels_decline_instead_of_calling_back(ext):
    assert not hasattr(ext, "_set_fallback")
    i = np.arange(4)
    assert ext.add(i, i) is NotImplemented
    assert ext.add(np.ones(2, np.float32), np.ones(2)) is NotImplemented
    assert ext.relu(np.float32(1.0)) is NotImplemented
    assert ext.cross_entropy_forward(np.ones((2, 3), np.float32), np.zeros(2), 0.0) is NotImplemented


def test_large_matmul_goes_to_blas_small_to_c(c_backend):
    big = np.ones((770, 770), np.float32)
    small = np.ones((8, 8), np.float32)
    with served() as calls:
        assert kernel("matmul", F32)(big, big)[0, 0] == 770
        assert kernel("matmul", F32)(small, small)[0, 0] == 8
    assert calls == {("matmul", "numpy"): 1, ("matmul", "c"): 1}


def test_declined_input_reports_numpy(c_backend):
    with served() as calls:
        out = kernel("add", F32)(np.ones(3, np.float32), np.ones(3))   # mixed dtypes
        kernel("add", F32)(np.ones(3, np.float32), np.ones(3, np.float32))
    assert out.dtype == np.float64
    assert calls == {("add", "numpy"): 1, ("add", "c"): 1}


def test_deterministic_mode_keeps_large_products_on_c(c_backend):
    big = np.ones((770, 770), np.float32)
    mnp.use_deterministic_algorithms(True)
    try:
        with served() as calls:
            kernel("matmul", F32)(big, big)
            kernel("gemm", F32)(big, big, False, False)
    finally:
        mnp.use_deterministic_algorithms(False)
    assert calls == {("matmul", "c"): 1, ("gemm", "c"): 1}
    with served() as calls:
        kernel("matmul", F32)(big, big)
    assert calls == {("matmul", "numpy"): 1}


def test_not_tracing_costs_nothing(c_backend):
    """Outside `served()` the table holds the untraced callables again."""
    before = kernel("add", F32)
    with served():
        assert kernel("add", F32) is not before
    after = kernel("add", F32)
    assert after.__qualname__ == before.__qualname__ and "counted" not in repr(after)


def test_work_of_the_size_rule(ext):
    """M*N*K as the C GEMM counts it; 0 for operands the kernel itself must answer."""
    f = np.ones
    assert ext.gemm_work(f((2, 3)), f((3, 5))) == 30
    assert ext.gemm_work(f((3, 2)), f((5, 3)), True, True) == 30
    assert ext.gemm_work(f((2, 3)), f((4, 5))) == 0          # misaligned: gemm raises
    assert ext.gemm_work(f(3), f((3, 5))) == 0                # 1-d: gemm raises
    assert ext.matmul_work(f((7, 2, 3)), f((3, 5))) == 30    # one product of the batch
    assert ext.matmul_work(f(3), f((3, 5))) == 0              # 1-d: declined
    assert ext.matmul_work([[1.0]], [[1.0]]) == 0             # not arrays: declined
