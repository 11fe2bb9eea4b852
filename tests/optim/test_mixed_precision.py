"""Float16 training: float32 master weights in the optimizers and dynamic loss scaling."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim
from mnp.core.testing import F32, assert_close
from mnp.optim import GradScaler

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float16 overflow is the point


# -- GradScaler against torch.amp.GradScaler -------------------------------------------------
def test_scale_sequence_and_skipped_steps_match_torch(torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(5).astype(np.float32)
    p = mnp.tensor(a.copy(), requires_grad=True)
    q = torch.tensor(a.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    ref = torch.optim.SGD([q], lr=0.1, momentum=0.9)
    kw = dict(init_scale=2.0 ** 10, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    scaler, ref_scaler = GradScaler(**kw), torch.amp.GradScaler("cpu", **kw)
    bad_steps = {5, 6, 14, 19}
    scales = []
    for step in range(20):
        ref_scaler.scale(torch.tensor(1.0))  # torch sets its scale up lazily
        assert scaler.get_scale() == ref_scaler.get_scale()
        g = rng.standard_normal(5).astype(np.float32) * np.float32(scaler.get_scale())
        if step in bad_steps:
            g[step % 5] = np.inf if step % 2 else np.nan
        p.grad, q.grad = mnp.tensor(g.copy()), torch.tensor(g.copy())
        scaler.step(opt)
        ref_scaler.step(ref)
        scaler.update()
        ref_scaler.update()
        assert_close(p.data, q, **F32, what=f"step {step}")
        assert np.isfinite(p.data).all()
        scales.append(scaler.get_scale())
    assert scaler.state_dict() == {k: (v.item() if hasattr(v, "item") else v)
                                   for k, v in ref_scaler.state_dict().items()}
    assert max(scales) > 2.0 ** 10 and min(scales) < 2.0 ** 10  # grew and backed off


def test_skipped_step_leaves_parameters_and_state_alone():
    p = mnp.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    scaler = GradScaler(init_scale=4.0)
    p.grad = mnp.tensor([np.inf, 1.0])
    assert scaler.step(opt) is None
    scaler.update()
    assert p.tolist() == [1.0, 2.0] and not opt.state[p]
    assert scaler.get_scale() == 2.0


def test_unscale_makes_float32_grads_for_float16_params():
    p = mnp.tensor(np.ones(3, np.float16), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scaler = GradScaler(init_scale=2.0 ** 15)
    tiny = 2e-8  # below float16's smallest subnormal once unscaled
    p.grad = mnp.tensor(np.full(3, tiny * 2 ** 15, np.float16))
    scaler.unscale_(opt)
    assert p.grad.dtype == np.float32
    assert_close(p.grad.data, np.full(3, tiny), rtol=1e-3, atol=0)
    assert np.float16(tiny) == 0  # float16 itself would have lost it


def test_unscale_then_clip_then_step():
    p = mnp.tensor([0.0, 0.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scaler = GradScaler(init_scale=8.0)
    p.grad = mnp.tensor([3.0 * 8, 4.0 * 8])
    scaler.unscale_(opt)
    norm = optim.clip_grad_norm_([p], max_norm=1.0)
    assert_close(norm.data, 5.0)
    scaler.step(opt)  # does not unscale again
    scaler.update()
    assert_close(p.data, [-0.6, -0.8], rtol=1e-5)


def test_call_order_errors():
    p = mnp.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    scaler = GradScaler()
    with pytest.raises(optim.GradScalerError, match="no Inf/NaN checks"):
        scaler.update()
    p.grad = mnp.tensor([1.0])
    scaler.unscale_(opt)
    with pytest.raises(optim.GradScalerError, match="already called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(optim.GradScalerError, match="already called since the last update"):
        scaler.step(opt)
    with pytest.raises(optim.GradScalerError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(optim.GradScalerError, match="closures"):
        scaler.step(opt, closure=lambda: 0.0)
    with pytest.raises(optim.OptimizerError, match="growth_factor"):
        GradScaler(growth_factor=1.0)
    with pytest.raises(optim.OptimizerError, match="backoff_factor"):
        GradScaler(backoff_factor=1.5)
    with pytest.raises(optim.OptimizerError, match="Tensor"):
        scaler.scale("loss")


def test_disabled_scaler_passes_through():
    p = mnp.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    scaler = GradScaler(enabled=False)
    loss = (p * p).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert p.tolist() == [0.0] and scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_scale_handles_sequences_and_state_round_trip():
    scaler = GradScaler(init_scale=4.0, growth_interval=2)
    a, b = mnp.tensor([1.0]), mnp.tensor([2.0])
    out = scaler.scale([a, (b,)])
    assert out[0].tolist() == [4.0] and out[1][0].tolist() == [8.0]
    p = mnp.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = mnp.tensor([1.0])
    scaler.step(opt)
    scaler.update()
    other = GradScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict() == {
        "scale": 4.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2,
        "_growth_tracker": 1}


# -- training a float16 regression model ------------------------------------------------------
def _regression(n, d, w_true, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ w_true


def _loss64(X, y, w):
    return float(np.mean((X @ np.asarray(w, np.float64) - y) ** 2))


def _train(X, y, w0, dtype, steps, lr, momentum, mode):
    """mode: "master" (the optimizer, float32 master copies), "scaled" (plus GradScaler),
    or "plain" (the same SGD written directly on float16 arrays)."""
    n = X.shape[0]
    Xt, yt = mnp.tensor(X, dtype=dtype), mnp.tensor(y, dtype=dtype)
    w = mnp.tensor(np.asarray(w0, dtype), requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=momentum)
    scaler = GradScaler(growth_interval=10) if mode == "scaled" else None
    buf = np.zeros_like(w.data)
    skipped = 0
    for _ in range(steps):
        opt.zero_grad()
        r = Xt @ w - yt
        loss = (r * r).sum() * (1.0 / n)
        if scaler is not None:
            scaler.scale(loss).backward()
            before = scaler.get_scale()
            scaler.step(opt)
            scaler.update()
            skipped += scaler.get_scale() < before
        elif mode == "plain":
            loss.backward()
            g = w.grad.data
            buf[...] = buf * dtype.type(momentum) + g
            w.data[...] = w.data - dtype.type(lr) * buf
        else:
            loss.backward()
            opt.step()
    assert w.dtype == dtype
    return _loss64(X, y, w.data), skipped


def test_float16_with_master_weights_matches_float32_where_plain_float16_stalls():
    """Weights near 1 and small updates: each float16 update is below half a float16 ulp
    (2**-11), so plain float16 SGD never moves; the float32 master copy accumulates them."""
    d = 16
    w_true = 1.0 + 0.02 * np.random.default_rng(1).uniform(-1, 1, d)
    X, y = _regression(512, d, w_true)
    w0 = np.ones(d)
    start = _loss64(X, y, w0)
    args = dict(steps=150, lr=0.002, momentum=0.9)
    f32, _ = _train(X, y, w0, mnp.float32, mode="master", **args)
    amp, _ = _train(X, y, w0, mnp.float16, mode="scaled", **args)
    plain, _ = _train(X, y, w0, mnp.float16, mode="plain", **args)
    assert f32 < 1e-6 * start
    # float16 weights near 1 are only good to ~2**-11, which floors the loss near 1e-3 * start
    assert abs(amp - f32) < 5e-3 * start
    assert plain > 0.1 * start                    # stalled
    assert plain > 100 * amp


def test_loss_scaling_rescues_gradients_that_underflow_in_float16():
    """Small targets: per-sample gradients 2 * residual / n fall below float16's smallest
    subnormal (6e-8) as the fit improves, so without scaling they flush to zero."""
    d = 16
    w_true = 1e-3 * (1.0 + np.random.default_rng(2).uniform(-0.5, 0.5, d))
    X, y = _regression(512, d, w_true)
    w0 = np.zeros(d)
    start = _loss64(X, y, w0)
    args = dict(steps=150, lr=0.2, momentum=0.0)
    f32, _ = _train(X, y, w0, mnp.float32, mode="master", **args)
    amp, skipped = _train(X, y, w0, mnp.float16, mode="scaled", **args)
    unscaled, _ = _train(X, y, w0, mnp.float16, mode="master", **args)
    plain, _ = _train(X, y, w0, mnp.float16, mode="plain", **args)
    assert abs(amp - f32) < 1e-6 * start
    assert unscaled > 10 * amp
    assert plain > 10 * amp
    assert skipped > 0  # the scale grew until float16 overflowed, and backed off
