"""GEMM and batched matmul against numpy: every transpose flag, edge sizes around the
register tile and the cache blocks, strided and reversed inputs, 1 and 2 threads."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mnp.core.errors import ShapeError
from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
# around the micro-tile (MR 4/6/12, NR 8..32) and the K block (256)
SIZES = [(1, 1, 1), (3, 5, 2), (12, 32, 7), (13, 33, 257), (25, 17, 300), (70, 130, 90)]


def _ref(a, b, ta, tb):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if ta else a64) @ (b64.T if tb else b64)


def _tol(dt, k):
    return {"rtol": 1e-4, "atol": 1e-5 * max(1.0, np.sqrt(k))} if dt == "float32" else \
        {"rtol": 1e-11, "atol": 1e-12 * max(1.0, k)}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("m,n,k", SIZES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm_blocked_matches_numpy(kc, rng, dt, m, n, k, ta, tb):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dt)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dt)
    expected = _ref(a, b, ta, tb)
    for threads in (1, 2):
        got = kc.gemm_blocked(a, b, ta, tb, threads)
        assert got.dtype == np.dtype(dt) and got.flags.c_contiguous
        assert_close(got, expected, **_tol(dt, k), what=f"threads={threads}")
    assert_close(kc.gemm(a, b, ta, tb), expected, **_tol(dt, k))


@pytest.mark.parametrize("dt", DTYPES)
def test_gemm_strided_inputs(kc, rng, strided, dt):
    a = rng.standard_normal((40, 300)).astype(dt)[::2, 5:290:3]       # (20, 95), both strides odd
    b = strided(rng.standard_normal((95, 37)).astype(dt))
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    assert_close(kc.gemm_blocked(a, b, False, False, 2), _ref(a, b, 0, 0), **_tol(dt, 95))
    bt = np.ascontiguousarray(b.T)[::-1, ::-1]                         # negative strides
    assert_close(kc.gemm(a, bt[::-1, ::-1], False, True), _ref(a, b, 0, 0), **_tol(dt, 95))



@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("k", [32, 37, 128, 2048 + 9])
@pytest.mark.parametrize("n", [1, 7, 8, 65, 512])
def test_row_times_weight_matrix_matches_and_agrees_with_blocks(kc, rng, dt, k, n):
    """x (few rows) @ W.T, W (n, k): a token's activations times a layer's weights. The lone
    rows (1 to 3 of them) and the rows of 4-row blocks give the same bits for the same row,
    for any thread count, and match numpy."""
    a = rng.standard_normal((5, k)).astype(dt)
    w = rng.standard_normal((n, k)).astype(dt)
    full = kc.gemm_blocked(a, w, False, True, 1)
    assert_close(full, _ref(a, w, 0, 1), **_tol(dt, k))
    for rows in (slice(0, 1), slice(4, 5), slice(1, 3), slice(0, 4)):
        for threads in (1, 2):
            assert np.array_equal(kc.gemm_blocked(a[rows], w, False, True, threads), full[rows])


def test_gemm_large_uses_both_paths(kc, rng):
    a = rng.standard_normal((300, 520)).astype(np.float32)
    b = rng.standard_normal((520, 700)).astype(np.float32)
    expected = _ref(a, b, 0, 0)
    assert_close(kc.gemm_blocked(a, b, False, False, 2), expected, **_tol("float32", 520))
    assert_close(kc.gemm(a, b), expected, **_tol("float32", 520))


def test_gemm_empty_and_zero_k(kc):
    a, b = np.ones((3, 0), np.float32), np.ones((0, 4), np.float32)
    np.testing.assert_array_equal(kc.gemm(a, b), np.zeros((3, 4), np.float32))
    assert kc.gemm(np.ones((0, 2)), np.ones((2, 5))).shape == (0, 5)


def test_gemm_shape_errors_name_the_op(kc):
    a, b = np.ones((2, 3), np.float32), np.ones((4, 5), np.float32)
    with pytest.raises(ShapeError, match=r"gemm: shapes \(2, 3\) and \(4, 5\) are not aligned: 3 != 4"):
        kc.gemm(a, b)
    with pytest.raises(ShapeError, match="2-d"):
        kc.gemm(np.ones(3, np.float32), b)
    with pytest.raises(TypeError):
        kc.gemm(a)


def test_gemm_other_dtypes_fall_back(kc):
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(kc.gemm(a, a, False, True), a @ a.T)
    a32, b64 = np.ones((2, 2), np.float32), np.ones((2, 2), np.float64)
    np.testing.assert_array_equal(kc.gemm(a32, b64), a32 @ b64)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("sa,sb", [((4, 5, 6), (4, 6, 3)), ((2, 1, 5, 6), (3, 6, 7)),
                                   ((5, 6), (2, 6, 4)), ((3, 7, 9), (9, 2)), ((2, 3, 4), (1, 4, 0))])
def test_matmul_batched_broadcast(kc, rng, dt, sa, sb):
    a = rng.standard_normal(sa).astype(dt)
    b = rng.standard_normal(sb).astype(dt)
    got = kc.matmul(a, b)
    assert got.dtype == np.dtype(dt)
    assert_close(got, np.matmul(a.astype(np.float64), b.astype(np.float64)), **_tol(dt, sa[-1]))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("sa,sb", [((0, 3, 4), (4, 5)), ((3, 4), (0, 4, 5)), ((0, 3, 4), (1, 4, 5)),
                                   ((1, 3, 4), (0, 4, 5)), ((2, 1, 3, 4), (0, 4, 5)),
                                   ((1, 0, 3, 4), (5, 1, 4, 5)), ((0, 3, 0), (0, 0)),
                                   ((2, 0, 4), (4, 5)), ((2, 3, 0), (0, 5)), ((2, 3, 4), (4, 0))])
def test_matmul_empty_batch_and_sizes_follow_numpy(kc, dt, sa, sb):
    a, b = np.ones(sa, dt), np.ones(sb, dt)
    got, expected = kc.matmul(a, b), np.matmul(a, b)
    assert got.shape == expected.shape and got.dtype == np.dtype(dt)
    np.testing.assert_array_equal(got, expected)


def test_matmul_vectors_and_errors_follow_numpy(kc, rng):
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    assert_close(kc.matmul(a, v), a @ v)
    with pytest.raises(ShapeError, match="matmul"):
        kc.matmul(np.ones((2, 3, 4)), np.ones((3, 5, 2)))
    with pytest.raises(ShapeError, match="matmul"):
        kc.matmul(np.ones((2, 2, 4)), np.ones((3, 4, 2)))


def test_matmul_strided_batch(kc, rng, strided):
    a = strided(rng.standard_normal((6, 5, 8)).astype(np.float32))
    b = rng.standard_normal((8, 6, 3)).astype(np.float32).transpose(1, 0, 2)
    assert_close(kc.matmul(a, b), np.matmul(a, b), **_tol("float32", 8))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=st.integers(1, 40), n=st.integers(1, 70), k=st.integers(1, 40),
       ta=st.booleans(), tb=st.booleans(), dt=st.sampled_from(DTYPES))
def test_gemm_property(kc, m, n, k, ta, tb, dt):
    r = np.random.default_rng(m * 10007 + n * 101 + k)
    a = r.standard_normal((k, m) if ta else (m, k)).astype(dt)
    b = r.standard_normal((n, k) if tb else (k, n)).astype(dt)
    assert_close(kc.gemm(a, b, ta, tb), _ref(a, b, ta, tb), **_tol(dt, k))


def test_large_products_go_to_blas(kc, ext):
    """From the measured crossover on, dispatch hands gemm/matmul products to numpy's BLAS, on
    one thread only (with more, BLAS keeps one thread and the C GEMM runs threaded) and never in
    deterministic mode; the C kernels themselves always compute (gemm_blocked too)."""
    import mnp.kernels_c as pkg
    from mnp.core.dispatch import served

    threads, crossover = ext.get_num_threads(), dict(pkg.GEMM_BLAS_FROM)
    try:
        pkg.set_num_threads(1)
        pkg.GEMM_BLAS_FROM.update(float32=1000.0, float64=1000.0)
        a = np.ones((20, 20), np.float32)
        small = np.ones((5, 5), np.float32)
        with served() as calls:
            assert kc.gemm(a, a)[0, 0] == 20 and kc.matmul(a, a)[0, 0] == 20
            assert kc.gemm(small, small)[0, 0] == 5
        assert calls == {("gemm", "numpy"): 1, ("matmul", "numpy"): 1, ("gemm", "c"): 1}
        assert ext.gemm(a, a)[0, 0] == 20 and ext.gemm_blocked(a, a, False, False)[0, 0] == 20
        pkg.set_num_threads(2)
        with served() as calls:
            assert kc.gemm(a, a)[0, 0] == 20 and kc.matmul(a, a)[0, 0] == 20
        assert calls == {("gemm", "c"): 1, ("matmul", "c"): 1}
        pkg.set_num_threads(1)
        pkg.set_deterministic(True)
        with served() as calls:
            assert kc.gemm(a, a)[0, 0] == 20 and kc.matmul(a, a)[0, 0] == 20
        assert calls == {("gemm", "c"): 1, ("matmul", "c"): 1}
    finally:
        pkg.set_deterministic(False)
        pkg.set_num_threads(threads)
        pkg.GEMM_BLAS_FROM.update(crossover)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("m,n,k", SIZES + [(768, 384, 128), (200, 130, 1100), (64, 1200, 300)])
def test_addmm_is_the_product_plus_the_bias_bit_for_bit(kc, rng, dt, m, n, k):
    """The bias added in the product's last pass over C (plain loop, in-place tiles, packed
    tiles and their edges, several k blocks, threads splitting rows or columns) gives exactly
    gemm's result plus the bias, as a separate add would."""
    import mnp.kernels_c as kcm
    before = kcm.get_num_threads()
    try:
        for ta, tb in ((False, True), (True, False)):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(dt)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(dt)
            bias = rng.standard_normal(2 * n).astype(dt)[::2]          # strided too
            for threads in (1, 2):
                kcm.set_num_threads(threads)
                got = kc.addmm(bias, a, b, ta, tb)
                assert got.dtype == np.dtype(dt) and got.shape == (m, n)
                np.testing.assert_array_equal(got, kc.gemm(a, b, ta, tb) + bias)
    finally:
        kcm.set_num_threads(before)


def test_addmm_other_biases_go_to_the_reference_and_bad_ones_are_named(kc, ext, ref, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    column = rng.standard_normal((4, 1))
    assert ext.addmm(column, a, b) is NotImplemented                     # the reference's case
    assert_close(kc.addmm(column, a, b), a @ b + column, rtol=1e-12, atol=1e-12)
    with pytest.raises(ShapeError, match=r"addmm: bias of shape \(4,\)"):
        ref("addmm", "float64")(np.ones(4), a, b)
    with pytest.raises(ShapeError, match="addmm: shapes"):
        kc.addmm(np.ones(5), a, a)
