"""The nn reference kernels on their own (against direct loops and PyTorch), their
registration for backend "numpy", and that ops find them by name at call time (so another
backend can replace any of them)."""
from __future__ import annotations

import importlib.metadata as md
import sys
import types

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.dispatch import kernel
from mnp.nn import functional as F
from mnp.nn.kernels import KERNELS, conv, loss, norm, pool
from mnp.core.testing import F32, assert_close

F4 = np.dtype("float32")
DOCUMENTED = ["conv2d_forward", "conv2d_backward", "im2col", "col2im", "max_pool2d_forward",
              "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
              "cross_entropy_forward", "cross_entropy_backward", "batch_norm_forward",
              "batch_norm_backward"]


def test_kernels_registered_for_numpy_backend():
    numpy_backend = next(b for b in mnp.backends() if b["name"] == "numpy")
    for name in DOCUMENTED + ["layer_norm_forward", "layer_norm_backward"]:
        assert name in numpy_backend["kernels"], name
        assert name in KERNELS
    with mnp.use_backend("numpy"):
        assert kernel("conv2d_forward", F4) is conv.conv2d_forward


def _im2col_loops(x, k, s, p, d):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = np.zeros((n, c, k[0], k[1], oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    cols[:, :, a, b, i, j] = xp[:, :, i * s[0] + a * d[0], j * s[1] + b * d[1]]
    return cols.reshape(n, c * k[0] * k[1], oh * ow)


GEOMETRIES = [((3, 3), (1, 1), (1, 1), (1, 1)), ((2, 3), (2, 1), (0, 2), (1, 2)),
              ((1, 1), (1, 1), (0, 0), (1, 1)), ((1, 1), (2, 2), (1, 0), (1, 1))]


@pytest.mark.parametrize("k,s,p,d", GEOMETRIES)
def test_im2col_matches_loops_and_col2im_is_its_adjoint(rng, k, s, p, d):
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    cols = conv.im2col(x, k, s, p, d)
    assert_close(cols, _im2col_loops(x, k, s, p, d))
    c = rng.standard_normal(cols.shape)
    back = conv.col2im(c, x.shape, k, s, p, d)
    assert back.shape == x.shape
    assert np.isclose((cols * c).sum(), (x * back).sum(), rtol=1e-5)   # <Ax, c> == <x, A^T c>


def test_conv_kernels_against_torch(torch, rng):
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    args = ((2, 1), (1, 1), (1, 2))
    y = conv.conv2d_forward(x, w, b, *args)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=(2, 1), padding=(1, 1),
                                    dilation=(1, 2))
    assert_close(y, yt, **F32)
    g = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(g))
    dx, dw, db = conv.conv2d_backward(g, x, w, *args, True, True, True)
    for ours, theirs in ((dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert_close(ours, theirs, **F32)
    assert conv.conv2d_backward(g, x, w, *args, False, True, False)[::2] == (None, None)


def test_max_pool_indices_like_torch(torch, rng):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    y, idx = pool.max_pool2d_forward(x, (3, 2), (2, 2), (1, 1))
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, (3, 2), (2, 2), (1, 1), return_indices=True)
    assert_close(y, yt)
    assert idx.dtype == np.int64 and np.array_equal(idx, it.numpy())
    g = rng.standard_normal(y.shape).astype(np.float32)
    dx = pool.max_pool2d_backward(g, idx, x.shape)       # overlapping windows accumulate
    yt.backward(torch.from_numpy(g))
    assert_close(dx, xt.grad, **F32)


def test_avg_pool_kernels_adjoint(rng):
    x = rng.standard_normal((2, 2, 7, 5))
    y = pool.avg_pool2d_forward(x, (3, 3), (2, 1), (1, 1))
    g = rng.standard_normal(y.shape)
    dx = pool.avg_pool2d_backward(g, x.shape, (3, 3), (2, 1), (1, 1))
    assert np.isclose((y * g).sum(), (x * dx).sum())


@pytest.mark.parametrize("ls", [0.0, 0.25])
def test_cross_entropy_kernels(rng, ls):
    z = (rng.standard_normal((5, 4)) * 10).astype(np.float32)
    t = rng.integers(0, 4, 5)
    losses, probs = loss.cross_entropy_forward(z, t, ls)
    z64 = z.astype(np.float64)
    logp = z64 - z64.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    expected = -(1 - ls) * logp[np.arange(5), t] - ls * logp.mean(1)
    assert losses.dtype == np.float32 and probs.dtype == np.float32
    assert_close(losses, expected, **F32)
    assert_close(probs, np.exp(logp), **F32)
    g = rng.standard_normal(5).astype(np.float32)
    d = loss.cross_entropy_backward(g, probs, t, ls)
    onehot = np.eye(4)[t] * (1 - ls) + ls / 4
    assert_close(d, g[:, None] * (np.exp(logp) - onehot), **F32)


def test_batch_norm_kernels(rng):
    x = rng.standard_normal((4, 3, 5)) * 2 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    y, mean, invstd = norm.batch_norm_forward(x, gamma, beta, 1e-5)
    m, v = x.mean((0, 2)), x.var((0, 2))
    assert_close(mean, m)
    assert_close(invstd, 1 / np.sqrt(v + 1e-5))
    assert_close(y, (x - m[:, None]) / np.sqrt(v[:, None] + 1e-5) * gamma[:, None] + beta[:, None])
    g = rng.standard_normal(x.shape)
    dx, dgamma, dbeta = norm.batch_norm_backward(g, x, gamma, mean, invstd)
    xhat = (x - m[:, None]) * invstd[:, None]
    assert_close(dbeta, g.sum((0, 2)))
    assert_close(dgamma, (g * xhat).sum((0, 2)))
    n = 20
    expected = gamma[:, None] * invstd[:, None] / n * (
        n * g - g.sum((0, 2))[:, None] - xhat * (g * xhat).sum((0, 2))[:, None])
    assert_close(dx, expected)
    y2, _, _ = norm.batch_norm_forward(x, None, None, 1e-5)
    assert_close(y2, xhat)


def _spy_module(calls):
    mod = types.ModuleType("mnp_nn_test_spy_backend")

    def wrap(name):
        def fn(*args):
            calls.append(name)
            return KERNELS[name](*args)
        return fn

    @mnp.hookimpl
    def mnp_register_backends(register):
        register("spy", {n: wrap(n) for n in DOCUMENTED}, priority=-1)

    mod.mnp_register_backends = mnp_register_backends
    return mod


def test_ops_look_kernels_up_by_name_at_call_time(rng):
    calls: list[str] = []
    sys.modules["mnp_nn_test_spy_backend"] = _spy_module(calls)
    try:
        spy = md.EntryPoint(name="spy", value="mnp_nn_test_spy_backend", group="mnp")
        host = mnp.PluginHost(entry_points=lambda: list(md.entry_points(group="mnp")) + [spy],
                              environ={})
        with mnp.use_host(host), mnp.use_backend("spy"):
            x = mnp.tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32), requires_grad=True)
            y = F.max_pool2d(F.conv2d(x, mnp.ones((2, 1, 3, 3)), padding=1), 2)
            y = F.batch_norm(F.avg_pool2d(y, 1), None, None, training=True)
            F.cross_entropy(y.reshape(2, -1), mnp.tensor([0, 3])).backward()
    finally:
        del sys.modules["mnp_nn_test_spy_backend"]
    assert set(calls) == {"conv2d_forward", "conv2d_backward", "max_pool2d_forward",
                          "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
                          "batch_norm_forward", "batch_norm_backward", "cross_entropy_forward",
                          "cross_entropy_backward"}
