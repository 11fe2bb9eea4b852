"""im2col/col2im, convolution and pooling against the numpy reference (random geometry,
strided inputs, both dtypes) and against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
# (N, C, H, W, OC, kernel, stride, padding, dilation)
GEOMS = [(2, 3, 9, 8, 4, (3, 3), (1, 1), (1, 1), (1, 1)),
         (3, 2, 11, 7, 5, (3, 2), (2, 1), (0, 2), (1, 2)),
         (1, 4, 6, 6, 3, (1, 1), (1, 1), (0, 0), (1, 1)),
         (2, 1, 10, 13, 2, (5, 3), (3, 2), (2, 1), (2, 1)),
         (5, 3, 8, 8, 6, (2, 2), (2, 2), (1, 0), (1, 1)),
         (4, 2, 1, 20, 3, (1, 4), (1, 3), (0, 1), (1, 1)),
         # stride 1: dx accumulated tile by tile, without col2im
         (3, 2, 9, 8, 5, (3, 3), (1, 1), (0, 0), (1, 1)),
         (2, 2, 12, 50, 3, (3, 5), (1, 1), (2, 1), (2, 2)),
         (2, 2, 7, 40, 3, (3, 3), (1, 1), (0, 1), (1, 1)),
         (2, 3, 5, 33, 13, (2, 2), (1, 1), (1, 1), (1, 1))]


def _tol(dt, k):
    return {"rtol": 1e-4, "atol": 2e-5 * np.sqrt(k)} if dt == "float32" else \
        {"rtol": 1e-11, "atol": 1e-12 * k}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("geom", GEOMS)
def test_im2col_col2im(kc, ref, rng, strided, dt, geom):
    n, c, h, w, _, k, s, p, d = geom
    x = strided(rng.standard_normal((n, c, h, w)).astype(dt))
    cols = kc.im2col(x, k, s, p, d)
    np.testing.assert_array_equal(cols, ref("im2col", dt)(x, k, s, p, d))
    g = rng.standard_normal(cols.shape).astype(dt)
    assert_close(kc.col2im(g, x.shape, k, s, p, d), ref("col2im", dt)(g, x.shape, k, s, p, d),
                 **_tol(dt, k[0] * k[1]))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("geom", GEOMS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_backward(kc, ref, rng, strided, dt, geom, bias):
    n, c, h, w, oc, k, s, p, d = geom
    x = rng.standard_normal((n, c, h, w)).astype(dt)
    wt = rng.standard_normal((oc, c) + k).astype(dt)
    b = rng.standard_normal(oc).astype(dt) if bias else None
    kk = c * k[0] * k[1]
    y = kc.conv2d_forward(strided(x), wt, b, s, p, d)
    assert_close(y, ref("conv2d_forward", dt)(x, wt, b, s, p, d), **_tol(dt, kk))
    g = rng.standard_normal(y.shape).astype(dt)
    got = kc.conv2d_backward(strided(g), x, wt, s, p, d, True, True, True)
    expected = ref("conv2d_backward", dt)(g, x, wt, s, p, d, True, True, True)
    for what, a, e in zip(("dx", "dw", "db"), got, expected):
        assert_close(a, e, **_tol(dt, max(kk, y.shape[2] * y.shape[3] * n)), what=what)
    dx, dw, db = kc.conv2d_backward(g, x, wt, s, p, d, False, True, False)
    assert dx is None and db is None
    assert_close(dw, expected[1], **_tol(dt, y.shape[2] * y.shape[3] * n))


def test_conv2d_threaded_batch(kc, ref, rng):
    x = rng.standard_normal((16, 8, 20, 20)).astype(np.float32)
    wt = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    y = kc.conv2d_forward(x, wt, b, (1, 1), (1, 1), (1, 1))
    assert_close(y, ref("conv2d_forward")(x, wt, b, (1, 1), (1, 1), (1, 1)), **_tol("float32", 72))
    g = rng.standard_normal(y.shape).astype(np.float32)
    for a, e in zip(kc.conv2d_backward(g, x, wt, (1, 1), (1, 1), (1, 1), True, True, True),
                    ref("conv2d_backward")(g, x, wt, (1, 1), (1, 1), (1, 1), True, True, True)):
        assert_close(a, e, **_tol("float32", 16 * 400))


def test_conv2d_against_torch(kc, torch, rng):
    x = rng.standard_normal((2, 3, 10, 9))
    wt = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    y = kc.conv2d_forward(x, wt, b, (2, 1), (1, 2), (1, 2))
    assert_close(y, ty)
    g = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(g))
    dx, dw, db = kc.conv2d_backward(g, x, wt, (2, 1), (1, 2), (1, 2), True, True, True)
    assert_close(dx, tx.grad)
    assert_close(dw, tw.grad)
    assert_close(db, tb.grad)


def test_conv_shape_errors(kc):
    x, w = np.ones((1, 3, 5, 5), np.float32), np.ones((2, 4, 3, 3), np.float32)
    with pytest.raises(ShapeError, match=r"conv2d_forward: x of shape \(1, 3, 5, 5\) has 3 channels"):
        kc.conv2d_forward(x, w, None, (1, 1), (0, 0), (1, 1))
    with pytest.raises(ShapeError, match="smaller than the dilated kernel"):
        kc.conv2d_forward(x, np.ones((2, 3, 3, 3), np.float32), None, (1, 1), (0, 0), (3, 3))
    with pytest.raises(ShapeError, match="must be positive"):
        kc.im2col(x, (3, 3), (0, 1), (0, 0), (1, 1))
    for huge in ((3, 3), (1, 1), (2**62, 2**62), (1, 1)), ((3, 3), (1, 1), (0, 0), (2**62, 1)):
        with pytest.raises(ShapeError, match="below 2\\*\\*31"):
            kc.im2col(x, *huge)
    with pytest.raises(ShapeError, match="do not match x_shape"):
        kc.col2im(np.ones((1, 27, 8), np.float32), (1, 3, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ShapeError, match="gradient of shape"):
        kc.conv2d_backward(np.ones((1, 2, 4, 4), np.float32), x, np.ones((2, 3, 3, 3), np.float32),
                           (1, 1), (0, 0), (1, 1), True, True, True)


POOLS = [((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)), ((1, 2, 7, 9), (3, 3), (2, 2), (1, 1)),
         ((3, 1, 5, 6), (3, 2), (1, 2), (1, 1)), ((2, 2, 6, 6), (2, 2), (1, 1), (0, 0))]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape,k,s,p", POOLS)
def test_pooling(kc, ref, rng, strided, dt, shape, k, s, p):
    x = rng.standard_normal(shape).astype(dt)
    x[0, 0, 0, :2] = 5.0                                     # a tie: the first one wins
    y, idx = kc.max_pool2d_forward(strided(x), k, s, p)
    ry, ridx = ref("max_pool2d_forward", dt)(x, k, s, p)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    assert idx.dtype == np.int64
    g = rng.standard_normal(y.shape).astype(dt)
    assert_close(kc.max_pool2d_backward(strided(g), idx, x.shape),
                 ref("max_pool2d_backward", dt)(g, ridx, x.shape), **_tol(dt, 4))
    assert_close(kc.avg_pool2d_forward(x, k, s, p), ref("avg_pool2d_forward", dt)(x, k, s, p),
                 **_tol(dt, 9))
    ga = rng.standard_normal(y.shape).astype(dt)
    assert_close(kc.avg_pool2d_backward(ga, x.shape, k, s, p),
                 ref("avg_pool2d_backward", dt)(ga, x.shape, k, s, p), **_tol(dt, 9))


def test_max_pool_nan_and_torch(kc, torch, rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    x[0, 0, 1, 1] = np.nan
    y, idx = kc.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    ty, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())


def test_pool_errors(kc):
    g, idx = np.ones((1, 1, 2, 2), np.float32), np.full((1, 1, 2, 2), 99, np.int64)
    with pytest.raises(ShapeError, match="outside the"):
        kc.max_pool2d_backward(g, idx, (1, 1, 4, 4))
    with pytest.raises(ShapeError, match="max_pool2d_backward"):
        kc.max_pool2d_backward(g, idx[..., :1], (1, 1, 4, 4))
    with pytest.raises(ShapeError, match="expected x of shape"):
        kc.max_pool2d_forward(np.ones((4, 4), np.float32), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ShapeError, match="gradient of shape"):
        kc.avg_pool2d_backward(np.ones((1, 1, 3, 3), np.float32), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0))
