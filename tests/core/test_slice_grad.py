"""Gradients of the pieces of a tensor (indexing, split, unbind) are written into one
buffer of that tensor's gradient, and sums made by the engine are added to in place: the
result must equal a dense scatter-add in every order of dense and piece contributions,
with retained gradients, ``mnp.grad``, hooks and anomaly detection."""
from __future__ import annotations

import mnp.core as mnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mnp.core.testing import assert_close

KEYS = [(0,), (slice(1, 3),), (slice(None, None, -2), 1), (Ellipsis, 2), (-1, slice(None), None),
        (slice(0, 0),), (1, 2, 3)]


def _w(seed, i, shape):
    return np.random.default_rng(seed * 31 + i).standard_normal(shape)


def _program(draw_ops, x, seed):
    """Sum over ops of <w, piece>: ``("key", k)`` a basic index of y, ``("dense",)`` y itself,
    ``("twice",)`` y + y (one array reaches y twice), ``("split", i)``, ``("unbind", i)``."""
    y = x * 1.0
    total = 0
    for i, op in enumerate(draw_ops):
        if op[0] == "key":
            piece = y[KEYS[op[1]]]
        elif op[0] == "dense":
            piece = y
        elif op[0] == "twice":
            piece = y + y
        elif op[0] == "split":
            piece = y.split(2, 1)[op[1]]
        else:
            piece = y.unbind(2)[op[1]]
        total = total + (piece * mnp.tensor(_w(seed, i, piece.shape), dtype=mnp.float64)).sum()
    return total


def _expected(draw_ops, shape, seed):
    grad = np.zeros(shape)
    for i, op in enumerate(draw_ops):
        probe = np.zeros(shape)
        if op[0] == "key":
            key = KEYS[op[1]]
            view = probe[key if Ellipsis in key else key + (Ellipsis,)]
        elif op[0] in ("dense", "twice"):
            view = probe
        elif op[0] == "split":
            view = np.split(probe, [2], axis=1)[op[1]]
        else:
            view = probe[:, :, op[1]]
        view[...] = _w(seed, i, view.shape) * (2 if op[0] == "twice" else 1)
        grad += probe
    return grad


OPS = st.one_of(st.tuples(st.just("key"), st.integers(0, len(KEYS) - 1)), st.tuples(st.just("dense")),
                st.tuples(st.just("twice")), st.tuples(st.just("split"), st.integers(0, 1)),
                st.tuples(st.just("unbind"), st.integers(0, 4)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_any_mix_of_pieces_and_dense_gradients_equals_the_scatter_add(ops, seed):
    shape = (3, 4, 5)
    x = mnp.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=mnp.float64,
                   requires_grad=True)
    _program(ops, x, seed).backward()
    assert_close(x.grad, _expected(ops, shape, seed), rtol=1e-12, atol=1e-12)
    (g,) = mnp.grad(_program(ops, x, seed), [x])      # the captured path, .grad untouched
    assert_close(g, _expected(ops, shape, seed), rtol=1e-12, atol=1e-12)
    x.grad = None
    x2 = x.detach().requires_grad_()
    with mnp.detect_anomaly():
        _program(ops, x2, seed).backward()
    assert_close(x2.grad, _expected(ops, shape, seed), rtol=1e-12, atol=1e-12)


def test_pieces_match_torch_with_a_retained_intermediate(torch, rng):
    a = rng.standard_normal((3, 4))
    x = mnp.tensor(a, requires_grad=True)
    t = torch.tensor(a.astype(np.float32), requires_grad=True)
    outs = []
    for lib, v in ((mnp, x), (torch, t)):
        y = v * 2
        y.retain_grad()
        p, q, r = y
        ((p * q).sum() + (y * y).sum() + y[1:, 2].sum() + r.exp().sum()).backward()
        outs.append((v.grad, y.grad))
    assert_close(outs[0][0], outs[1][0].numpy())
    assert_close(outs[0][1], outs[1][1].numpy())


def test_pieces_accumulate_into_an_existing_leaf_grad_and_hooks_see_the_whole():
    x = mnp.arange(6.0).reshape(2, 3).requires_grad_()
    seen = []
    x.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.tolist()))
    for _ in range(2):
        a, b = x
        (a * 2 + b * 3).sum().backward()
    assert x.grad.tolist() == [[4.0] * 3, [6.0] * 3]
    assert seen == [[[2.0] * 3, [3.0] * 3], [[4.0] * 3, [6.0] * 3]]


def test_a_gradient_array_given_to_two_tensors_is_never_written_through():
    """Add's backward hands one array to both inputs; later pieces must not write into it."""
    x = mnp.ones(2, 3, requires_grad=True)
    z = mnp.ones(2, 3, requires_grad=True)
    y = x * 1.0
    t = y[0].sum() * 5                 # made first, so its gradient reaches y last
    s = y + z                          # y and z get the same gradient array
    (s.sum() + t).backward()
    assert z.grad.tolist() == [[1.0] * 3] * 2
    assert x.grad.tolist() == [[6.0] * 3, [1.0] * 3]
    w = mnp.ones(2, 3, requires_grad=True)
    y = w * 1.0
    y.retain_grad()
    u = y * 1.0                        # u's gradient array is also y's
    (u.sum() + y[1].sum() * 2).backward()
    assert y.grad.tolist() == [[1.0] * 3, [3.0] * 3]


@pytest.mark.parametrize("dtype", [mnp.float16, mnp.float32])
def test_piece_gradients_keep_the_tensor_dtype(dtype):
    x = mnp.ones(3, 2, dtype=dtype, requires_grad=True)
    p, q, _r = x * 1
    ((p * 2).sum() + q.sum() + (x * x).sum()).backward()
    assert x.grad.dtype == dtype
    assert x.grad.tolist() == [[4.0, 4.0], [3.0, 3.0], [2.0, 2.0]]
