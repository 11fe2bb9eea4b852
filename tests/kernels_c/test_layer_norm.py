"""layer_norm_forward / layer_norm_backward against the numpy reference and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")


def _tol(dt):
    return {"rtol": 1e-4, "atol": 1e-5} if dt == "float32" else {"rtol": 1e-10, "atol": 1e-11}


def _compare(got, expected, dt, names):
    for what, a, e in zip(names, got, expected):
        if e is None:
            assert a is None, what
        else:
            assert a.shape == e.shape and a.dtype == e.dtype, what
            np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=what)
            keep = ~np.isnan(e)
            assert_close(a[keep], e[keep], **_tol(dt), what=what)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (4, 8), (128, 256), (3, 1000), (512, 130)])
@pytest.mark.parametrize("affine", ["both", "gamma", "beta", "none"])
def test_forward_and_backward(kc, ref, rng, strided, dt, shape, affine):
    d = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(dt)
    gamma = rng.uniform(0.5, 2.0, d).astype(dt) if affine in ("both", "gamma") else None
    beta = rng.standard_normal(d).astype(dt) if affine in ("both", "beta") else None
    expected = ref("layer_norm_forward", dt)(x, gamma, beta, 1e-5)
    _compare(kc.layer_norm_forward(x, gamma, beta, 1e-5), expected, dt, ("y", "mean", "invstd"))
    sg = None if gamma is None else strided(gamma)
    _compare(kc.layer_norm_forward(strided(x), sg, beta, 1e-5), expected, dt, ("y", "mean", "invstd"))
    _, mean, invstd = expected
    g = rng.standard_normal(shape).astype(dt)
    expected = ref("layer_norm_backward", dt)(g, x, gamma, mean, invstd)
    names = ("dx", "dgamma", "dbeta")
    _compare(kc.layer_norm_backward(g, x, gamma, mean, invstd), expected, dt, names)
    _compare(kc.layer_norm_backward(strided(g), np.asfortranarray(x), sg, strided(mean), invstd),
             expected, dt, names)


@pytest.mark.parametrize("dt", DTYPES)
def test_special_values(kc, ref, dt):
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0], [np.nan, 1.0, 2.0, 3.0],
                  [np.inf, 1.0, 2.0, 3.0], [3e38, 3e38, 3e38, 3e38]], dt)   # sum overflows in float32
    gamma, beta = np.array([1.0, 2.0, -1.0, 0.5], dt), np.zeros(4, dt)
    with np.errstate(all="ignore"):
        expected = ref("layer_norm_forward", dt)(x, gamma, beta, 1e-5)
        got = kc.layer_norm_forward(x, gamma, beta, 1e-5)
        # the last row's sum overflows float32 in the reference (NaN); the C kernel takes the
        # mean of x shifted by the row's first element: exactly 3e38, so y = beta
        _compare([a[:4] for a in got], [e[:4] for e in expected], dt, ("y", "mean", "invstd"))
        assert np.isnan(got[0][2]).all() and np.isnan(got[0][3]).all()
        # 1 / sqrt(eps), both correctly rounded (numpy's float32 `** -0.5` is 1 ulp off on
        # some CPUs)
        assert (got[0][4] == 0).all() and got[1][4] == x[4, 0] and got[2][4] == 1 / np.sqrt(np.asarray(1e-5, dt))
        g = np.ones_like(x)
        stats = [a[:4] for a in expected[1:]]
        _compare(kc.layer_norm_backward(g[:4], x[:4], gamma, *stats),
                 ref("layer_norm_backward", dt)(g[:4], x[:4], gamma, *stats), dt,
                 ("dx", "dgamma", "dbeta"))


def test_inputs_left_to_the_reference(kc, ref):
    """Empty batches, other ranks, dtypes and gamma shapes run the reference."""
    for x in (np.zeros((0, 4), np.float32), np.ones((3, 4), np.float16), np.ones((3, 4)) * [1, 2, 3, 4]):
        got, expected = kc.layer_norm_forward(x, None, None, 1e-5), ref("layer_norm_forward")(x, None, None, 1e-5)
        for a, e in zip(got, expected):
            assert a.shape == e.shape and a.dtype == e.dtype
            assert_close(a, e)
    x = np.arange(12.0).reshape(3, 4)
    row_gamma = np.full((1, 4), 2.0)                       # broadcasts in the reference
    assert_close(kc.layer_norm_forward(x, row_gamma, None, 1e-5)[0],
                 ref("layer_norm_forward")(x, row_gamma, None, 1e-5)[0])


def test_against_torch(kc, torch, rng):
    x, g = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    gamma, beta = rng.standard_normal(7), rng.standard_normal(7)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    ty = torch.nn.functional.layer_norm(tx, (7,), tg, tb, eps=1e-5)
    ty.backward(torch.tensor(g))
    y, mean, invstd = kc.layer_norm_forward(x, gamma, beta, 1e-5)
    assert_close(y, ty.detach().numpy())
    dx, dgamma, dbeta = kc.layer_norm_backward(g, x, gamma, mean, invstd)
    assert_close(dx, tx.grad.numpy())
    assert_close(dgamma, tg.grad.numpy())
    assert_close(dbeta, tb.grad.numpy())


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(701, 100), (600, 1000), (3, 9000), (40001, 2)])
def test_bit_identical_across_threads(kc, ref, rng, dt, shape):
    """Rows run in pairs whichever thread starts them (odd shares too), and dgamma/dbeta are
    summed per block of rows fixed by the shape (one block per row from 8192 columns, at most
    64 blocks), the blocks added in order: the same bits on 1, 2 and 3 threads, within
    rounding of the float64 sums."""
    import mnp.core as mnp

    x = (rng.standard_normal(shape) * 2 + 1).astype(dt)
    g, gamma = rng.standard_normal(shape).astype(dt), rng.uniform(0.5, 2.0, shape[1]).astype(dt)
    beta = rng.standard_normal(shape[1]).astype(dt)
    before, results = mnp.get_num_threads(), []
    try:
        for n in (1, 2, 3):
            mnp.set_num_threads(n)
            fwd = kc.layer_norm_forward(x, gamma, beta, 1e-5)
            results.append(fwd + kc.layer_norm_backward(g, x, gamma, *fwd[1:]))
    finally:
        mnp.set_num_threads(before)
    for got in results[1:]:
        for a, e in zip(got, results[0]):
            assert a.tobytes() == e.tobytes()
    mean, invstd = results[0][1:3]
    results[0] = results[0][3:]
    x64, m64, i64 = (a.astype(np.float64) for a in (x, mean, invstd))
    expected = ref("layer_norm_backward", "float64")(g.astype(np.float64), x64,
                                                     gamma.astype(np.float64), m64, i64)
    _compare(results[0], [e.astype(dt) for e in expected], dt, ("dx", "dgamma", "dbeta"))


def test_one_column_backward_is_exactly_zero(kc, rng):
    """With D = 1 every row is its own mean: dx is exactly 0 (no rounding residue from
    forming g * gamma twice)."""
    x, g = rng.standard_normal((300, 1)).astype(np.float32), rng.standard_normal((300, 1)).astype(np.float32)
    gamma = np.array([1.7], np.float32)
    _, mean, invstd = kc.layer_norm_forward(x, gamma, None, 1e-5)
    assert (kc.layer_norm_backward(g, x, gamma, mean, invstd)[0] == 0).all()
