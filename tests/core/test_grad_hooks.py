"""Post-accumulate gradient hooks: when they fire, what they see, removal."""
import gc

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import AutogradError


def test_hook_fires_once_after_the_whole_gradient_is_accumulated():
    w = mnp.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
    y = (w * w).sum() + (w * 3.0).sum()          # two uses: fires once, with both parts
    y.backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    np.testing.assert_allclose(w.grad.data, [5.0, 7.0])


def test_hooks_fire_during_backward_in_reverse_order_of_use():
    a = mnp.tensor([1.0], requires_grad=True)
    b = mnp.tensor([2.0], requires_grad=True)
    order = []
    a.register_post_accumulate_grad_hook(lambda t: order.append("a"))
    b.register_post_accumulate_grad_hook(lambda t: order.append("b"))
    h = (a * 2.0).exp()          # a used first
    out = (h * b).sum()          # b used last: its gradient is whole first
    out.backward()
    assert order == ["b", "a"]


def test_gradient_accumulates_across_backwards_and_hook_sees_the_sum():
    w = mnp.tensor([1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(float(t.grad.data[0])))
    (w * 2.0).sum().backward()
    (w * 3.0).sum().backward()
    assert seen == [2.0, 5.0]


def test_results_match_an_unhooked_run():
    rng = np.random.default_rng(0)
    x = mnp.tensor(rng.normal(size=(4, 3)).astype(np.float32))
    ws = [mnp.tensor(rng.normal(size=(3, 3)).astype(np.float32), requires_grad=True) for _ in range(2)]
    ref = [mnp.tensor(w.data.copy(), requires_grad=True) for w in ws]
    for w in ws:
        w.register_post_accumulate_grad_hook(lambda t: None)
    for params in (ws, ref):
        y = (x @ params[0]).tanh() @ params[1] @ params[0]   # ws[0] shared by two layers
        y.sum().backward()
    for w, r in zip(ws, ref):
        np.testing.assert_array_equal(w.grad.data, r.grad.data)


def test_remove_and_grad_api_do_not_fire():
    w = mnp.tensor([1.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    mnp.grad((w * 2.0).sum(), w)                 # autograd.grad accumulates nothing
    assert seen == []
    handle.remove()
    (w * 2.0).sum().backward()
    assert seen == []


def test_unused_leaf_hook_does_not_fire_and_dead_tensors_are_forgotten():
    from mnp.core import engine
    a = mnp.tensor([1.0], requires_grad=True)
    b = mnp.tensor([1.0], requires_grad=True)
    seen = []
    b.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    (a * 2.0).sum().backward()
    assert seen == [] and b.grad is None
    key = id(b)
    del b
    gc.collect()
    assert key not in engine._post_hooks


def test_errors_name_the_problem():
    w = mnp.tensor([1.0], requires_grad=True)
    with pytest.raises(AutogradError, match="leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(AutogradError, match="does not require grad"):
        mnp.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
