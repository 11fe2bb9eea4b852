"""Every scheduler produces torch's learning-rate (and momentum) sequence over 100 steps."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim
from mnp.optim import lr_scheduler as ours_lrs

STEPS = 100
LRS = (0.1, 0.05)


def _lambda(epoch):
    return 0.95 ** epoch if epoch < 60 else 0.5


CASES = [
    ("SGD", "StepLR", dict(step_size=7, gamma=0.5)),
    ("SGD", "MultiStepLR", dict(milestones=[10, 30, 30, 70], gamma=0.3)),
    ("SGD", "ExponentialLR", dict(gamma=0.97)),
    ("SGD", "CosineAnnealingLR", dict(T_max=30, eta_min=0.001)),
    ("SGD", "CosineAnnealingLR", dict(T_max=100)),
    ("SGD", "LinearLR", dict()),
    ("SGD", "LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=20)),
    ("SGD", "LambdaLR", dict(lr_lambda=_lambda)),
    ("SGD", "OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=STEPS)),
    ("Adam", "OneCycleLR", dict(max_lr=0.3, epochs=10, steps_per_epoch=10, pct_start=0.25,
                                anneal_strategy="linear", three_phase=True)),
    ("SGD", "OneCycleLR", dict(max_lr=0.2, total_steps=STEPS, cycle_momentum=False,
                               div_factor=10.0, final_div_factor=100.0)),
]


def _ids(case):
    opt, name, kw = case
    return f"{opt}-{name}-" + ",".join(f"{k}={v}" for k, v in kw.items() if k != "lr_lambda")


def _pair(torch, opt_name):
    p = mnp.zeros(3, requires_grad=True)
    q = torch.zeros(3, requires_grad=True)
    extra = {"momentum": 0.9} if opt_name == "SGD" else {}
    opt = getattr(optim, opt_name)([{"params": [p], "lr": LRS[0]},
                                    {"params": [mnp.zeros(2, requires_grad=True)],
                                     "lr": LRS[1]}], lr=LRS[0], **extra)
    ref = getattr(torch.optim, opt_name)([{"params": [q], "lr": LRS[0]},
                                          {"params": [torch.zeros(2, requires_grad=True)],
                                           "lr": LRS[1]}], lr=LRS[0], **extra)
    return opt, ref


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _close(a, b):
    return all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15) for x, y in zip(a, b))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_sequence_matches_torch(torch, case):
    opt_name, name, kw = case
    opt, ref = _pair(torch, opt_name)
    sched = getattr(ours_lrs, name)(opt, **kw)
    ref_sched = getattr(torch.optim.lr_scheduler, name)(ref, **kw)
    seen = set()
    for step in range(STEPS):
        got, want = sched.get_last_lr(), ref_sched.get_last_lr()
        assert _close(got, want), f"{name} step {step}: {got} != {want}"
        assert [g["lr"] for g in opt.param_groups] == got
        assert _close(_momenta(opt), _momenta(ref)), f"{name} momentum at step {step}"
        seen.add(round(got[0], 12))
        opt.step()
        ref.step()
        if step < STEPS - 1 or name != "OneCycleLR":
            sched.step()
            ref_sched.step()
    assert len(seen) > 3, f"{name} barely changed the rate: {sorted(seen)}"


def test_one_cycle_past_its_end_raises(torch):
    opt, _ = _pair(torch, "SGD")
    sched = ours_lrs.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):
        sched.step()
    with pytest.raises(optim.SchedulerError, match="total_steps is 5"):
        sched.step()


@pytest.mark.parametrize("kw", [
    dict(mode="min", factor=0.5, patience=3, cooldown=2, threshold=0.01),
    dict(mode="max", factor=0.3, patience=2, threshold=0.05, threshold_mode="abs",
         min_lr=[0.01, 0.004]),
    dict(mode="min", factor=0.1, patience=0, threshold_mode="abs", min_lr=1e-4, eps=1e-3),
], ids=["min-rel-cooldown", "max-abs-minlr", "min-abs-eps"])
def test_reduce_on_plateau_matches_torch(torch, kw):
    rng = np.random.default_rng(0)
    trend = np.concatenate([np.linspace(1.0, 0.5, 30), np.full(40, 0.5), np.linspace(0.5, 0.3, 30)])
    metrics = trend + rng.normal(scale=0.02, size=STEPS)
    if kw["mode"] == "max":
        metrics = -metrics
    opt, ref = _pair(torch, "SGD")
    sched = ours_lrs.ReduceLROnPlateau(opt, **kw)
    ref_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kw)
    reductions = 0
    for step, m in enumerate(metrics):
        before = sched.get_last_lr()
        opt.step()
        ref.step()
        sched.step(float(m))
        ref_sched.step(float(m))
        assert _close(sched.get_last_lr(), ref_sched.get_last_lr()), f"step {step}"
        assert sched.num_bad_epochs == ref_sched.num_bad_epochs
        assert sched.best == ref_sched.best
        reductions += sched.get_last_lr() != before
    assert reductions >= 2


@pytest.mark.parametrize("case", [c for c in CASES if c[1] in
                                  ("StepLR", "MultiStepLR", "ExponentialLR",
                                   "CosineAnnealingLR", "LinearLR")], ids=_ids)
def test_closed_form_with_epoch_matches_torch(torch, case):
    opt_name, name, kw = case
    opt, ref = _pair(torch, opt_name)
    sched = getattr(ours_lrs, name)(opt, **kw)
    ref_sched = getattr(torch.optim.lr_scheduler, name)(ref, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 10, 17, 31, 64):
            sched.step(epoch)
            ref_sched.step(epoch)
            assert _close(sched.get_last_lr(), ref_sched.get_last_lr()), f"{name} at {epoch}"


def test_state_dict_round_trip_continues_the_sequence():
    def make():
        opt = optim.SGD([mnp.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        return opt, ours_lrs.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)

    opt, sched = make()
    for _ in range(4):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    expected = []
    for _ in range(8):
        sched.step()
        expected.append(sched.get_last_lr())
    opt2, sched2 = make()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    got = []
    for _ in range(8):
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == expected


def test_lambda_state_keeps_callable_objects_state():
    class Warmup:
        def __init__(self):
            self.factor = 2.0

        def __call__(self, epoch):
            return self.factor * epoch

    opt = optim.SGD([mnp.zeros(1, requires_grad=True)], lr=1.0)
    fn = Warmup()
    sched = ours_lrs.LambdaLR(opt, [fn])
    fn.factor = 3.0
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"factor": 3.0}]
    fresh = Warmup()
    other = ours_lrs.LambdaLR(optim.SGD([mnp.zeros(1, requires_grad=True)], lr=1.0), fresh)
    other.load_state_dict(sd)
    assert fresh.factor == 3.0 and other.last_epoch == sched.last_epoch
    assert ours_lrs.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


def test_bad_scheduler_arguments():
    opt = optim.SGD([mnp.zeros(1, requires_grad=True)], lr=1.0)
    adagrad = optim.Adagrad([mnp.zeros(1, requires_grad=True)])
    bad = [
        lambda: ours_lrs.StepLR(opt, step_size=0),
        lambda: ours_lrs.LinearLR(opt, start_factor=0.0),
        lambda: ours_lrs.LinearLR(opt, end_factor=1.5),
        lambda: ours_lrs.CosineAnnealingLR(opt, T_max=0),
        lambda: ours_lrs.ReduceLROnPlateau(opt, factor=1.0),
        lambda: ours_lrs.ReduceLROnPlateau(opt, mode="up"),
        lambda: ours_lrs.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]),
        lambda: ours_lrs.OneCycleLR(opt, max_lr=1.0),
        lambda: ours_lrs.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5),
        lambda: ours_lrs.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="step"),
        lambda: ours_lrs.OneCycleLR(adagrad, max_lr=1.0, total_steps=10),
        lambda: ours_lrs.LambdaLR(opt, [lambda e: 1.0, lambda e: 2.0]),
        lambda: ours_lrs.StepLR("not an optimizer", step_size=1),
        lambda: ours_lrs.StepLR(optim.SGD([mnp.zeros(1, requires_grad=True)], lr=1.0),
                                step_size=1, last_epoch=3),
    ]
    for i, make in enumerate(bad):
        with pytest.raises(optim.SchedulerError) as info:
            make()
        assert isinstance(info.value, mnp.MnpError), i
        assert type(info.value).__name__ == "SchedulerError", i
