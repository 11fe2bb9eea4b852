"""Routing declared at registration and resolved by dispatch: a kernel that declines
(returns NotImplemented) runs its fallback, a size rule hands large calls to another backend
(never in deterministic mode unless it says so), `served()` counts who ran each call, and a
kernel registered with a signature kind gets conformance cases of that kind."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import PluginError
from mnp.core.plugins import SizeRule, use_host
from mnp.core.testing import run_conformance

dispatch = sys.modules["mnp.core.dispatch"]
F32 = np.dtype("float32")

ROUTED = """
    import math
    import numpy as np
    from mnp.core import hookimpl
    from mnp.core.plugins import SizeRule

    STATE = {"at_least": 100.0}

    def add(a, b):                      # takes equal float32 shapes only
        if a.dtype != np.float32 or np.shape(a) != np.shape(b):
            return NotImplemented
        return np.add(a, b)

    def matmul(a, b):
        return np.matmul(a, b)

    def smooth_relu(x):                    # a kernel mnp-core's kit has no generator for
        return np.logaddexp(0, x) if x.ndim else NotImplemented

    def smooth_relu_ref(x):
        return np.logaddexp(0, x)

    def gemm(a, b, trans_a=False, trans_b=False):
        return (a.T if trans_a else a) @ (b.T if trans_b else b)

    def work(a, b, *flags):
        return a.shape[-2] * a.shape[-1] * b.shape[-1]

    @hookimpl
    def mnp_register_backends(register):
        rule = SizeRule(work, lambda dtype: STATE["at_least"])
        register("routed", {"add": add, "matmul": matmul, "gemm": gemm, "smooth_relu": smooth_relu},
                 priority=5, fallback="numpy", kinds={"smooth_relu": "unary"},
                 size_rules={"matmul": rule, "gemm": rule})

    @hookimpl
    def mnp_register_kernels(register):
        register("numpy", "smooth_relu", smooth_relu_ref)
"""


@pytest.fixture
def routed(site):
    mod = site.add("mnp-routed", {"routed": ROUTED})["routed"]
    with use_host(site.host()):
        yield sys.modules.get(mod) or __import__(mod)


def test_a_declined_call_runs_the_fallback(routed):
    add = mnp.kernel("add", F32)
    assert add(np.ones(2, np.float32), np.ones(2, np.float32)).tolist() == [2.0, 2.0]
    out = add(np.ones(2, np.float32), np.ones((3, 1), np.float32))    # declined: broadcasting
    assert out.shape == (3, 2) and out.dtype == np.float32
    with dispatch.served() as calls:
        mnp.kernel("add", F32)(np.ones(2, np.float32), np.ones(2, np.float32))
        mnp.kernel("add", F32)(np.ones(2, np.float32), np.ones((3, 1), np.float32))
    assert calls == {("add", "routed"): 1, ("add", "numpy"): 1}


def test_a_kernel_without_routing_is_the_function_itself(site):
    source = ROUTED.replace('fallback="numpy", ', "").replace(
        'size_rules={"matmul": rule, "gemm": rule}', "")
    mod = site.add("mnp-plain", {"routed": source})["routed"]
    with use_host(site.host()):
        assert mnp.kernel("add", F32) is sys.modules[mod].add


def test_size_rule_and_deterministic_mode(routed):
    small, big = np.ones((2, 2), np.float32), np.ones((5, 5), np.float32)
    with dispatch.served() as calls:
        mnp.kernel("matmul", F32)(small, small)
        mnp.kernel("matmul", F32)(big, big)
    assert calls == {("matmul", "routed"): 1, ("matmul", "numpy"): 1}
    mnp.use_deterministic_algorithms(True)
    try:
        with dispatch.served() as calls:
            mnp.kernel("matmul", F32)(big, big)
    finally:
        mnp.use_deterministic_algorithms(False)
    assert calls == {("matmul", "routed"): 1}
    routed.STATE["at_least"] = float("inf")     # the rule is off; read again after clear_cache
    dispatch.clear_cache()
    with dispatch.served() as calls:
        mnp.kernel("matmul", F32)(big, big)
    assert calls == {("matmul", "routed"): 1}


def test_served_blocks_nest_and_cost_nothing_outside(routed):
    plain = mnp.kernel("add", F32)
    a = np.ones(2, np.float32)
    with dispatch.served() as outer:
        with dispatch.served() as inner:
            mnp.kernel("add", F32)(a, a)
        mnp.kernel("add", F32)(a, a)
    assert inner == {("add", "routed"): 1} and outer == {("add", "routed"): 2}
    assert dispatch._tracers == []
    assert mnp.kernel("add", F32).__code__ is plain.__code__


def test_kind_gives_conformance_cases(routed):
    results = run_conformance("routed", kernels=["smooth_relu"])
    assert {r.status for r in results} == {"passed"} and all(r.cases > 10 for r in results)


@pytest.mark.parametrize("options, message", [
    ({"fallback": "bad"}, "fallback must name another backend"),
    ({"size_rules": {"nope": None}}, "size rules for kernels it does not register"),
    ({"size_rules": {"add": 3}}, "size_rule must be a SizeRule"),
    ({"kinds": {"add": 1}}, "kind must be a string"),
])
def test_bad_routing_declarations_are_refused(site, options, message):
    source = f"""
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_backends(register):
            register("bad", {{"add": lambda a, b: a + b}}, **{options!r})
    """
    site.add("mnp-badroute", {"bad": source})
    host = site.host()
    with use_host(host):
        info = [p for p in mnp.plugins() if p["name"] == "bad"][0]
    assert info["status"] == "failed" and message in info["error"]


def test_size_rule_is_frozen_data():
    rule = SizeRule(lambda a: a.size, lambda dtype: 10.0)
    assert rule.to == "numpy" and rule.deterministic is False
    with pytest.raises(Exception):
        rule.to = "c"


def test_profile_shows_the_backend_that_served_each_kernel(routed):
    a = mnp.tensor(np.ones((2, 2), np.float32))
    b = mnp.tensor(np.ones((5, 5), np.float32))
    with mnp.profile() as prof:
        a @ a
        b @ b
    assert prof.kernels == {("gemm", "routed"): 1, ("gemm", "numpy"): 1}
    rows = prof.kernel_table().splitlines()
    assert rows[0].split() == ["kernel", "backend", "calls"]
    assert {tuple(r.split()[:2]) for r in rows[1:]} == set(prof.kernels)
    assert prof.to_dict()["kernels"] == {k: {bk: n for (kk, bk), n in prof.kernels.items() if kk == k}
                                         for k, _ in prof.kernels}
    assert dispatch._tracers == []
