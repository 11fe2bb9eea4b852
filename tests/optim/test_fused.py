"""Fused group updates (flat buffers) give exactly the per-parameter results."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim

MAKERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=1e-1, lr_decay=1e-3),
}
SHAPES = [(3, 4), (4,), (), (2, 3, 2)]


def _params(seed: int) -> list[mnp.Tensor]:
    rng = np.random.default_rng(seed)
    return [mnp.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in SHAPES]


def _run(name: str, fused: bool, steps: int = 8, break_at: int | None = None):
    params = _params(0)
    opt = MAKERS[name](params)
    opt.fused = fused
    rng = np.random.default_rng(1)
    for step in range(steps):
        for p in params:
            p.grad = mnp.tensor(rng.standard_normal(p.shape).astype(np.float32))
        if step == break_at:
            params[1].data = params[1].data.copy()     # rebinding breaks the aliasing
            opt.load_state_dict(opt.state_dict())      # so does loading state
        opt.step()
    return [p.data.copy() for p in params], opt.state_dict()


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_fused_equals_per_parameter(name):
    fused, sd_fused = _run(name, True)
    plain, sd_plain = _run(name, False)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    assert sd_fused["state"].keys() == sd_plain["state"].keys()
    for i, entries in sd_plain["state"].items():
        assert entries.keys() == sd_fused["state"][i].keys()
        for key, value in entries.items():
            got = sd_fused["state"][i][key]
            if isinstance(value, mnp.Tensor):
                assert got.shape == value.shape == SHAPES[i]
                np.testing.assert_array_equal(got.numpy(), value.numpy())
            else:
                assert got == value


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_aliasing_broken_mid_run_is_rebuilt(name):
    fused, _ = _run(name, True, break_at=4)
    plain, _ = _run(name, False, break_at=4)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)


def test_parameters_become_views_of_one_buffer_with_same_values():
    params = _params(0)
    before = [p.data.copy() for p in params]
    opt = optim.SGD(params, lr=0.0)
    for p in params:
        p.grad = mnp.zeros_like(p)
    opt.step()
    base = params[0].data.base
    assert base is not None and all(p.data.base is base for p in params)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)


def test_missing_gradient_falls_back_to_per_parameter():
    params = _params(0)
    opt = optim.Adam(params, lr=1e-2)
    for p in params[:-1]:
        p.grad = mnp.ones_like(p)
    opt.step()
    assert params[-1] not in opt.state or not opt.state[params[-1]]
    assert all(opt.state[p]["step"] == 1 for p in params[:-1])
