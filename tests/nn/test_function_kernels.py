"""Every autograd Function of mnp.nn either runs its arithmetic on dispatched kernels (so a
backend can replace it) or says why it is numpy only, in its ``numpy_only`` attribute."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn as mnp_nn
from mnp.core import Function
from mnp.core.dispatch import kernel
from mnp.nn import functional as F

CALL = re.compile(r"\b([A-Za-z_]\w*)\(")
KERNEL_CALL = re.compile(r"\b(?:kernel|apply_kernel)\(")


def _nn_functions() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(mnp_nn.__path__, "mnp.nn."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Function) and obj is not Function
                    and obj.__module__.startswith("mnp.nn.")):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _calls_kernels(cls: type, package: str = "mnp.nn.") -> bool:
    """Whether the methods of ``cls`` (and its bases in ``package``), or the module functions
    of ``package`` they call, call `kernel` or `apply_kernel`."""
    sources, seen = [], set()
    for base in cls.__mro__:
        if base.__module__.startswith(package):
            sources.append((inspect.getsource(base), vars(inspect.getmodule(base))))
    while sources:
        text, namespace = sources.pop()
        if KERNEL_CALL.search(text):
            return True
        for name in CALL.findall(text):
            fn = namespace.get(name)
            if inspect.isfunction(fn) and fn.__module__.startswith(package) and fn not in seen:
                seen.add(fn)
                sources.append((inspect.getsource(fn), vars(inspect.getmodule(fn))))
    return False


FUNCTIONS = _nn_functions()


def test_the_walk_finds_the_functions():
    names = {cls.__name__ for cls in FUNCTIONS}
    assert {"LinearFunction", "Conv2dFunction", "MaxPool2dDilatedFunction", "BatchNormFunction",
            "MSELossFunction", "EmbeddingFunction", "ScaledDotProductAttention"} <= names


@pytest.mark.parametrize("cls", FUNCTIONS, ids=lambda c: c.__name__)
def test_function_calls_kernels_or_is_marked_numpy_only(cls):
    reason = getattr(cls, "numpy_only", None)
    if reason is not None:
        assert isinstance(reason, str) and reason.strip(), f"{cls.__name__}.numpy_only is empty"
    else:
        assert _calls_kernels(cls), (f"{cls.__module__}.{cls.__name__} calls no kernel: run its "
                                     f"arithmetic on kernel(name, dtype) or set numpy_only")


def test_no_function_shares_a_layer_name():
    layers = {name for name, obj in vars(mnp_nn).items()
              if isinstance(obj, type) and issubclass(obj, mnp_nn.Module)}
    assert not layers & {cls.__name__ for cls in FUNCTIONS}


def _double(x):
    return kernel("mul", x.dtype)(x, np.asarray(2.0, x.dtype))


class _Raw(Function):
    def forward(self, x):
        return x * 2.0

    def backward(self, g):
        return g * 2.0


class _Dispatched(_Raw):
    def forward(self, x):
        return _double(x)


def test_the_check_flags_raw_numpy_and_follows_helpers():
    assert not _calls_kernels(_Raw, __name__)
    assert _calls_kernels(_Dispatched, __name__)


def _recording(monkeypatch) -> list[str]:
    import mnp.nn.linear as lin
    import mnp.nn._util as util
    import mnp.nn.losses as losses
    import mnp.nn.norm as norm
    calls: list[str] = []

    def spy(name, dtype):
        calls.append(name)
        return kernel(name, dtype)
    for module in (lin, util, losses, norm):
        monkeypatch.setattr(module, "kernel", spy)
    return calls


def test_linear_bias_and_gradient_run_on_kernels(monkeypatch):
    calls = _recording(monkeypatch)
    x = mnp.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    w = mnp.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    b = mnp.tensor(np.arange(4, dtype=np.float32), requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert calls.count("addmm") == 1 and calls.count("sum") == 1 and "add" not in calls
    assert y.data.tolist() == [[2.0, 3.0, 4.0, 5.0]] * 3 and b.grad.data.tolist() == [3.0] * 4


def test_eval_batch_norm_and_mse_run_on_kernels(monkeypatch):
    calls = _recording(monkeypatch)
    x = mnp.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32),
                   requires_grad=True)
    y = F.batch_norm(x, mnp.zeros(3), mnp.ones(3), mnp.ones(3), mnp.zeros(3), training=False)
    F.mse_loss(y, mnp.zeros((4, 3))).backward()
    assert {"sqrt", "div", "mul", "add", "sub", "sum"} <= set(calls)
