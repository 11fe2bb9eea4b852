"""Kernel dispatch: backend selection, per-kernel and per-dtype fallback to numpy, the
MNP_BACKEND variable, and a kernel table that is a dict lookup after the first call."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import BackendError
from mnp.core.plugins import use_host

dispatch = sys.modules["mnp.core.dispatch"]
F32, F64 = np.dtype("float32"), np.dtype("float64")

BACKENDS = """
    import numpy as np
    from mnp.core import hookimpl

    CALLS = {"add": 0, "mul": 0, "hook": 0}

    def add(a, b):
        CALLS["add"] += 1
        return np.add(a, b)

    def mul(a, b):
        CALLS["mul"] += 1
        return np.multiply(a, b)

    def broken():
        raise OSError("no device")

    @hookimpl
    def mnp_register_backends(register):
        CALLS["hook"] += 1
        register("fast", {"add": add, "mul": mul}, priority=5, dtypes={"add": ("float32",)})
        register("off", {"add": add}, priority=50, available=False)
        register("flaky", {"add": add}, priority=40, available=broken)
        register("later", {}, priority=-3, available=lambda: True)
"""


@pytest.fixture
def fake(site):
    mod = site.add("mnp-fakebackends", {"fakeb": BACKENDS})["fakeb"]
    with use_host(site.host()):
        yield sys.modules.get(mod) or __import__(mod)


def calls(fake):
    return sys.modules[fake.__name__].CALLS


def test_default_is_the_highest_priority_available_backend(fake):
    rows = mnp.backends()
    assert [r["name"] for r in rows] == ["off", "flaky", "fast", "numpy", "later"]
    avail = {r["name"]: r["available"] for r in rows}
    assert avail == {"off": False, "flaky": False, "fast": True, "numpy": True, "later": True}
    assert set(rows[0]) >= {"name", "available", "priority", "provider", "kernels"}
    assert mnp.get_backend() == "fast"


def test_per_kernel_fallback_to_numpy(fake):
    a, b = mnp.ones(3), mnp.full((3,), 2.0)
    c = calls(fake)
    assert (a + b).tolist() == [3.0] * 3 and c["add"] == 1
    assert (a - b).tolist() == [-1.0] * 3           # "fast" has no sub: numpy's
    assert dispatch.resolve("sub", F32) == (mnp.kernel("sub", F32), "numpy")
    assert dispatch.resolve("add", F32)[1] == "fast"


def test_per_dtype_fallback_to_numpy(fake):
    c = calls(fake)
    x = mnp.ones(2, dtype=mnp.float64)
    assert (x + x).tolist() == [2.0, 2.0]
    assert c["add"] == 0                           # "fast" add is float32 only
    assert dispatch.resolve("add", F64)[1] == "numpy"
    assert (x * x).tolist() == [1.0, 1.0] and c["mul"] == 1   # mul: every dtype


def test_set_backend_and_use_backend(fake):
    c = calls(fake)
    a = mnp.ones(2)
    mnp.set_backend("numpy")
    assert mnp.get_backend() == "numpy"
    a + a
    assert c["add"] == 0
    with mnp.use_backend("fast") as name:
        assert name == "fast" and mnp.get_backend() == "fast"
        a + a
    assert c["add"] == 1 and mnp.get_backend() == "numpy"
    with pytest.raises(ZeroDivisionError):
        with mnp.use_backend("fast"):
            1 / 0
    assert mnp.get_backend() == "numpy"            # restored after an exception too
    mnp.set_backend("fast")
    a + a
    assert c["add"] == 2


@pytest.mark.parametrize("name, message", [
    ("nope", r"unknown backend 'nope'; known: fast, flaky, later, numpy, off"),
    ("off", r"backend 'off' \(from 'fakeb'\) is not available"),
    ("flaky", r"backend 'flaky' \(from 'fakeb'\) is not available"),
])
def test_unknown_or_unavailable_backend_is_a_backend_error(fake, name, message):
    with pytest.raises(BackendError, match=message):
        mnp.set_backend(name)
    with pytest.raises(BackendError, match=message):
        with mnp.use_backend(name):
            pass
    assert mnp.get_backend() == "fast"


def test_a_kernel_nobody_provides_is_a_backend_error(fake):
    with pytest.raises(BackendError, match=r"no kernel 'frobnicate' for dtype float32 in backend 'fast'"):
        mnp.kernel("frobnicate", F32)


def test_lower_priority_backend_still_selectable(fake):
    with mnp.use_backend("later"):
        assert (mnp.ones(2) + 1).tolist() == [2.0, 2.0]   # no kernels: all numpy
        assert dispatch.resolve("add", F32)[1] == "numpy"


def test_kernel_table_is_a_dict_lookup_after_first_use(fake, monkeypatch):
    a = mnp.ones(4, requires_grad=True)
    ((a + a) * a).sum().backward()                 # warm the table
    c = calls(fake)
    hooks_before = c["hook"]

    def no_resolve(*args, **kw):
        raise AssertionError("resolve called after warm-up")

    def no_load(self):
        raise AssertionError("host.load called after warm-up")
    monkeypatch.setattr(dispatch, "resolve", no_resolve)
    monkeypatch.setattr(type(dispatch.get_host()), "load", no_load)
    monkeypatch.setattr(dispatch, "get_host", lambda: (_ for _ in ()).throw(AssertionError("get_host")))
    for _ in range(200):
        a.grad = None
        ((a + a) * a).sum().backward()
    assert c["hook"] == hooks_before == 1          # the hook ran once, at load
    assert c["add"] >= 200
    assert a.grad.tolist() == [4.0] * 4


def test_switching_backend_invalidates_the_table(fake):
    k_fast = mnp.kernel("add", F32)
    assert k_fast is dispatch.resolve("add", F32)[0]
    with mnp.use_backend("numpy"):
        k_np = mnp.kernel("add", F32)
        assert k_np is not k_fast and dispatch.resolve("add", F32)[1] == "numpy"
    assert mnp.kernel("add", F32) is k_fast


def test_host_change_resets_the_choice(site, fake):
    mnp.set_backend("numpy")
    with use_host(site.host(environ={"MNP_LOAD_PLUGINS": ""})):
        assert mnp.get_backend() == "numpy"
        assert [b["name"] for b in mnp.backends()] == ["numpy"]
    assert mnp.get_backend() in ("fast", "numpy")


def test_dispatch_follows_the_real_installed_backends():
    names = [b["name"] for b in mnp.backends()]
    assert "numpy" in names
    assert mnp.get_backend() in names


# -- MNP_BACKEND (read when no backend has been set) -----------------------------------------
def test_mnp_backend_env_in_a_subprocess(site):
    site.add("mnp-envfake", {"envfake": """
        import numpy as np
        from mnp.core import hookimpl

        @hookimpl
        def mnp_register_backends(register):
            register("envfake", {"add": lambda a, b: np.add(a, b) + 100}, priority=-5)
            register("envoff", {}, available=False)
    """})
    code = """
        import json, os, sys
        import mnp.core as mnp
        plugins = sys.modules["mnp.core.plugins"]
        results = {}
        for env in ["<start>", "", "numpy", "nope", "envoff"]:
            if env != "<start>":           # the value this process started with comes first
                os.environ["MNP_BACKEND"] = env
                plugins.set_host(None)     # a fresh host: the choice is made again
            try:
                out = {"backend": mnp.get_backend(), "sum": (mnp.ones(2) + mnp.ones(2)).tolist()}
            except mnp.BackendError as exc:
                out = {"error": str(exc)}
            results[env] = out
        print(json.dumps(results))
    """
    # only core's reference and the fake plugin load, whatever else is installed
    proc = site.run(code, {"MNP_BACKEND": "envfake", "MNP_LOAD_PLUGINS": "envfake"})
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["<start>"] == {"backend": "envfake", "sum": [102.0, 102.0]}
    assert res[""] == {"backend": "numpy", "sum": [2.0, 2.0]}
    assert res["numpy"] == {"backend": "numpy", "sum": [2.0, 2.0]}
    assert "unknown backend 'nope'" in res["nope"]["error"]
    assert "'envoff'" in res["envoff"]["error"] and "not available" in res["envoff"]["error"]
