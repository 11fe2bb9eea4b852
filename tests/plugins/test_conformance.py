"""The backend conformance suite of mnp.core.testing: it passes the reference, and it catches
wrong values, dtypes, non-contiguous mistakes, mutated inputs and broken in-place steps."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mnp.core.errors import BackendError
from mnp.core.plugins import use_host
from mnp.core.testing import (GENERATORS, assert_backend_conforms, format_results, run_conformance,
                              summary)
from mnp.core.testing.generators import CORE_KERNELS, NN_KERNELS, OPTIM_KERNELS, cases

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kernels.md"

BAD = """
    import numpy as np
    from mnp.core import hookimpl

    def add(a, b):                     # wrong everywhere
        return np.subtract(a, b)

    def exp(x):                        # wrong only for non-contiguous input
        return np.exp(x) if x.flags.c_contiguous else np.zeros_like(x)

    def relu(x):                       # wrong dtype for float64
        return np.maximum(x, 0).astype(np.float32)

    def mul(a, b):
        raise MemoryError("out of scratch space")

    def sum_(x, axes, keepdims):       # right result, but scribbles on its input
        out = np.sum(x, axis=axes, keepdims=keepdims)
        x[...] = 0
        return out

    def neg(x):                        # float32 only: float64 is not checked
        return np.negative(x)

    def sqrt(x):                       # slightly off: within float32 tolerance, not float64's
        return (np.sqrt(x.astype(np.float64)) * (1 + 1e-7)).astype(x.dtype)

    def frobnicate(x):
        return x

    def sgd_step(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, first):
        param -= lr * grad               # forgets momentum
        return None

    def ref_sgd_step(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, first):
        g = grad + weight_decay * param
        if buf is not None:
            if first:
                buf[...] = g
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        param -= lr * g

    @hookimpl
    def mnp_register_backends(register):
        register("bad", {"add": add, "exp": exp, "relu": relu, "mul": mul, "sum": sum_,
                         "neg": neg, "sqrt": sqrt, "frobnicate": frobnicate,
                         "sgd_step": sgd_step}, priority=-1, dtypes={"neg": ("float32",)})
        register("gone", {"add": add}, available=False)

    @hookimpl
    def mnp_register_kernels(register):
        register("numpy", "frobnicate", frobnicate)
        register("numpy", "sgd_step", ref_sgd_step)
