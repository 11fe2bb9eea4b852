"""The nn reference kernels on their own (against direct loops and PyTorch), their
registration for backend "numpy", and that ops find them by name at call time (so another
backend can replace any of them)."""
from __future__ import annotations

import importlib.metadata as md
import sys
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.dispatch import kernel
from mnp.nn import functional as F
from mnp.nn import conv, norm, pool
from mnp.nn import losses as loss
from mnp.nn.plugin import kernels
from mnp.core.testing import F32, assert_close

KERNELS = kernels()

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


# -- the chunked, scratch-buffered fast paths -------------------------------------------------
CONV_GEOMETRIES = [  # (x shape, w shape, stride, padding, dilation)
    ((5, 3, 9, 8), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1)),      # stride 1: flat col2im
    ((5, 2, 10, 7), (3, 2, 3, 2), (1, 1), (2, 0), (2, 3)),     # stride 1, dilated, uneven pad
    ((5, 3, 9, 8), (4, 3, 3, 2), (2, 1), (1, 1), (1, 2)),      # strided: general col2im
    ((5, 3, 9, 8), (2, 3, 2, 2), (3, 3), (0, 0), (1, 1)),      # stride > kernel: gaps
    ((5, 4, 6, 5), (3, 4, 1, 1), (1, 1), (0, 0), (1, 1)),      # pointwise: no columns
    ((5, 2, 1, 12), (3, 2, 1, 3), (1, 2), (0, 1), (1, 1)),     # conv1d as H = 1
]


