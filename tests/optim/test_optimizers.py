"""Every optimizer and option set against torch.optim: same parameters, same gradient
sequence, two parameter groups with different learning rates; parameters agree at every step."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim
from mnp.core.testing import F32, assert_close

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]
STEPS = 50

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-6, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _groups(params, lr):
    """Two groups: the first with the default lr, the second with half of it."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}]


def run_both(torch, name, kw, dtype=np.float32, steps=STEPS, seed=0):
    """Yield (mnp params, torch params) after each of ``steps`` updates."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    ours = [mnp.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(_groups(ours, kw["lr"]), **kw)
    ref = getattr(torch.optim, name)(_groups(theirs, kw["lr"]), **kw)
    for step in range(steps):
        for p, q, g in zip(ours, theirs, grads[step]):
            p.grad = mnp.tensor(g.copy())
            q.grad = torch.tensor(g.copy())
        opt.step()
        ref.step()
        yield step, ours, theirs


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch_at_every_step(torch, case):
    name, kw = case
    for step, ours, theirs in run_both(torch, name, kw):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            assert p.dtype == np.float32
            assert_close(p.data, q, **F32, what=f"{name} step {step} param {i}")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch_in_float64(torch, case):
    name, kw = case
    for step, ours, theirs in run_both(torch, name, kw, dtype=np.float64, steps=20):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            assert p.dtype == np.float64
            assert_close(p.data, q, rtol=1e-10, atol=1e-12, what=f"{name} step {step} param {i}")


def test_state_buffers_match_torch(torch):
    rng = np.random.default_rng(1)
    p = mnp.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    q = torch.tensor(p.data.copy(), requires_grad=True)
    opt, ref = optim.Adam([p], lr=0.01, amsgrad=True), torch.optim.Adam([q], lr=0.01, amsgrad=True)
    for _ in range(3):
        g = rng.standard_normal(4).astype(np.float32)
        p.grad, q.grad = mnp.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    ours_state, ref_state = opt.state[p], ref.state[q]
    assert ours_state["step"] == int(ref_state["step"].item()) == 3
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert_close(ours_state[key].data, ref_state[key], **F32, what=key)


def test_momentum_alias_is_sgd_with_momentum(torch):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 3)).astype(np.float32)
    p = mnp.tensor(a.copy(), requires_grad=True)
    q = torch.tensor(a.copy(), requires_grad=True)
    opt = optim.Momentum([p], lr=0.1)
    ref = torch.optim.SGD([q], lr=0.1, momentum=0.9)
    assert isinstance(opt, optim.SGD) and opt.defaults["momentum"] == 0.9
    for _ in range(10):
        g = rng.standard_normal((3, 3)).astype(np.float32)
        p.grad, q.grad = mnp.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
        assert_close(p.data, q, **F32)
    assert optim.RMSProp is optim.RMSprop


def test_params_without_grad_are_left_alone():
    a = mnp.tensor([1.0, 2.0], requires_grad=True)
    b = mnp.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mnp.tensor([1.0, 1.0])
    opt.step()
    assert b.tolist() == [3.0, 4.0] and b not in opt.state
    assert a.tolist() != [1.0, 2.0]


def test_step_does_not_touch_the_gradient():
    rng = np.random.default_rng(3)
    for name, kw in CASES:
        p = mnp.tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
        g = rng.standard_normal(6).astype(np.float32)
        p.grad = mnp.tensor(g.copy())
        getattr(optim, name)([p], **kw).step()
        np.testing.assert_array_equal(p.grad.data, g, err_msg=name)


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    w = mnp.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mnp.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 2.0
    assert w.tolist() == [0.0, 0.0]


def test_zero_grad_sets_to_none_or_zeros():
    w = mnp.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = mnp.tensor([5.0, 6.0])
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_group_options_changed_between_steps_take_effect(torch):
    """Schedulers and users change group["lr"] / momentum between steps, as in torch."""
    a = np.array([1.0, -2.0, 3.0], np.float32)
    p = mnp.tensor(a.copy(), requires_grad=True)
    q = torch.tensor(a.copy(), requires_grad=True)
    opt, ref = optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    for step in range(6):
        for o in (opt, ref):
            o.param_groups[0]["lr"] = 0.1 / (step + 1)
            o.param_groups[0]["momentum"] = 0.0 if step < 3 else 0.8
        g = np.array([0.5, -1.0, 2.0], np.float32) * (step + 1)
        p.grad, q.grad = mnp.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
        assert_close(p.data, q, **F32)


def test_repr_lists_groups():
    opt = optim.Adam([mnp.zeros(2, requires_grad=True)], lr=0.5)
    text = repr(opt)
    assert text.startswith("Adam (") and "lr: 0.5" in text and "Parameter Group 0" in text
