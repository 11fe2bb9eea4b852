"""Cross-entropy, batch norm and optimizer steps against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")


def _tol(dt):
    return {"rtol": 2e-5, "atol": 2e-6} if dt == "float32" else {"rtol": 1e-11, "atol": 1e-12}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("n,c", [(1, 1), (7, 3), (64, 10), (300, 257)])
@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy(kc, ref, rng, strided, dt, n, c, ls):
    logits = (rng.standard_normal((n, c)) * 5).astype(dt)
    logits[0, 0] = 80.0                                     # exp would overflow unshifted
    targets = rng.integers(0, c, n)
    loss, probs = kc.cross_entropy_forward(strided(logits), targets, ls)
    rloss, rprobs = ref("cross_entropy_forward", dt)(logits, targets, ls)
    assert loss.dtype == np.dtype(dt) and probs.dtype == np.dtype(dt)
    assert_close(loss, rloss, **_tol(dt))
    assert_close(probs, rprobs, **_tol(dt))
    g = rng.standard_normal(n).astype(dt)
    assert_close(kc.cross_entropy_backward(g, probs, targets.astype(np.int32), ls),
                 ref("cross_entropy_backward", dt)(g, rprobs, targets, ls), **_tol(dt))


def test_cross_entropy_against_torch(kc, torch, rng):
    logits, targets = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    tl = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tl, torch.tensor(targets), reduction="none",
                                              label_smoothing=0.2)
    loss, probs = kc.cross_entropy_forward(logits, targets, 0.2)
    assert_close(loss, tloss)
    g = rng.standard_normal(6)
    tloss.backward(torch.tensor(g))
    assert_close(kc.cross_entropy_backward(g, probs, targets, 0.2), tl.grad)


def test_cross_entropy_float32_over_many_classes_accumulates_exactly(kc, rng):
    # float32 sums over >= 131,072 classes drifted by ~3e-4 relative; torch stays near 1e-5
    logits = (rng.standard_normal((2, 140_001)) * 3).astype(np.float32)
    targets = np.array([5, 140_000])
    loss, probs = kc.cross_entropy_forward(logits, targets, 0.1)
    x = logits.astype(np.float64)
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    nll = lse - x[np.arange(2), targets]
    np.testing.assert_allclose(loss, 0.9 * nll + 0.1 * (lse - x.mean(1)), rtol=2e-6)
    np.testing.assert_allclose(probs, np.exp(x - lse[:, None]), rtol=2e-5, atol=0)


def test_cross_entropy_errors(kc):
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ShapeError, match="target 3 at sample 1 is out of range for 3 classes"):
        kc.cross_entropy_forward(x, np.array([0, 3]), 0.0)
    with pytest.raises(ShapeError, match="targets of shape"):
        kc.cross_entropy_forward(x, np.array([0, 1, 2]), 0.0)
    with pytest.raises(ShapeError, match=r"expected logits of shape \(N, C\)"):
        kc.cross_entropy_forward(np.zeros(3, np.float32), np.array([0]), 0.0)
    with pytest.raises(ShapeError, match="cross_entropy_backward"):
        kc.cross_entropy_backward(np.ones(3, np.float32), x, np.array([0, 1]), 0.0)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3, 5), (2, 4, 1), (32, 16, 49)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(kc, ref, rng, strided, dt, shape, affine):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dt)
    c = shape[1]
    gamma = rng.standard_normal(c).astype(dt) if affine else None
    beta = rng.standard_normal(c).astype(dt) if affine else None
    got = kc.batch_norm_forward(strided(x), gamma, beta, 1e-5)
    expected = ref("batch_norm_forward", dt)(x, gamma, beta, 1e-5)
    for what, a, e in zip(("y", "mean", "invstd"), got, expected):
        assert_close(a, e, **_tol(dt), what=what)
    g = rng.standard_normal(shape).astype(dt)
    _, mean, invstd = expected
    got = kc.batch_norm_backward(strided(g), x, gamma, mean, invstd)
    expected = ref("batch_norm_backward", dt)(g, x, gamma, mean, invstd)
    for what, a, e in zip(("dx", "dgamma", "dbeta"), got, expected):
        if e is None:
            assert a is None, what
        else:
            assert_close(a, e, rtol=1e-4 if dt == "float32" else 1e-9,
                         atol=1e-4 if dt == "float32" else 1e-10, what=what)


def test_batch_norm_without_channels(kc, ref):
    x = np.ones((4, 0, 3), np.float32)
    y, mean, invstd = kc.batch_norm_forward(x, None, None, 1e-5)
    assert y.shape == (4, 0, 3) and mean.shape == (0,) and invstd.shape == (0,)


def test_batch_norm_errors(kc):
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(ShapeError, match="gamma of shape"):
        kc.batch_norm_forward(x, np.ones(2, np.float32), None, 1e-5)
    with pytest.raises(ShapeError, match="gradient of shape"):
        kc.batch_norm_backward(np.ones((2, 3, 5), np.float32), x, None, np.ones(3, np.float32),
                               np.ones(3, np.float32))


def _twins(rng, dt, shape, n):
    arrays = [rng.standard_normal(shape).astype(dt) for _ in range(n)]
    return arrays, [a.copy() for a in arrays]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("momentum,dampening,nesterov,wd",
                         [(0.0, 0.0, False, 0.0), (0.9, 0.0, False, 1e-2), (0.9, 0.1, False, 0.0),
                          (0.8, 0.0, True, 1e-3)])
def test_sgd_step(kc, ref, rng, dt, momentum, dampening, nesterov, wd):
    shape = (37, 300)
    (p, buf), (rp, rbuf) = _twins(rng, dt, shape, 2)
    for step in range(3):
        g = rng.standard_normal(shape).astype(dt)
        b, rb = (buf, rbuf) if momentum else (None, None)
        assert kc.sgd_step(p, g, b, 0.1, momentum, dampening, nesterov, wd, step == 0) is None
        ref("sgd_step", dt)(rp, g, rb, 0.1, momentum, dampening, nesterov, wd, step == 0)
        assert_close(p, rp, **_tol(dt), what=f"step {step}")
        if momentum:
            assert_close(buf, rbuf, **_tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("wd,decoupled,amsgrad", [(0.0, False, False), (1e-2, False, True),
                                                   (1e-2, True, False), (0.1, True, True)])
def test_adam_step(kc, ref, rng, dt, wd, decoupled, amsgrad):
    shape = (1000, 70)
    (p,), (rp,) = _twins(rng, dt, shape, 1)
    m, v, vmax = (np.zeros(shape, dt) for _ in range(3))
    rm, rv, rvmax = (np.zeros(shape, dt) for _ in range(3))
    for step in range(1, 4):
        g = rng.standard_normal(shape).astype(dt)
        kc.adam_step(p, g, m, v, vmax if amsgrad else None, step, 1e-2, 0.9, 0.999, 1e-8, wd,
                     decoupled, amsgrad)
        ref("adam_step", dt)(rp, g, rm, rv, rvmax if amsgrad else None, step, 1e-2, 0.9, 0.999,
                             1e-8, wd, decoupled, amsgrad)
        for what, a, e in (("param", p, rp), ("exp_avg", m, rm), ("exp_avg_sq", v, rv)):
            assert_close(a, e, rtol=1e-5 if dt == "float32" else 1e-11,
                         atol=1e-6 if dt == "float32" else 1e-12, what=f"{what} step {step}")


def test_optimizer_steps_fall_back_for_odd_buffers(kc, ref, rng):
    p = rng.standard_normal((4, 6)).astype(np.float32)
    view, twin = p[:, ::2], p[:, ::2].copy()                  # not contiguous: the reference runs
    g = np.ones((4, 3), np.float32)
    kc.sgd_step(view, g, None, 0.5, 0.0, 0.0, False, 0.0, False)
    ref("sgd_step")(twin, g, None, 0.5, 0.0, 0.0, False, 0.0, False)
    np.testing.assert_array_equal(p[:, ::2], twin)
    with pytest.raises(ShapeError, match="sgd_step: param of shape"):
        kc.sgd_step(np.ones(3, np.float32), np.ones(4, np.float32), None, 0.1, 0.0, 0.0, False, 0.0,
                    False)
