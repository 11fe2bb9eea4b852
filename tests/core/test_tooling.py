"""grad_check, profile()/Profiler and detect_anomaly()."""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import AnomalyError, ArgumentError, GradCheckError

autograd = sys.modules["mnp.core.autograd"]


class Scaled(mnp.Function):
    """``k * x`` whose backward claims ``k_back``: right when they agree."""

    def forward(self, x, k=1.0, k_back=1.0):
        self.k_back = k_back
        return x * k

    def backward(self, g):
        return g * self.k_back


# -- grad_check -----------------------------------------------------------------------------
def test_grad_check_passes_for_correct_gradients(rng):
    a = mnp.tensor(rng.standard_normal((2, 3)), requires_grad=True)     # float32 in: checked in float64
    b = mnp.tensor(rng.standard_normal((3,)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a, b: (a * b + a.exp()).sum(), [a, b]) is True
    assert mnp.gradcheck is mnp.grad_check
    assert a.grad is None and b.grad is None       # the caller's tensors are untouched


def test_grad_check_non_scalar_output_and_constant_inputs(rng):
    x = mnp.tensor(rng.standard_normal((3, 2)), dtype=mnp.float64, requires_grad=True)
    c = mnp.tensor(rng.standard_normal((3, 2)), dtype=mnp.float64)
    assert mnp.grad_check(lambda x, c: Scaled.apply(x, k=3.0, k_back=3.0) * c, [x, c])


def test_grad_check_catches_a_wrong_backward():
    x = mnp.tensor([[0.5, -1.0, 2.0]], dtype=mnp.float64, requires_grad=True)
    with pytest.raises(GradCheckError) as info:
        mnp.grad_check(lambda t: Scaled.apply(t, k=2.0, k_back=2.1), [x])
    msg = str(info.value)
    assert "input 0 (shape (1, 3)) at index (0, 0)" in msg
    assert "analytic" in msg and "numeric" in msg
    # the wrong input is named when it is not the first
    y = mnp.tensor([1.0], dtype=mnp.float64, requires_grad=True)
    with pytest.raises(GradCheckError, match="input 1"):
        mnp.grad_check(lambda a, b: a * 2 + Scaled.apply(b, k=1.0, k_back=0.0), [x, y])


def test_grad_check_tolerances_are_used():
    x = mnp.tensor([1.0, 2.0], dtype=mnp.float64, requires_grad=True)
    f = lambda t: Scaled.apply(t, k=1.0, k_back=1.0005)   # noqa: E731  (off by 5e-4 relative)
    assert mnp.grad_check(f, [x], rtol=1e-3)
    with pytest.raises(GradCheckError):
        mnp.grad_check(f, [x], rtol=1e-4, atol=1e-6)


def test_grad_check_needs_an_input_that_requires_grad():
    with pytest.raises(GradCheckError, match="no input requires grad"):
        mnp.grad_check(lambda t: t * 2, [mnp.ones(2)])
    with pytest.raises(GradCheckError, match="must return a Tensor"):
        mnp.grad_check(lambda t: 3.0, [mnp.ones(2, requires_grad=True)])


# -- profile --------------------------------------------------------------------------------
def test_profile_counts_ops_forward_and_backward():
    x = mnp.randn(8, 8, requires_grad=True)
    with mnp.profile() as prof:
        for _ in range(3):
            y = (x @ x).exp().sum()
            y.backward()
    d = prof.to_dict()
    ops = d["ops"]
    assert ops["matmul"]["calls"] == 3 and ops["exp"]["calls"] == 3 and ops["sum"]["calls"] == 3
    assert ops["matmul"]["backward_calls"] == 3
    assert all(r["forward_ms"] >= 0 and r["backward_ms"] >= 0 for r in ops.values())
    assert sum(r["share"] for r in ops.values()) == pytest.approx(1.0)
    assert d["total_ms"] == pytest.approx(sum(r["forward_ms"] + r["backward_ms"] for r in ops.values()))
    assert d["wall_ms"] >= d["total_ms"] * 0.5
    table = prof.table().splitlines()
    assert table[0].split() == ["op", "calls", "forward", "ms", "backward", "ms", "share"]
    assert {line.split()[0] for line in table[1:-1]} == set(ops)
    assert table[-1].startswith("total")
    assert str(prof) == prof.table()


def test_profile_removes_its_observer_even_on_error():
    with pytest.raises(RuntimeError):
        with mnp.profile():
            assert len(autograd._observers) == 1
            raise RuntimeError("stop")
    assert autograd._observers == []
    with mnp.profile() as outer:
        with mnp.profile() as inner:
            mnp.ones(2) + 1
        mnp.ones(2) * 2
    assert set(inner.to_dict()["ops"]) == {"add"}
    assert set(outer.to_dict()["ops"]) == {"add", "mul"}
    assert autograd._observers == []


def test_profiler_sections():
    p = mnp.Profiler()
    p.start("data")
    time.sleep(0.002)
    assert p.stop("data") >= 0.002
    for _ in range(2):
        with p.section("step"):
            pass
    assert p.to_dict()["data"]["calls"] == 1 and p.to_dict()["step"]["calls"] == 2
    lines = p.summary().splitlines()
    assert lines[0].split()[:2] == ["section", "calls"] and lines[1].split()[0] == "data"
    p.start("x")
    with pytest.raises(ArgumentError, match="'x' is already running"):
        p.start("x")
    with pytest.raises(ArgumentError, match="'y' was not started"):
        p.stop("y")


# -- detect_anomaly -------------------------------------------------------------------------
def test_detect_anomaly_forward_names_the_op():
    with pytest.raises(AnomalyError, match=r"^log: forward produced NaN from finite inputs"):
        with mnp.detect_anomaly():
            y = mnp.tensor([1.0, 2.0]) * 2      # fine
            mnp.log(y - 3)                       # log(-1): NaN
    with pytest.raises(AnomalyError, match=r"^div: forward produced Inf"):
        with mnp.detect_anomaly():
            mnp.ones(2) / mnp.zeros(2)


def test_detect_anomaly_backward_names_the_op():
    x = mnp.zeros(3, requires_grad=True)
    with pytest.raises(AnomalyError, match=r"^sqrt: backward produced (Inf|NaN) in the gradient of input 0"):
        with mnp.detect_anomaly():
            mnp.sqrt(x).sum().backward()       # d sqrt(x) / dx at 0 is inf


def test_without_detect_anomaly_nothing_is_raised_and_observers_are_gone():
    with pytest.raises(AnomalyError):
        with mnp.detect_anomaly():
            mnp.log(mnp.tensor([-1.0]))
    assert autograd._observers == []
    with np.errstate(all="ignore"):
        y = mnp.log(mnp.tensor([-1.0]))
    assert np.isnan(y.item())


def test_nan_input_is_not_blamed_on_the_next_op():
    with mnp.detect_anomaly():
        x = mnp.from_numpy(np.array([np.nan, 1.0], np.float32))
        y = x * 2                               # NaN came in: not this op's doing
    assert np.isnan(y.data[0])
