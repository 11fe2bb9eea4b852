"""An optimizer step changes its parameters in place: it raises their versions, so a backward
through a graph that saved them before the step raises (as PyTorch), and training, which
steps after each backward, is unaffected."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_a_backward_after_the_step_raises_and_names_the_step(make, fused):
    g = np.random.default_rng(0)
    w = mnp.tensor(g.standard_normal((3, 2)), requires_grad=True)
    b = mnp.tensor(g.standard_normal(2), requires_grad=True)
    x = mnp.tensor(g.standard_normal((4, 3)))
    opt = make([w, b])
    opt.fused = fused
    # a first step: a fused optimizer moves the parameters into its flat buffer then (the
    # memory a graph saved before that is left as it was, so that graph stays valid)
    ((x @ w + b) ** 2).sum().backward()
    opt.step()
    loss = ((x @ w + b) ** 2).sum()          # matmul saves w
    loss.backward(retain_graph=True)
    before = w._version
    opt.step()
    assert w._version == before + 1 and b._version >= 1
    with pytest.raises(mnp.AutogradError, match=r"modified by an inplace operation.*\.step"):
        loss.backward()


def test_training_that_steps_after_each_backward_is_unaffected():
    g = np.random.default_rng(1)
    w = mnp.tensor(g.standard_normal((3, 1)), requires_grad=True)
    x, y = mnp.tensor(g.standard_normal((16, 3))), mnp.tensor(g.standard_normal((16, 1)))
    opt = optim.SGD([w], lr=0.05)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] and w._version == 20
