"""The conformance suite catches kernels wrong in only one corner: above a size, for a size-1
reduced axis, for non-contiguous or negative-stride input, only in float16, only on 2
threads, only for a size-0 dim, only on one side of a declared threshold. Each failure names
the kernel, dtype, shape and thread count."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from mnp.core.errors import BackendError
from mnp.core.plugins import use_host
from mnp.core.testing import run_conformance
from mnp.core.testing.generators import GENERATORS
from mnp.core.testing.sized import SIZED, exact, ladder, targets

CORNERS = """
    import numpy as np
    from mnp.core import hookimpl


    class Threads:
        def __init__(self, n=1):
            self.n = n
            self.history = []

        def set(self, n):
            self.history.append(n)
            self.n = n

        def get(self):
            return self.n


    THREADS = {}


    def backend(register, name, kernels, threads=1, **options):
        THREADS[name] = Threads(threads)
        register(name, kernels, priority=-5, set_threads=THREADS[name].set,
                 get_threads=THREADS[name].get, **options)


    def exp_large(x):                      # wrong from 4,097 elements on
        return np.exp(x) * (1.01 if x.size > 4096 else 1.0)

    def sum_size1(x, axes, keepdims):      # wrong when a reduced axis has size 1
        out = np.sum(x, axis=axes, keepdims=keepdims)
        reduced = range(x.ndim) if axes is None else axes
        return out + 1 if any(x.shape[a] == 1 for a in reduced) else out

    def relu_strided(x):                   # wrong for non-contiguous, positively strided input
        out = np.maximum(x, 0)
        if not x.flags.c_contiguous and all(s >= 0 for s in x.strides):
            out = out + 1
        return out

    def neg_reversed(x):                   # wrong for negative strides
        return -x if all(s >= 0 for s in x.strides) else x.copy()

    def sqrt_half(x):                      # registered for float16 only, and wrong there
        return np.sqrt(x) * np.float16(1.5)

    SEEN = []

    def abs_half(x):                       # registered for float16 only, right
        SEEN.append((x.dtype.name, x.size))
        return np.abs(x)

    def mul_two_threads(a, b):             # wrong on 2 threads past the threading threshold
        out = np.multiply(a, b)
        if THREADS["threads"].n == 2 and out.size >= 30000:
            out = out.copy()
            out.reshape(-1)[out.size // 2:] = 0
        return out

    def add_empty(a, b):                   # raises for a size-0 operand
        if a.size == 0 or b.size == 0:
            raise ValueError("cannot add empty arrays")
        return np.add(a, b)

    def sub_above(a, b):                   # wrong past a declared threshold beyond the ladder
        out = np.subtract(a, b)
        return out * 2 if out.size >= 300000 else out

    def sub_below(a, b):                   # wrong only just below a declared threshold
        out = np.subtract(a, b)
        return out * 2 if 299990 <= out.size < 300000 else out

    def tanh_any(x):                       # wrong past a threshold declared for every kernel
        return np.tanh(x) if x.size < 300000 else np.zeros_like(x)

    @hookimpl
    def mnp_register_backends(register):
        backend(register, "large", {"exp": exp_large})
        backend(register, "size1", {"sum": sum_size1})
        backend(register, "strided", {"relu": relu_strided})
        backend(register, "reversed", {"neg": neg_reversed})
        backend(register, "half", {"sqrt": sqrt_half, "abs": abs_half},
                dtypes={"sqrt": ("float16",), "abs": ("float16",)})
        backend(register, "threads", {"mul": mul_two_threads}, threads=4)
        backend(register, "empty", {"add": add_empty})
        backend(register, "declared", {"sub": sub_above}, thresholds={"sub": (300000,)})
        backend(register, "below", {"sub": sub_below}, thresholds={"sub": (300000,)})
        backend(register, "star", {"tanh": tanh_any}, thresholds={"*": (300000,)})
        register("unthreaded", {"exp": exp_large}, priority=-5)
        register("lost", {"exp": np.exp}, priority=-5, set_threads=lambda n: None, get_threads=lost_count)


    def lost_count():
        raise OSError("thread pool is gone")
"""


@pytest.fixture
def corners(site):
    names = site.add("mnp-corners", {"corners": CORNERS})
    with use_host(site.host()) as host:
        host.load()                           # runs the hooks: THREADS is filled
        yield sys.modules[names["corners"]]


def only(results, status="failed"):
    assert results and all(r.status == status for r in results), [r.message for r in results]
    return results


@pytest.mark.parametrize("backend, kernel, shape", [
    ("large", "exp", "[4097]"),
    ("size1", "sum", "[1, 5]"),
    ("strided", "relu", "non-contiguous"),
    ("reversed", "neg", "negative strides"),
    ("empty", "add", "[0, 4]"),
])
def test_a_kernel_wrong_in_one_corner_fails(corners, backend, kernel, shape):
    for r in only(run_conformance(backend)):
        assert r.name == kernel and r.dtype in ("float32", "float64")
        assert r.message.startswith(f"{kernel} [{r.dtype}] failed: case ")
        assert shape in r.message and f"float" in r.message
        assert " thread" in r.message and r.threads is not None and f"{r.threads} thread" in r.message


def test_the_failure_says_what_differed(corners):
    large = only(run_conformance("large", dtypes=["float64"]))[0]
    assert "beyond rtol" in large.detail and large.cases > 0     # the small cases passed first
    empty = only(run_conformance("empty", dtypes=["float64"]))[0]
    assert "raised ValueError: cannot add empty arrays" in empty.detail


def test_a_float16_only_kernel_is_tested_in_float16_unasked(corners):
    results = {r.name: r for r in run_conformance("half")}
    assert {(r.name, r.dtype) for r in results.values()} == {("sqrt", "float16"), ("abs", "float16")}
    assert results["sqrt"].status == "failed" and "float16[" in results["sqrt"].message
    assert results["abs"].status == "passed"
    assert {d for d, _ in corners.SEEN} == {"float16"} and max(n for _, n in corners.SEEN) > 262144


def test_a_kernel_wrong_only_on_two_threads_fails_and_the_count_is_restored(corners):
    threads = corners.THREADS["threads"]
    r = only(run_conformance("threads", dtypes=["float32"]))[0]
    assert r.threads == 2 and "2 threads" in r.message and "mul [float32] failed" in r.message
    assert threads.n == 4                       # the backend's own count again
    assert set(threads.history) == {1, 2, 4}    # its own, then 1 and 2
    assert threads.history[-1] == 4


def test_the_thread_count_is_restored_when_a_kernel_raises(corners):
    threads = corners.THREADS["empty"]
    threads.n = 3
    only(run_conformance("empty", dtypes=["float32"]))
    assert threads.n == 3 and threads.history[-1] == 3


def test_a_backend_without_thread_control_runs_at_its_own_count(corners):
    r = only(run_conformance("unthreaded", dtypes=["float32"]))[0]
    assert r.threads is None and "thread" not in r.message and "[4097]" in r.message


def test_a_failing_get_threads_is_a_backend_error(corners):
    with pytest.raises(BackendError, match=r"backend 'lost': its get_threads\(\) raised OSError: thread pool is gone"):
        run_conformance("lost")


def test_declared_thresholds_are_tested_on_both_sides(corners):
    above = only(run_conformance("declared", dtypes=["float32"]))[0]
    assert "300001" in above.message                 # beyond the built-in ladder
    below = only(run_conformance("below", dtypes=["float32"]))[0]
    assert "299999" in below.message
    star = only(run_conformance("star", dtypes=["float32"]))[0]
    assert "300001" in star.message


# -- the sized cases themselves ------------------------------------------------------------
def test_every_kernel_with_a_generator_has_sized_cases():
    assert set(GENERATORS) == set(SIZED)


def test_targets_straddle_each_threshold():
    assert targets([4096, 100]) == [(99, False), (101, True), (4095, False), (4097, True)]
    assert targets([4096], below=False) == [(4097, True)]
    assert max(ladder("add")) >= 131072 and max(ladder("gemm")) >= 2_000_000


def _numpy_reference(name):
    from mnp.core.plugins import get_host
    entry = get_host().load().backends["numpy"].kernels.get(name)
    return None if entry is None else entry[0]


ELEMENTS = ("add", "exp", "sum", "max", "argmax", "softmax", "layer_norm_forward", "cross_entropy_forward",
            "sgd_step", "relu_backward")


@pytest.mark.parametrize("name", sorted(SIZED))
def test_sized_cases_are_contiguous_deterministic_and_on_their_side(name):
    def run(n, above):
        try:
            return list(SIZED[name](np.random.default_rng(1), np.dtype("float32"), _numpy_reference, n, above))
        except LookupError:
            pytest.skip(f"{name} needs a reference kernel that is not installed")
    for n, above in ((4095, False), (4097, True)):
        cases = run(n, above)
        assert cases, (name, n, above)
        again = run(n, above)
        assert [c.label for c in cases] == [c.label for c in again]
        for case in cases:
            arrays = [a for a in case.args if isinstance(a, np.ndarray)]
            assert all(a.flags.c_contiguous for a in arrays)
            if name in ELEMENTS:            # work counted in elements of the largest input
                size = max(a.size for a in arrays)
                assert (size >= n) if above else (size <= n), (case.label, size)
                assert size < 2 * n + 64, (case.label, size)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_exact_values_sum_exactly_in_any_order(dtype):
    x = exact(np.random.default_rng(0), (262145,), np.dtype(dtype))
    assert np.count_nonzero(x) > 500
    truth = x.astype(np.float64).sum()
    forward = np.cumsum(x, dtype=dtype)[-1]
    backward = np.cumsum(x[::-1], dtype=dtype)[-1]
    assert forward == backward == truth
