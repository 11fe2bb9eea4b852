"""Autograd semantics, with PyTorch as the oracle where it is installed."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.errors import AutogradError, DTypeError, ShapeError
from mnp.core.testing import F32, assert_close


def pair(torch, rng, shape=(3, 4)):
    a = rng.standard_normal(shape).astype(np.float32)
    return (mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


# -- accumulation and zeroing ---------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls(torch, rng):
    x, tx = pair(torch, rng)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    (tx * tx).sum().backward()
    (3 * tx).sum().backward()
    assert_close(x.grad, tx.grad, **F32)
    assert_close(x.grad, 2 * x.data + 3, **F32)


def test_zero_grad_then_fresh_gradient(rng):
    x = mnp.tensor(rng.standard_normal(5), requires_grad=True)
    (x * 2).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0] * 5


def test_grad_is_owned_writable_memory_of_the_leaf_dtype(rng):
    x = mnp.tensor(rng.standard_normal((3, 4)), requires_grad=True)     # broadcasting backward
    x.sum().backward()
    assert x.grad.dtype == x.dtype and x.grad.shape == x.shape
    assert x.grad.data.flags.writeable and x.grad.data.base is None
    assert x.grad.requires_grad is False and x.grad.grad_fn is None


def test_accumulation_is_in_place_as_in_torch(torch, rng):
    x, tx = pair(torch, rng)
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    first, tfirst = x.grad, tx.grad
    (3 * x).sum().backward()
    (3 * tx).sum().backward()
    assert x.grad is first and tx.grad is tfirst      # the same tensor, updated
    assert_close(first, tfirst, **F32)


def test_leaves_reached_by_one_array_get_their_own_gradients():
    a = mnp.ones(3, requires_grad=True)
    b = mnp.ones(3, requires_grad=True)
    (a + b).sum().backward()          # add passes one gradient array to both inputs
    assert a.grad.data is not b.grad.data
    a.grad.data *= 10                 # as in-place gradient clipping does
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    (a + b).sum().backward()
    assert a.grad.tolist() == [11.0] * 3 and b.grad.tolist() == [2.0] * 3


def test_a_leaf_never_shares_its_gradient_with_a_retained_one():
    a, b = mnp.ones(3, requires_grad=True), mnp.ones(3, requires_grad=True)
    t = (a + b).retain_grad()          # add hands t's gradient array on to a and b
    (t * 2).sum().backward()
    a.grad.data *= 10                  # as in-place gradient clipping does
    assert t.grad.tolist() == [2.0] * 3 and a.grad.tolist() == [20.0] * 3


def test_an_explicit_gradient_is_never_written_to(rng):
    x = mnp.tensor(rng.standard_normal(4), requires_grad=True)
    g = np.arange(4.0)
    x.backward(g)                     # a leaf root: its gradient is the one given
    (x * 1).backward(mnp.tensor(g))
    assert g.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x.grad.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_a_read_only_stored_gradient_is_replaced_not_written():
    x = mnp.ones(3, requires_grad=True)
    stored = np.zeros(3)
    stored.flags.writeable = False
    x.grad = mnp.tensor(stored)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0] * 3 and stored.tolist() == [0.0] * 3


# -- retain_graph ---------------------------------------------------------------------------
def test_second_backward_without_retain_graph_raises():
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(AutogradError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates(torch, rng):
    x, tx = pair(torch, rng)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    y.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(x.grad, tx.grad, **F32)
    with pytest.raises(AutogradError):   # the second one freed it
        y.backward()


# -- the root gradient ----------------------------------------------------------------------
def test_backward_on_non_scalar_without_gradient_names_the_shape():
    y = mnp.ones((2, 3), requires_grad=True) * 2
    with pytest.raises(AutogradError, match=r"only for scalar outputs.*\(2, 3\)"):
        y.backward()


def test_explicit_gradient(torch, rng):
    x, tx = pair(torch, rng)
    g = rng.standard_normal((3, 4)).astype(np.float32)
    (x * x).backward(gradient=mnp.tensor(g))
    (tx * tx).backward(gradient=torch.tensor(g))
    assert_close(x.grad, tx.grad, **F32)
    x.zero_grad()
    (x * 2).backward(gradient=g.tolist())            # a list or array works too
    assert_close(x.grad, 2 * g, **F32)


def test_explicit_gradient_of_wrong_shape_is_a_shape_error():
    y = mnp.ones((2, 3), requires_grad=True) * 2
    with pytest.raises(ShapeError, match=r"backward: shapes \(2, 3\) and \(3, 2\)"):
        y.backward(gradient=np.ones((3, 2), np.float32))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(AutogradError, match="does not require grad"):
        mnp.ones(3).sum().backward()


def test_scalar_leaf_backward():
    x = mnp.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# -- grad mode ------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_as_context_managers():
    x = mnp.ones(2, requires_grad=True)
    assert mnp.is_grad_enabled()
    with mnp.no_grad():
        assert not mnp.is_grad_enabled()
        y = x * 2
        with mnp.enable_grad():
            assert mnp.is_grad_enabled()
            z = x * 2
        assert not mnp.is_grad_enabled()
    assert mnp.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(KeyError):
        with mnp.no_grad():
            raise KeyError("x")
    assert mnp.is_grad_enabled()


def test_grad_mode_belongs_to_each_thread():
    import threading
    x = mnp.ones(2, requires_grad=True)
    inside, entered, release = {}, threading.Event(), threading.Event()

    def worker():
        inside["starts_enabled"] = mnp.is_grad_enabled()
        with mnp.no_grad():
            entered.set()
            release.wait(5)
            inside["records"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(5)
    try:
        assert (x * 2).requires_grad          # the other thread's no_grad does not reach here
        with mnp.no_grad():
            assert not (x * 2).requires_grad
    finally:
        release.set()
        t.join(5)
    assert inside == {"starts_enabled": True, "records": False}


def test_no_grad_and_enable_grad_as_decorators():
    x = mnp.ones(2, requires_grad=True)

    @mnp.no_grad()
    def called(t):
        return t * 2, mnp.is_grad_enabled()

    @mnp.no_grad
    def bare(t):
        """docstring kept"""
        return t * 2

    @mnp.enable_grad()
    def enabled(t):
        return t * 2

    out, enabled_inside = called(x)
    assert not out.requires_grad and not enabled_inside
    assert not bare(x).requires_grad and bare.__doc__ == "docstring kept"
    with mnp.no_grad():
        assert enabled(x).requires_grad
    assert mnp.is_grad_enabled()
    assert called(x)[1] is False   # the decorator works on every call


# -- mnp.grad -------------------------------------------------------------------------------
def test_grad_returns_gradients_without_touching_dot_grad(torch, rng):
    x, tx = pair(torch, rng)
    w, tw = pair(torch, rng, (4, 2))
    y, ty = (x @ w).exp().sum(), (tx @ tw).exp().sum()
    gx, gw = mnp.grad(y, [x, w])
    tgx, tgw = torch.autograd.grad(ty, [tx, tw])
    assert_close(gx, tgx, **F32)
    assert_close(gw, tgw, **F32)
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs_and_non_leaf_inputs(torch, rng):
    x, tx = pair(torch, rng)
    h, th = x * 2, tx * 2
    y, ty = h.exp(), th.exp()
    g = rng.standard_normal((3, 4)).astype(np.float32)
    (gh,) = mnp.grad(y, h, grad_outputs=mnp.tensor(g))
    (tgh,) = torch.autograd.grad(ty, th, grad_outputs=torch.tensor(g))
    assert_close(gh, tgh, **F32)


def test_grad_of_several_outputs_where_one_feeds_another(torch, rng):
    x, tx = pair(torch, rng)
    h, th = x.exp(), tx.exp()
    y, ty = (h * x).sum(), (th * tx).sum()      # y is computed from h: a root inside the graph
    go = rng.standard_normal((3, 4)).astype(np.float32)
    (gx,) = mnp.grad([h, y], x, grad_outputs=[mnp.tensor(go), mnp.tensor(np.float32(2.0))])
    (tgx,) = torch.autograd.grad([th, ty], tx, grad_outputs=[torch.tensor(go), torch.tensor(2.0)])
    assert_close(gx, tgx, **F32)


def test_a_failed_second_backward_leaves_gradients_untouched():
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.sum().backward()
    z = (h * 3).sum()                 # new node on top of a freed one
    with pytest.raises(AutogradError, match="second time"):
        z.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_grad_allow_unused():
    x = mnp.ones(2, requires_grad=True)
    unused = mnp.ones(3, requires_grad=True)
    with pytest.raises(AutogradError, match=r"input 1 \(shape \(3,\)\) was not used.*allow_unused"):
        mnp.grad((x * x).sum(), [x, unused])
    gx, gu = mnp.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None


def test_grad_rejects_inputs_that_do_not_require_grad():
    x = mnp.ones(2, requires_grad=True)
    with pytest.raises(AutogradError, match="input 0 does not require grad"):
        mnp.grad((x * 2).sum(), [mnp.ones(2)])


# -- graph shapes ---------------------------------------------------------------------------
def test_twenty_thousand_op_chain_backpropagates(monkeypatch):
    monkeypatch.setattr(sys, "getrecursionlimit", sys.getrecursionlimit)  # untouched
    x = mnp.tensor([1.0], dtype=mnp.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.00001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.00001 ** 20_000, rel=1e-9)
    # dropping an unused deep graph is fine too
    z = x
    for _ in range(20_000):
        z = z + 1.0
    del z


def test_diamond_graph_accumulates(torch, rng):
    def f(lib_x):
        a = lib_x * 2
        b, c = a * 3, a.exp()
        d = b * c + a          # a reaches d by three paths
        return (d * d).sum() + (lib_x * lib_x).sum()
    x, tx = pair(torch, rng, (5,))
    f(x).backward()
    f(tx).backward()
    assert_close(x.grad, tx.grad, **F32)


def test_same_tensor_twice_in_one_op():
    x = mnp.tensor([3.0], requires_grad=True)
    (x * x).backward(gradient=[1.0])
    assert x.grad.tolist() == [6.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.data())
def test_broadcast_gradients_sum_back_to_the_input_shapes(shape, data):
    # b's shape: a suffix of a's, with some dimensions set to 1
    k = data.draw(st.integers(0, len(shape)))
    b_shape = [1 if data.draw(st.booleans()) else s for s in shape[len(shape) - k:]]
    rng = np.random.default_rng(0)
    an, bn = rng.standard_normal(shape), rng.standard_normal(b_shape)
    a = mnp.tensor(an, requires_grad=True)
    b = mnp.tensor(bn, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == tuple(shape) and b.grad.shape == tuple(b_shape)
    np.testing.assert_allclose(a.grad.data, np.broadcast_to(bn, an.shape), rtol=1e-12)
    lead = tuple(range(len(shape) - len(b_shape)))
    expected_b = an.sum(axis=lead) if lead else an
    ones = tuple(i for i, s in enumerate(b_shape) if s == 1)
    expected_b = expected_b.sum(axis=ones, keepdims=True) if ones else expected_b
    np.testing.assert_allclose(b.grad.data, np.reshape(expected_b, b_shape), rtol=1e-12, atol=1e-12)


# -- detach, retain_grad, requires_grad -----------------------------------------------------
def test_detach_shares_data_and_cuts_the_graph():
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    d.data[0] = 10.0
    assert y.tolist() == [10.0, 4.0]
    (d * x).sum().backward()
    assert x.grad.tolist() == [10.0, 4.0]       # no gradient through d


def test_retain_grad_on_non_leaves(torch, rng):
    x, tx = pair(torch, rng, (4,))
    h, th = x * 2, tx * 2
    k, tk = h.exp(), th.exp()
    h.retain_grad()
    th.retain_grad()
    z, tz = (k * h).sum(), (tk * th).sum()
    z.backward(retain_graph=True)
    z.backward()
    tz.backward(retain_graph=True)
    tz.backward()
    assert_close(h.grad, th.grad, **F32)   # accumulated twice, as PyTorch does
    assert k.grad is None                   # not retained
    assert_close(x.grad, tx.grad, **F32)


def test_retain_grad_needs_requires_grad():
    with pytest.raises(AutogradError, match="does not require grad"):
        mnp.ones(2).retain_grad()


def test_requires_grad_rules():
    x = mnp.ones(2, requires_grad=True)
    c = mnp.ones(2)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert not c.requires_grad and c.is_leaf
    y = x * c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = c * 3
    assert not z.requires_grad and z.is_leaf
    with pytest.raises(DTypeError, match="only floating point tensors can require gradients.*int64"):
        mnp.tensor([1, 2], requires_grad=True)
    with pytest.raises(AutogradError, match="non-leaf"):
        y.requires_grad_(False)
    assert c.requires_grad_() is c and c.requires_grad
    c.requires_grad_(False)
    assert not c.requires_grad


def test_in_place_change_of_a_tensor_requiring_grad_is_refused():
    x = mnp.ones(2, requires_grad=True)
    with pytest.raises(AutogradError, match=r"__iadd__: in-place change.*no_grad"):
        x += 1
    with mnp.no_grad():
        x += 1
    assert x.tolist() == [2.0, 2.0] and x.requires_grad


def test_gradient_flows_through_float_casts(torch, rng):
    x, tx = pair(torch, rng, (3,))
    y = x.astype(mnp.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    (tx.double() * tx.double()).sum().backward()
    assert x.grad.dtype == np.float32
    assert_close(x.grad, tx.grad, **F32)
    n = x.astype(mnp.int64)
    assert n.dtype == np.int64 and not n.requires_grad


def test_grad_check_on_a_composite_function(rng):
    a = mnp.tensor(rng.standard_normal((3, 4)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal((4,)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a, b: ((a * b).exp() / (1 + a * a) - b).sum(axis=0), [a, b])
