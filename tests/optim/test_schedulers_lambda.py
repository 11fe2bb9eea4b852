"""LambdaLR, SequentialLR (warmup then cosine), LinearLR and CosineAnnealingLR step by step
against torch.optim.lr_scheduler, and AdamW with parameter groups that exempt biases and
norms from weight decay."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn, optim
from mnp.optim import lr_scheduler as ls


def _pair(torch, lr=0.1, groups=1):
    ours = optim.SGD([{"params": [mnp.zeros(1, requires_grad=True)], "lr": lr * (i + 1)}
                      for i in range(groups)], lr=lr)
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr * (i + 1)}
                              for i in range(groups)], lr=lr)
    return ours, theirs


def _run(ours, theirs, topt, steps):
    for step in range(steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), step
        topt.step()
        ours.step()
        theirs.step()


def test_lambda_lr_matches_torch(torch):
    o, t = _pair(torch, groups=2)
    fns = [lambda e: 0.9 ** e, lambda e: 1.0 / (1 + e)]
    _run(ls.LambdaLR(o, fns), torch.optim.lr_scheduler.LambdaLR(t, fns), t, 12)


@pytest.mark.parametrize("warmup,total", [(5, 20), (1, 4), (3, 30)])
def test_linear_warmup_then_cosine_matches_torch(torch, warmup, total):
    o, t = _pair(torch, groups=2)
    TL = torch.optim.lr_scheduler
    ours = ls.SequentialLR(o, [ls.LinearLR(o, start_factor=0.01, total_iters=warmup),
                               ls.CosineAnnealingLR(o, T_max=total - warmup, eta_min=1e-4)],
                           milestones=[warmup])
    theirs = TL.SequentialLR(t, [TL.LinearLR(t, start_factor=0.01, total_iters=warmup),
                                 TL.CosineAnnealingLR(t, T_max=total - warmup, eta_min=1e-4)],
                             milestones=[warmup])
    _run(ours, theirs, t, total + 5)


def test_sequential_lr_three_phases_and_state_dict(torch):
    o, t = _pair(torch)
    TL = torch.optim.lr_scheduler

    def build(mod, opt):
        return mod.SequentialLR(opt, [mod.LinearLR(opt, start_factor=0.1, total_iters=3),
                                      mod.ExponentialLR(opt, gamma=0.8),
                                      mod.StepLR(opt, step_size=2, gamma=0.5)],
                                milestones=[3, 7])
    ours, theirs = build(ls, o), build(TL, t)
    _run(ours, theirs, t, 6)
    saved = ours.state_dict()
    o2, _ = _pair(torch)
    again = build(ls, o2)
    again.load_state_dict(saved)
    o2.param_groups[0]["lr"] = o.param_groups[0]["lr"]
    for _ in range(6):
        ours.step()
        again.step()
        assert again.get_last_lr() == pytest.approx(ours.get_last_lr())
    with pytest.raises(optim.SchedulerError, match="milestone"):
        ls.SequentialLR(o, [ls.ExponentialLR(o, 0.5), ls.ExponentialLR(o, 0.5)], milestones=[])


@pytest.mark.parametrize("kw", [dict(start_factor=0.25, end_factor=1.0, total_iters=4),
                                dict(start_factor=1.0, end_factor=0.1, total_iters=6)])
def test_linear_lr_matches_torch(torch, kw):
    o, t = _pair(torch)
    _run(ls.LinearLR(o, **kw), torch.optim.lr_scheduler.LinearLR(t, **kw), t, 10)


@pytest.mark.parametrize("T_max,eta_min", [(10, 0.0), (7, 0.01)])
def test_cosine_annealing_matches_torch_past_t_max(torch, T_max, eta_min):
    o, t = _pair(torch)
    _run(ls.CosineAnnealingLR(o, T_max, eta_min),
         torch.optim.lr_scheduler.CosineAnnealingLR(t, T_max, eta_min), t, 2 * T_max + 3)


def test_adamw_with_no_decay_groups_matches_torch(torch, rng):
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8),
                                 torch.nn.Linear(8, 2))
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})

    def groups(named, ndim):
        named = list(named)
        decay = [p for n, p in named if ndim(p) >= 2]
        no_decay = [p for n, p in named if ndim(p) < 2]
        return [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]

    ours = optim.AdamW(groups(model.named_parameters(), lambda p: p.ndim), lr=0.05)
    theirs = torch.optim.AdamW(groups(tmodel.named_parameters(), lambda p: p.dim()), lr=0.05)
    assert [len(g["params"]) for g in ours.param_groups] == [2, 4]
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    for _ in range(5):
        ours.zero_grad()
        theirs.zero_grad()
        nn.MSELoss()(model(mnp.tensor(x)), mnp.tensor(y)).backward()
        torch.nn.MSELoss()(tmodel(torch.tensor(x)), torch.tensor(y)).backward()
        ours.step()
        theirs.step()
    for (name, p), (_, tp) in zip(model.state_dict().items(), tmodel.state_dict().items()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    # with zero gradients on a fresh optimizer only the decayed group moves (by lr * wd)
    fresh = optim.AdamW(groups(model.named_parameters(), lambda p: p.ndim), lr=0.05)
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = mnp.zeros_like(p)
    fresh.step()
    for n, p in model.named_parameters():
        factor = 1 - 0.05 * 0.1 if p.ndim >= 2 else 1.0
        np.testing.assert_allclose(p.numpy(), before[n] * factor, rtol=1e-6, err_msg=n)