"""


@pytest.fixture
def bad_host(site):
    site.add("mnp-badbackend", {"badb": BAD})
    with use_host(site.host()):   # only core's reference plus this plugin
        yield


def results_by_key(results):
    return {(r.name, r.dtype): r for r in results}


def test_reference_conforms_to_itself_on_every_kernel_it_has():
    results = run_conformance("numpy")
    assert results
    counts = summary(results)
    assert counts["failed"] == counts["error"] == 0, format_results(results)
    for r in results:
        if r.name in GENERATORS:
            assert r.status == "passed" and r.cases >= 4 and r.max_error == 0.0, r
        else:
            assert r.status == "skipped" and "no input generator" in r.detail
    assert {r.dtype for r in results} == {"float32", "float64"}
    assert_backend_conforms("numpy")


def test_every_documented_kernel_has_a_generator():
    text = DOCS.read_text()
    documented = set(re.findall(r"`?\b([a-z][a-z0-9_]*)\b", text))
    for name in CORE_KERNELS + NN_KERNELS + OPTIM_KERNELS:
        assert name in GENERATORS, name
    missing_from_docs = {n for n in CORE_KERNELS + NN_KERNELS + OPTIM_KERNELS if n not in documented}
    # the few extra kernels the references grew beyond the document are listed explicitly
    assert missing_from_docs <= {"prod", "layer_norm_forward", "layer_norm_backward",
                                 "rmsprop_centered_step"}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_deterministic_and_cover_layouts(name):
    def digest(dtype):
        out = []
        try:
            for c in cases(name, dtype, seed=3, ref=_numpy_reference):
                out.append((c.label, [a.tobytes() if isinstance(a, np.ndarray) else repr(a) for a in c.args]))
        except LookupError:
            pytest.skip(f"{name} needs a reference kernel that is not installed")
        return out
    first = digest("float32")
    assert first == digest("float32") and len(first) >= 4
    arrays = [a for c in cases(name, "float64", seed=3, ref=_numpy_reference) for a in c.args
              if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    assert arrays and all(a.dtype == np.float64 for a in arrays)
    assert any(not a.flags.c_contiguous for a in arrays), f"{name}: no non-contiguous input"


def _numpy_reference(name):
    from mnp.core.dispatch import get_host
    entry = get_host().load().backends["numpy"].kernels.get(name)
    return None if entry is None else entry[0]


def test_wrong_values_fail_with_the_max_error(bad_host):
    r = results_by_key(run_conformance("bad"))
    add = r[("add", "float32")]
    assert add.status == "failed" and add.max_error > 0.1
    assert "beyond rtol" in add.detail and "case" in add.detail


def test_non_contiguous_mistakes_are_caught(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["exp"]))
    assert r[("exp", "float32")].status == "failed"
    assert any(layout in r[("exp", "float32")].detail for layout in ("strided", "transposed", "negative strides"))
    assert r[("exp", "float32")].cases >= 1        # the contiguous cases passed first


def test_wrong_dtype_fails(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["relu"]))
    assert r[("relu", "float32")].status == "passed"
    assert r[("relu", "float64")].status == "failed"
    assert "dtype float32, the reference gives float64" in r[("relu", "float64")].detail


def test_a_raising_kernel_fails_with_the_exception(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["mul"]))
    assert r[("mul", "float32")].status == "failed"
    assert "MemoryError: out of scratch space" in r[("mul", "float32")].detail


def test_mutating_an_input_fails(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["sum"]))
    assert r[("sum", "float64")].status == "failed"
    assert "modified its input" in r[("sum", "float64")].detail


def test_tolerance_depends_on_dtype(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["sqrt"]))
    assert r[("sqrt", "float32")].status == "passed" and r[("sqrt", "float32")].max_error > 0
    assert r[("sqrt", "float64")].status == "failed"


def test_dtype_limited_kernel_and_missing_generator_are_skipped_not_passed(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["neg", "frobnicate"], dtypes=["float32", "float64"]))
    assert r[("neg", "float32")].status == "passed"
    assert r[("neg", "float64")].status == "skipped"
    assert "float32 only" in r[("neg", "float64")].detail
    assert r[("frobnicate", "float32")].status == "skipped"
    assert "no input generator" in r[("frobnicate", "float32")].detail


def test_in_place_step_kernels_are_compared_by_their_buffers(bad_host):
    r = results_by_key(run_conformance("bad", kernels=["sgd_step"]))
    assert r[("sgd_step", "float32")].status == "failed"
    assert "argument" in r[("sgd_step", "float32")].detail and "after the step" in r[("sgd_step", "float32")].detail
    ref = results_by_key(run_conformance("numpy", kernels=["sgd_step"]))
    assert ref[("sgd_step", "float64")].status == "passed"


def test_assert_backend_conforms_lists_the_failures(bad_host):
    with pytest.raises(AssertionError) as info:
        assert_backend_conforms("bad")
    text = str(info.value)
    for name in ("add", "exp", "relu", "mul", "sum", "sgd_step"):
        assert f"  {name} [" in text
    assert "frobnicate" not in text                  # skipped is not a failure
    assert_backend_conforms("bad", kernels=["neg", "frobnicate"])


def test_unknown_or_unavailable_backend(bad_host):
    with pytest.raises(BackendError, match="unknown backend 'nope'"):
        run_conformance("nope")
    with pytest.raises(BackendError, match="'gone'.*not available"):
        run_conformance("gone")
    with pytest.raises(BackendError, match="registers no kernel 'conv9d'"):
        run_conformance("bad", kernels=["conv9d"])


def test_format_results_is_a_table_with_a_summary(bad_host):
    text = format_results(run_conformance("bad", kernels=["add", "neg"], dtypes=["float32", "float64"]))
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["kernel", "dtype", "status", "cases", "max"]
    assert any(line.startswith("add") and "failed" in line for line in lines)
    assert lines[-1] == "1 passed, 2 failed, 0 error, 1 skipped"
