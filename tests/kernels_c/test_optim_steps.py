"""rmsprop_step, rmsprop_centered_step and adagrad_step against the numpy reference (several
steps in a row, in place) and PyTorch's optimizers."""
from __future__ import annotations

import numpy as np
import pytest

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
SHAPE = (70001,)     # large enough to be split over threads


def _tol(dt):
    return {"rtol": 1e-5, "atol": 1e-6} if dt == "float32" else {"rtol": 1e-11, "atol": 1e-12}


def _pair(rng, dt, shape, lo=None):
    a = rng.standard_normal(shape) if lo is None else rng.uniform(lo, 1.0, shape)
    a = a.astype(dt)
    return a, a.copy()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum,wd,alpha", [(0.0, 0.0, 0.99), (0.9, 0.0, 0.99), (0.0, 1e-2, 0.3),
                                               (0.5, 1e-3, 0.9)])
@pytest.mark.parametrize("shape", [(1,), (37,), SHAPE])
def test_rmsprop(kc, ref, rng, dt, centered, momentum, wd, alpha, shape):
    (p, rp), (sa, rsa), (ga, rga) = _pair(rng, dt, shape), _pair(rng, dt, shape, 0.5), _pair(rng, dt, shape)
    ga *= 0.1
    rga *= 0.1
    (buf, rbuf) = _pair(rng, dt, shape) if momentum else (None, None)
    for step in range(3):
        g = rng.standard_normal(shape).astype(dt)
        g_before = g.copy()
        if centered:
            assert kc.rmsprop_centered_step(p, g, sa, ga, buf, 1e-2, alpha, 1e-8, momentum, wd) is None
            ref("rmsprop_centered_step", dt)(rp, g, rsa, rga, rbuf, 1e-2, alpha, 1e-8, momentum, wd)
        else:
            assert kc.rmsprop_step(p, g, sa, buf, 1e-2, alpha, 1e-8, momentum, wd) is None
            ref("rmsprop_step", dt)(rp, g, rsa, rbuf, 1e-2, alpha, 1e-8, momentum, wd)
        np.testing.assert_array_equal(g, g_before)                      # grad is only read
        for what, a, e in (("param", p, rp), ("square_avg", sa, rsa), ("grad_avg", ga, rga),
                           ("buf", buf, rbuf)):
            if e is not None:
                assert_close(a, e, **_tol(dt), what=f"{what} step {step}")


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("lr_decay,wd", [(0.0, 0.0), (0.01, 0.0), (0.0, 1e-2), (0.1, 0.5)])
@pytest.mark.parametrize("shape", [(1,), (37,), SHAPE])
def test_adagrad(kc, ref, rng, dt, lr_decay, wd, shape):
    (p, rp), (s, rs) = _pair(rng, dt, shape), (np.zeros(shape, dt), np.zeros(shape, dt))
    for step in range(1, 4):
        g = rng.standard_normal(shape).astype(dt)
        assert kc.adagrad_step(p, g, s, step, 1e-2, lr_decay, 1e-10, wd) is None
        ref("adagrad_step", dt)(rp, g, rs, step, 1e-2, lr_decay, 1e-10, wd)
        assert_close(p, rp, **_tol(dt), what=f"param step {step}")
        assert_close(s, rs, **_tol(dt), what=f"sum step {step}")


def test_special_values(kc, ref):
    """NaN/inf gradients and an empty buffer give what the reference gives."""
    for name, extra in (("rmsprop_step", 1), ("rmsprop_centered_step", 2), ("adagrad_step", 1)):
        bufs = [np.array([1.0, 2.0, 3.0, 4.0], np.float32)] + [np.zeros(4, np.float32) for _ in range(extra)]
        twins = [b.copy() for b in bufs]
        g = np.array([np.nan, np.inf, -np.inf, 0.0], np.float32)
        tail = ((1, 1e-2, 0.0, 1e-10, 0.0) if name == "adagrad_step"
                else (None, 1e-2, 0.99, 1e-8, 0.0, 0.0))
        args = (bufs[0], g, *bufs[1:], *tail)
        with np.errstate(all="ignore"):
            getattr(kc, name)(*args)
            ref(name)(twins[0], g, *twins[1:], *tail)
        for a, e in zip(bufs, twins):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
            np.testing.assert_array_equal(a[~np.isnan(a)], e[~np.isnan(e)])
        empty = np.zeros(0, np.float32)
        getattr(kc, name)(empty, empty, *[empty] * extra, *tail)


def test_odd_buffers_fall_back_and_shapes_are_checked(kc, ref, rng):
    p = rng.standard_normal((4, 6)).astype(np.float32)
    view, twin = p[:, ::2], p[:, ::2].copy()                 # not contiguous: the reference runs
    sa, rsa = np.ones((4, 3), np.float32), np.ones((4, 3), np.float32)
    g = np.ones((4, 3), np.float32)
    kc.rmsprop_step(view, g, sa, None, 0.5, 0.9, 1e-8, 0.0, 0.0)
    ref("rmsprop_step")(twin, g, rsa, None, 0.5, 0.9, 1e-8, 0.0, 0.0)
    np.testing.assert_array_equal(p[:, ::2], twin)
    np.testing.assert_array_equal(sa, rsa)
    s = np.zeros(3, np.float32)
    kc.adagrad_step(np.ones(3, np.float32), g[0, ::-1], s, 1, 0.1, 0.0, 1e-10, 0.0)  # reversed grad
    assert_close(s, np.ones(3, np.float32))
    with pytest.raises(ShapeError, match="adagrad_step: param of shape"):
        kc.adagrad_step(np.ones(3, np.float32), np.ones(4, np.float32), np.zeros(3, np.float32), 1, 0.1,
                        0.0, 1e-10, 0.0)
    with pytest.raises(ShapeError, match="rmsprop_centered_step: param of shape"):
        kc.rmsprop_centered_step(np.ones(3), np.ones(2), np.ones(3), np.ones(3), None, 0.1, 0.9, 1e-8,
                                 0.0, 0.0)


def test_against_torch(kc, torch, rng):
    p0 = rng.standard_normal(50)
    grads = [rng.standard_normal(50) for _ in range(4)]
    for cls, kwargs, run in (
            (torch.optim.RMSprop, dict(lr=1e-2, alpha=0.9, eps=1e-8, momentum=0.5, weight_decay=1e-2,
                                       centered=True),
             lambda p, g, st: kc.rmsprop_centered_step(p, g, st[0], st[1], st[2], 1e-2, 0.9, 1e-8, 0.5,
                                                       1e-2)),
            (torch.optim.RMSprop, dict(lr=1e-2, alpha=0.99, eps=1e-8),
             lambda p, g, st: kc.rmsprop_step(p, g, st[0], None, 1e-2, 0.99, 1e-8, 0.0, 0.0)),
            (torch.optim.Adagrad, dict(lr=1e-1, lr_decay=0.05, weight_decay=1e-2, eps=1e-10),
             lambda p, g, st: kc.adagrad_step(p, g, st[0], st[3], 1e-1, 0.05, 1e-10, 1e-2))):
        tp = torch.tensor(p0.copy(), requires_grad=True)
        opt = cls([tp], **kwargs)
        p, state = p0.copy(), [np.zeros(50), np.zeros(50), np.zeros(50), 0]
        for g in grads:
            tp.grad = torch.tensor(g)
            opt.step()
            state[3] += 1
            run(p, g, state)
        assert_close(p, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