@pytest.fixture(params=[1 << 20, 1], ids=["one-chunk", "chunk-per-sample"])
def chunk_bytes(request, monkeypatch):
    """Run the convolution kernels with the whole batch in one chunk and one sample per chunk."""
    monkeypatch.setattr(conv, "CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("xs,ws,s,p,d", CONV_GEOMETRIES)
def test_conv_kernels_match_torch_in_every_layout(torch, rng, chunk_bytes, xs, ws, s, p, d):
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    y = conv.conv2d_forward(x, w, b, s, p, d)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
    assert y.shape == tuple(yt.shape) and y.dtype == np.float32
    assert_close(y, yt, **F32)
    g = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(g))
    dx, dw, db = conv.conv2d_backward(g, x, w, s, p, d, True, True, True)
    for ours, theirs in ((dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert ours.shape == tuple(theirs.shape)
        assert_close(ours, theirs, **F32)
    # each gradient alone, from a non-contiguous (transposed copy) upstream gradient
    gv = np.asfortranarray(g)
    only_x = conv.conv2d_backward(gv, x, w, s, p, d, True, False, False)
    only_w = conv.conv2d_backward(gv, x, w, s, p, d, False, True, False)
    assert only_x[1:] == (None, None) and only_w[0] is None and only_w[2] is None
    assert_close(only_x[0], dx, **F32)
    assert_close(only_w[1], dw, **F32)
    # the columns kernels agree with the convolution they serve
    cols = conv.im2col(x, ws[2:], s, p, d)
    assert_close(np.matmul(w.reshape(ws[0], -1), cols).reshape(y.shape) + b[:, None, None], y, **F32)
    gc = np.matmul(w.reshape(ws[0], -1).T, g.reshape(xs[0], ws[0], -1))
    assert_close(conv.col2im(gc, xs, ws[2:], s, p, d), dx, **F32)


def test_conv_kernels_float64_grad_check(rng, chunk_bytes):
    x = mnp.tensor(rng.standard_normal((3, 2, 5, 6)), requires_grad=True)
    w = mnp.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = mnp.tensor(rng.standard_normal(3), requires_grad=True)
    with mnp.use_backend("numpy"):
        assert mnp.grad_check(lambda x, w, b: F.conv2d(x, w, b, padding=1, dilation=(1, 2)),
                              [x, w, b])
        assert mnp.grad_check(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=(0, 1)),
                              [x, w, b])


def test_results_never_share_the_scratch_buffers(rng):
    """Scratch buffers are reused call after call: no result may live in them."""
    x1, x2 = (rng.standard_normal((4, 3, 8, 8)).astype(np.float32) for _ in range(2))
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    g = rng.standard_normal((4, 5, 8, 8)).astype(np.float32)
    args = ((1, 1), (1, 1), (1, 1))
    y1 = conv.conv2d_forward(x1, w, None, *args)
    grads1 = conv.conv2d_backward(g, x1, w, *args)
    p1, i1 = pool.max_pool2d_forward(x1, (2, 2), (2, 2), (0, 0))
    d1 = pool.max_pool2d_backward(p1, i1, x1.shape)
    kept = [a.copy() for a in (y1, *grads1, p1, i1, d1)]
    conv.conv2d_forward(x2, w, None, *args)
    conv.conv2d_backward(-g, x2, w, *args)
    p2, i2 = pool.max_pool2d_forward(x2, (2, 2), (2, 2), (0, 0))
    pool.max_pool2d_backward(p2, i2, x2.shape)
    for before, now in zip(kept, (y1, *grads1, p1, i1, d1)):
        assert np.array_equal(before, now)
    assert not np.array_equal(i1, i2)


def test_scratch_reuses_one_buffer_per_tag_and_clears():
    from mnp.nn import _scratch as sc
    a = sc.scratch("test-tag", (3, 4), np.float32)
    b = sc.scratch("test-tag", (2, 2), np.float64)
    assert a.base is b.base and b.shape == (2, 2) and b.dtype == np.float64
    c = sc.scratch("test-tag", (100, 100), np.float32)        # grows
    assert c.base is not a.base and sc.held_bytes() >= c.nbytes
    sc.clear()
    assert sc.held_bytes() == 0


POOL_GEOMETRIES = [  # (x shape, kernel, stride, padding)
    ((3, 4, 8, 8), (2, 2), (2, 2), (0, 0)),       # the CNN case: non-overlapping, tiled
    ((3, 4, 9, 7), (2, 2), (2, 2), (0, 0)),       # leftover rows/columns
    ((3, 4, 9, 9), (2, 2), (3, 3), (1, 0)),       # stride > kernel, padded
    ((3, 4, 7, 6), (3, 2), (2, 2), (1, 1)),       # overlapping, padded
    ((2, 3, 6, 6), (3, 3), (1, 1), (1, 1)),       # heavily overlapping
]


def _torch_max_pool(torch, x, k, s, p, g):
    xt = torch.tensor(x, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, k, s, p, return_indices=True)
    yt.backward(torch.from_numpy(g))
    return yt.detach().numpy(), it.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("xs,k,s,p", POOL_GEOMETRIES)
@pytest.mark.parametrize("values", ["normal", "ties"])
def test_max_pool_kernels_match_torch(torch, rng, xs, k, s, p, values):
    x = rng.standard_normal(xs).astype(np.float32)
    if values == "ties":                      # few distinct values: the first maximum must win
        x = np.round(x).clip(-1, 1).astype(np.float32)
    y, idx = pool.max_pool2d_forward(x, k, s, p)
    g = rng.standard_normal(y.shape).astype(np.float32)
    yt, it, dxt = _torch_max_pool(torch, x, k, s, p, g)
    assert idx.dtype == np.int64 and np.array_equal(idx, it)
    assert np.array_equal(y, yt)
    assert_close(pool.max_pool2d_backward(g, idx, xs), dxt, **F32)


@pytest.mark.parametrize("k,s,p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1))])
def test_max_pool_nan_and_all_lowest_windows_like_torch(torch, rng, k, s, p):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan            # two NaNs in one window: the last wins
    x[1, 2, 2, 3] = np.nan
    x[0, 1] = -np.inf                                  # padded windows of -inf: inside element
    x[1, 0, :3, :3] = -np.inf
    y, idx = pool.max_pool2d_forward(x, k, s, p)
    g = np.ones(y.shape, np.float32)
    yt, it, dxt = _torch_max_pool(torch, x, k, s, p, g)
    assert np.array_equal(y, yt, equal_nan=True)
    assert np.array_equal(idx, it)
    assert_close(pool.max_pool2d_backward(g, idx, x.shape), dxt)


def test_max_pool_integer_input_with_padding():
    low = np.iinfo(np.int32).min                   # the padding value: never reported
    x = np.array([[[[low, 4, 4], [1, 5, 9], [2, 6, 9]]]], np.int32)
    y, idx = pool.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1))
    assert y.dtype == np.int32 and y.tolist() == [[[[low, 4], [2, 9]]]]
    assert idx.tolist() == [[[[0, 1], [6, 5]]]]


@pytest.mark.parametrize("xs,k,s,p", POOL_GEOMETRIES)
def test_avg_pool_kernels_match_torch(torch, rng, xs, k, s, p):
    x = rng.standard_normal(xs).astype(np.float32)
    y = pool.avg_pool2d_forward(x, k, s, p)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(xt, k, s, p)
    assert_close(y, yt, **F32)
    g = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(g))
    assert_close(pool.avg_pool2d_backward(g, xs, k, s, p), xt.grad, **F32)


@st.composite
def _pool_geometry(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h, w = draw(st.integers(kh, 9)), draw(st.integers(kw, 9))
    return (2, 2, h, w), (kh, kw), (sh, sw), (ph, pw), draw(st.integers(0, 2 ** 16))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_pool_geometry())
def test_max_pool_kernels_match_torch_on_any_geometry(torch, geometry):
    """Overlapping or not, padded or not, with ties: same maxima, indices and gradient."""
    xs, k, s, p, seed = geometry
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, xs).astype(np.float32)
    y, idx = pool.max_pool2d_forward(x, k, s, p)
    g = rng.standard_normal(y.shape).astype(np.float32)
    yt, it, dxt = _torch_max_pool(torch, x, k, s, p, g)
    assert np.array_equal(y, yt) and np.array_equal(idx, it)
    assert_close(pool.max_pool2d_backward(g, idx, xs), dxt, **F32)
