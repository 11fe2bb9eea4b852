"""The optimizer kernels: registered for the numpy backend, in place, and equal to the
update formulas (written out independently here in float64) on any shape and layout."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnp.core.dispatch import kernel, resolve
from mnp.optim import kernels as ref

NAMES = ["sgd_step", "adam_step", "rmsprop_step", "rmsprop_centered_step", "adagrad_step"]


@pytest.mark.parametrize("name", NAMES)
def test_reference_kernels_are_registered_for_numpy(name):
    fn, backend = resolve(name, np.dtype("float32"), backend="numpy")
    assert backend == "numpy" and fn is ref.KERNELS[name]
    assert resolve(name, np.dtype("float64"), backend="numpy")[0] is fn


# -- expected values, written the textbook way in float64 ------------------------------------
def sgd(p, g, buf, lr, momentum, dampening, nesterov, wd, first):
    g = g + wd * p
    if momentum:
        buf = g.copy() if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def adam(p, g, m, v, vmax, t, lr, b1, b2, eps, wd, decoupled, amsgrad):
    if decoupled:
        p = p * (1 - lr * wd)
    else:
        g = g + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    vmax = np.maximum(vmax, v) if amsgrad else vmax
    vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
    return p - lr * (m / (1 - b1 ** t)) / (np.sqrt(vhat) + eps), m, v, vmax


def rmsprop(p, g, v, a, buf, lr, alpha, eps, momentum, wd):
    g = g + wd * p
    v = alpha * v + (1 - alpha) * g * g
    if a is not None:
        a = alpha * a + (1 - alpha) * g
        d = np.sqrt(v - a * a) + eps
    else:
        d = np.sqrt(v) + eps
    if momentum > 0:
        buf = momentum * buf + g / d
        return p - lr * buf, v, a, buf
    return p - lr * g / d, v, a, buf


def adagrad(p, g, s, t, lr, lr_decay, eps, wd):
    g = g + wd * p
    s = s + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps), s


def _arrays(rng, shape, n, positive=()):
    out = []
    for i in range(n):
        a = np.asarray(rng.standard_normal(shape))
        out.append(np.asarray(np.abs(a) + 0.1) if i in positive else a)
    return out


def _strided(a, dtype):
    """A non-contiguous float array holding ``a``'s values."""
    big = np.zeros(a.shape + (2,), dtype)
    view = big[..., 0]
    view[...] = a
    return view


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
F32 = dict(rtol=2e-5, atol=2e-6)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2 ** 16), momentum=st.sampled_from([0.0, 0.9]),
       nesterov=st.booleans(), first=st.booleans(), wd=st.sampled_from([0.0, 0.01]),
       strided=st.booleans())
def test_sgd_step(shape, seed, momentum, nesterov, first, wd, strided):
    rng = np.random.default_rng(seed)
    p, g, buf = _arrays(rng, shape, 3)
    nesterov = nesterov and momentum > 0
    dampening = 0.0 if nesterov else 0.1
    want_p, want_buf = sgd(p, g, buf, 0.1, momentum, dampening, nesterov, wd, first)
    make = (lambda a: _strided(a, np.float32)) if strided else (lambda a: a.astype(np.float32))
    P, G, B = make(p), make(g), make(buf) if momentum else None
    G0 = G.copy()
    out = kernel("sgd_step", P.dtype)(P, G, B, 0.1, momentum, dampening, nesterov, wd, first)
    assert out is None
    np.testing.assert_allclose(P, want_p, **F32)
    np.testing.assert_array_equal(G, G0)
    if momentum:
        np.testing.assert_allclose(B, want_buf, **F32)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2 ** 16), step=st.integers(1, 20),
       amsgrad=st.booleans(), decoupled=st.booleans(), wd=st.sampled_from([0.0, 0.1]),
       strided=st.booleans())
def test_adam_step(shape, seed, step, amsgrad, decoupled, wd, strided):
    rng = np.random.default_rng(seed)
    p, g, m, v, vmax = _arrays(rng, shape, 5, positive=(3, 4))
    args = (step, 0.01, 0.9, 0.999, 1e-8, wd, decoupled, amsgrad)
    want = adam(p, g, m, v, vmax, *args)
    make = (lambda a: _strided(a, np.float32)) if strided else (lambda a: a.astype(np.float32))
    P, G, M, V, VM = map(make, (p, g, m, v, vmax))
    assert kernel("adam_step", P.dtype)(P, G, M, V, VM if amsgrad else None, *args) is None
    for got, exp in zip((P, M, V), want[:3]):
        np.testing.assert_allclose(got, exp, **F32)
    if amsgrad:
        np.testing.assert_allclose(VM, want[3], **F32)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2 ** 16), centered=st.booleans(),
       momentum=st.sampled_from([0.0, 0.5]), wd=st.sampled_from([0.0, 0.1]))
def test_rmsprop_steps(shape, seed, centered, momentum, wd):
    rng = np.random.default_rng(seed)
    p, g, v, a, buf = _arrays(rng, shape, 5, positive=(2,))
    a = np.asarray(a * 0.1)  # keep v - a*a positive
    want = rmsprop(p, g, v, a if centered else None, buf, 0.01, 0.9, 1e-8, momentum, wd)
    P, G, V, A, B = (x.astype(np.float64) for x in (p, g, v, a, buf))
    buf_arg = B if momentum > 0 else None
    if centered:
        kernel("rmsprop_centered_step", P.dtype)(P, G, V, A, buf_arg, 0.01, 0.9, 1e-8,
                                                 momentum, wd)
        np.testing.assert_allclose(A, want[2], rtol=1e-12)
    else:
        kernel("rmsprop_step", P.dtype)(P, G, V, buf_arg, 0.01, 0.9, 1e-8, momentum, wd)
    np.testing.assert_allclose(P, want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(V, want[1], rtol=1e-12)
    if momentum > 0:
        np.testing.assert_allclose(B, want[3], rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2 ** 16), step=st.integers(1, 50),
       lr_decay=st.sampled_from([0.0, 0.05]), wd=st.sampled_from([0.0, 0.1]))
def test_adagrad_step(shape, seed, step, lr_decay, wd):
    rng = np.random.default_rng(seed)
    p, g, s = _arrays(rng, shape, 3, positive=(2,))
    want_p, want_s = adagrad(p, g, s, step, 0.1, lr_decay, 1e-10, wd)
    P, G, S = (x.astype(np.float32) for x in (p, g, s))
    assert kernel("adagrad_step", P.dtype)(P, G, S, step, 0.1, lr_decay, 1e-10, wd) is None
    np.testing.assert_allclose(P, want_p, **F32)
    np.testing.assert_allclose(S, want_s, **F32)
