"""Threaded kernels on shapes whose dims of size 1 or 0 are dropped or merged (outer or inner
extents of 1, empty outputs), above every threading threshold, against the numpy reference."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mnp.core.testing import assert_close

NT = (2, 3)


@pytest.fixture(params=NT)
def nt(request, kc):
    before = kc.get_num_threads()
    kc.set_num_threads(request.param)
    yield request.param
    kc.set_num_threads(before)


@pytest.mark.parametrize("shape", [(1, 131072), (131072, 1), (1, 1, 131072), (2, 1, 65536),
                                   (65536, 1, 2), (1, 2, 1, 65536, 1), (0, 131072), (3, 0, 50000)])
def test_reductions_every_axes(kc, ref, nt, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for r in range(1, len(shape) + 1):
        for axes in itertools.combinations(range(len(shape)), r):
            for op in ("sum", "max", "min"):
                for keep in (False, True):
                    try:
                        expected = ref(op)(x, axes, keep)
                    except ValueError:        # max/min of an empty axis: the same error
                        with pytest.raises(ValueError):
                            getattr(kc, op)(x, axes, keep)
                        continue
                    got = getattr(kc, op)(x, axes, keep)
                    assert np.shape(got) == np.shape(expected), (op, axes, keep)
                    assert_close(got, expected, rtol=1e-5, atol=1e-4, what=f"{op} {shape} {axes}")


@pytest.mark.parametrize("shape", [(1, 40000), (40000, 1), (1, 40000, 1), (1, 1, 40000),
                                   (40000, 1, 1), (2, 1, 20000)])
def test_slices_every_axis(kc, ref, nt, shape):
    g = np.random.default_rng(1)
    x, gy = g.standard_normal(shape).astype(np.float32), g.standard_normal(shape).astype(np.float32)
    for ax in range(len(shape)):
        for name in ("softmax", "log_softmax"):
            assert_close(getattr(kc, name)(x, ax), ref(name)(x, ax), rtol=1e-5, atol=1e-6)
        y = kc.softmax(x, ax)
        for name in ("softmax_backward", "log_softmax_backward"):
            assert_close(getattr(kc, name)(gy, y, ax), ref(name)(gy, y, ax), rtol=1e-4, atol=1e-5)
        for name in ("argmax", "argmin"):
            for keep in (False, True):
                np.testing.assert_array_equal(getattr(kc, name)(x, ax, keep), ref(name)(x, ax, keep))


@pytest.mark.parametrize("xs, ws", [((1, 1, 200, 200), (1, 1, 3, 3)), ((1, 1, 200, 200), (8, 1, 3, 3)),
                                    ((8, 8, 64, 64), (1, 8, 3, 3)), ((0, 8, 32, 32), (4, 8, 3, 3)),
                                    ((2, 64, 64, 64), (4, 64, 1, 1))])
def test_convolution_extents_of_one_and_zero(kc, ref, nt, xs, ws):
    g = np.random.default_rng(2)
    x, w = g.standard_normal(xs).astype(np.float32), g.standard_normal(ws).astype(np.float32)
    geo = ((1, 1), (1, 1), (1, 1))
    y = kc.conv2d_forward(x, w, None, *geo)
    assert_close(y, ref("conv2d_forward")(x, w, None, *geo), rtol=1e-4, atol=1e-3)
    gy = g.standard_normal(y.shape).astype(np.float32)
    for a, e in zip(kc.conv2d_backward(gy, x, w, *geo, True, True, True),
                    ref("conv2d_backward")(gy, x, w, *geo, True, True, True)):
        assert_close(a, e, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("a, b", [((1, 300000), (300000, 1)), ((300000, 1), (1, 3)), ((1, 1), (1, 300000)),
                                  ((0, 500), (500, 700)), ((700, 0), (0, 700)), ((5, 1, 600, 80), (1, 7, 80, 600))])
def test_matmul_extents_of_one_and_zero(kc, nt, a, b):
    g = np.random.default_rng(3)
    A, B = g.standard_normal(a).astype(np.float32), g.standard_normal(b).astype(np.float32)
    assert_close(kc.matmul(A, B), np.matmul(A, B), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("shape", [(1, 70000), (70000, 1)])
def test_rows_of_one(kc, ref, nt, shape):
    g = np.random.default_rng(4)
    x, gy = g.standard_normal(shape).astype(np.float32), g.standard_normal(shape).astype(np.float32)
    gamma = g.standard_normal(shape[1]).astype(np.float32)
    y = kc.layer_norm_forward(x, gamma, gamma, 1e-5)
    for a, e in zip(y, ref("layer_norm_forward")(x, gamma, gamma, 1e-5)):
        assert_close(a, e, rtol=1e-4, atol=1e-4)
    for a, e in zip(kc.layer_norm_backward(gy, x, gamma, y[1], y[2]),
                    ref("layer_norm_backward")(gy, x, gamma, y[1], y[2])):
        assert_close(a, e, rtol=1e-3, atol=1e-3)
    t = np.zeros(shape[0], np.int64)
    for a, e in zip(kc.cross_entropy_forward(x, t, 0.1), ref("cross_entropy_forward")(x, t, 0.1)):
        assert_close(a, e, rtol=1e-4, atol=1e-4)
