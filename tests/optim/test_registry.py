"""The optim plugin: registries, kernels through the hook, `create`, runnable docs, layering."""
from __future__ import annotations

import doctest
import importlib
import importlib.metadata as md
import pathlib
import re

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim
from mnp.core.dispatch import kernel
from mnp.core.plugins import PluginHost, use_host
from mnp.optim import lr_scheduler

OPTIMIZERS = {"SGD", "Momentum", "Adam", "AdamW", "RMSprop", "RMSProp", "Adagrad"}
SCHEDULERS = {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
              "ReduceLROnPlateau", "OneCycleLR", "LambdaLR", "SequentialLR"}
KERNELS = {"sgd_step", "adam_step", "rmsprop_step", "rmsprop_centered_step", "adagrad_step"}
SRC = pathlib.Path(optim.__file__).parent


def test_registries_hold_every_optimizer_and_scheduler():
    assert OPTIMIZERS <= set(mnp.registry("optimizers"))
    assert SCHEDULERS <= set(mnp.registry("schedulers"))
    assert mnp.lookup("optimizers", "Adam") is optim.Adam
    assert mnp.lookup("optimizers", "RMSProp") is optim.RMSprop
    assert mnp.lookup("schedulers", "OneCycleLR") is lr_scheduler.OneCycleLR
    row = next(p for p in mnp.plugins() if p["module"] == "mnp.optim.plugin")
    assert row["status"] == "loaded"
    assert set(row["provides"]["optimizers"]) == OPTIMIZERS
    assert set(row["provides"]["schedulers"]) == SCHEDULERS
    assert set(row["provides"]["kernels"]) == {f"numpy:{k}" for k in KERNELS}


def test_create_by_name():
    p = mnp.zeros(2, requires_grad=True)
    opt = optim.create("AdamW", [p], lr=0.01, weight_decay=0.5)
    assert type(opt) is optim.AdamW and opt.param_groups[0]["weight_decay"] == 0.5
    assert type(optim.create("adagrad", [p])) is optim.Adagrad  # case-insensitive fallback
    assert type(optim.create("momentum", [p], lr=0.1)) is optim.Momentum
    with pytest.raises(mnp.PluginError, match="no optimizer named 'Lion'.*Adam"):
        optim.create("Lion", [p])
    sched = lr_scheduler.create("steplr", opt, step_size=3)
    assert type(sched) is lr_scheduler.StepLR and sched.get_last_lr() == [0.01]


def _entry_point(name, value):
    return md.EntryPoint(name=name, value=value, group="mnp")


def test_kernels_come_from_the_plugin_hook():
    with_optim = PluginHost(entry_points=lambda: [_entry_point("optim", "mnp.optim.plugin")],
                            environ={})
    with use_host(with_optim):
        assert kernel("adam_step", np.dtype("float32")) is optim.kernels.adam_step
        assert set(mnp.registry("optimizers")) == OPTIMIZERS
    bare = PluginHost(entry_points=lambda: [], environ={})
    with use_host(bare):
        with pytest.raises(mnp.BackendError, match="no kernel 'sgd_step'"):
            kernel("sgd_step", np.dtype("float32"))
        w = mnp.zeros(2, requires_grad=True)
        w.grad = mnp.ones(2)
        with pytest.raises(mnp.BackendError):
            optim.SGD([w], lr=0.1).step()


MODULES = ["mnp.optim", "mnp.optim.kernels", "mnp.optim.sgd", "mnp.optim.adam",
           "mnp.optim.rmsprop", "mnp.optim.adagrad", "mnp.optim.clip",
           "mnp.optim.grad_scaler", "mnp.optim.lr_scheduler", "mnp.optim.registry"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result


def test_imports_only_mnp_core():
    for path in SRC.glob("*.py"):
        text = path.read_text()
        others = re.findall(r"^\s*(?:from|import)\s+mnp\.(nn|data|kernels_c)\b", text, re.M)
        assert not others, f"{path.name} imports mnp.{others}"
        assert "pickle" not in text
