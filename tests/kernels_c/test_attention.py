"""attention_forward / attention_backward: the C kernels against the numpy reference on shapes
with size-1 dimensions, L != S, causal and masked, over several thread counts."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.testing import assert_close
from mnp.nn import functional as F

DTYPES = ("float32", "float64")

CASES = [  # B, L, S, E, Ev, causal, mask shape (None: no mask)
    (1, 1, 1, 1, 1, False, None),
    (1, 1, 1, 1, 1, True, None),
    (2, 3, 5, 4, 6, False, None),
    (3, 7, 5, 4, 3, True, None),          # causal, L > S
    (2, 5, 9, 8, 8, True, None),          # causal, L < S
    (2, 100, 130, 16, 12, True, None),    # several tiles, partial last ones
    (2, 130, 100, 7, 5, False, (2, 130, 100)),
    (3, 4, 6, 3, 3, False, (1, 4, 6)),    # mask broadcast over the batch
    (3, 4, 6, 3, 3, False, (3, 1, 6)),    # ... over the queries (a key padding mask)
    (3, 4, 6, 3, 3, False, (3, 4, 1)),
    (4, 64, 64, 32, 32, True, None),      # the GPT shape
]


def _tol(dt):
    return {"rtol": 2e-4, "atol": 2e-5} if dt == "float32" else {"rtol": 1e-10, "atol": 1e-12}


def _inputs(rng, dt, B, L, S, E, Ev, mshape):
    q, k, v = (rng.standard_normal(s).astype(dt) for s in ((B, L, E), (B, S, E), (B, S, Ev)))
    mask = None
    if mshape is not None:
        mask = rng.standard_normal(mshape).astype(dt)
        mask[rng.random(mshape) > 0.6] = -np.inf
        mask = np.broadcast_to(mask, (B, L, S))
    return q, k, v, mask


def _check(kc, ref, rng, dt, case, scale=0.37):
    B, L, S, E, Ev, causal, mshape = case
    q, k, v, mask = _inputs(rng, dt, B, L, S, E, Ev, mshape)
    out, lse = ref("attention_forward", dt)(q, k, v, mask, causal, scale)
    c_out, c_lse = kc.attention_forward(q, k, v, mask, causal, scale)
    assert c_out.dtype == out.dtype == np.dtype(dt) and c_lse.shape == lse.shape == (B, L)
    assert_close(c_out, out, **_tol(dt), what="out")
    np.testing.assert_array_equal(np.isneginf(c_lse), np.isneginf(lse))
    live = np.isfinite(lse)
    assert_close(c_lse[live], lse[live], **_tol(dt), what="lse")
    g = rng.standard_normal(out.shape).astype(dt)
    expected = ref("attention_backward", dt)(g, q, k, v, out, lse, mask, causal, scale)
    got = kc.attention_backward(g, q, k, v, c_out, c_lse, mask, causal, scale)
    for name, a, e in zip(("dq", "dk", "dv"), got, expected):
        assert a.shape == e.shape and a.dtype == e.dtype, name
        assert_close(a, e, **_tol(dt), what=name)
    return c_out, got


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_matches_reference(kc, ref, rng, dt, case):
    _check(kc, ref, rng, dt, case)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(B=st.integers(1, 3), L=st.integers(1, 110), S=st.integers(1, 110), E=st.integers(1, 20),
       Ev=st.integers(1, 20), causal=st.booleans(),
       mask=st.sampled_from([None, "full", "batch", "rows", "keys"]),
       dt=st.sampled_from(DTYPES), seed=st.integers(0, 2 ** 16))
def test_random_shapes_match_reference(kc, ref, B, L, S, E, Ev, causal, mask, dt, seed):
    """Any sizes (tiles cut anywhere), causal or not, masks broadcast over any dimension."""
    shapes = {None: None, "full": (B, L, S), "batch": (1, L, S), "rows": (B, 1, S),
              "keys": (B, L, 1)}
    _check(kc, ref, np.random.default_rng(seed), dt, (B, L, S, E, Ev, causal, shapes[mask]))


@pytest.mark.parametrize("dt", DTYPES)
def test_fully_masked_rows_are_zero_with_zero_gradient(kc, ref, rng, dt):
    mask = np.zeros((2, 4, 5), dt)
    mask[:, 2] = -np.inf
    mask[1, 0, :3] = -np.inf
    q, k, v = (rng.standard_normal(s).astype(dt) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    out, lse = kc.attention_forward(q, k, v, mask, False, 1.0)
    assert np.all(out[:, 2] == 0) and np.all(np.isneginf(lse[:, 2]))
    dq, dk, dv = kc.attention_backward(np.ones_like(out), q, k, v, out, lse, mask, False, 1.0)
    assert np.all(dq[:, 2] == 0) and np.all(np.isfinite(dk)) and np.all(np.isfinite(dv))
    assert_close(out, ref("attention_forward", dt)(q, k, v, mask, False, 1.0)[0], **_tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
def test_results_do_not_depend_on_the_thread_count(kc, ref, rng, dt):
    import mnp.kernels_c as kcm
    before = kcm.get_num_threads()
    case = (7, 50, 70, 16, 8, True, None)
    try:
        results = []
        for n in (1, 2, 3, 4):
            kcm.set_num_threads(n)
            results.append(_check(kc, ref, np.random.default_rng(5), dt, case))
    finally:
        kcm.set_num_threads(before)
    for out, grads in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        for a, b in zip(grads, results[0][1]):
            np.testing.assert_array_equal(a, b)


def test_non_contiguous_inputs_and_fallbacks(kc, ref, rng, strided):
    q, k, v, _ = _inputs(rng, "float32", 2, 4, 6, 3, 5, None)
    out, lse = ref("attention_forward", "float32")(q, k, v, None, True, 0.5)
    got, _ = kc.attention_forward(strided(q), strided(k), strided(v), None, True, 0.5)
    assert_close(got, out, **_tol("float32"))
    drop = (rng.random((2, 4, 6)) > 0.5).astype(np.float32) * 2      # dropout: the reference
    expected = ref("attention_forward", "float32")(q, k, v, None, False, 0.5, drop)
    for a, e in zip(kc.attention_forward(q, k, v, None, False, 0.5, drop), expected):
        assert_close(a, e, rtol=0, atol=0)
    half = [a.astype(np.float16) for a in (q, k, v)]                  # float16: the reference
    h_out, _ = kc.attention_forward(*half, None, False, 0.5)
    assert h_out.dtype == np.float16


def test_op_served_by_backend(backend, rng):
    """The op gives the same result on every backend (the C kernel when it is installed)."""
    q, k, v = (mnp.tensor(rng.standard_normal(s), dtype=mnp.float64, requires_grad=True)
               for s in ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with mnp.use_backend("numpy"):
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_close(out, expected, rtol=1e-12, atol=1e-12)
    assert mnp.grad_check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                          [q, k, v])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("causal,masked", [(True, False), (False, True)])
def test_heads_read_in_place_from_a_projection(kc, ref, rng, dt, causal, masked):
    """q, k, v as the (B, H, L, E) views of a (B, L, 3, H, E) projection (a transformer's qkv)
    and k, v shared by every head (stride 0): the results of contiguous copies, with out and
    the gradients laid out as their inputs (out's (B, L, H * Ev) reshape is a view)."""
    B, L, H, E = 3, 37, 4, 8
    qkv = rng.standard_normal((B, L, 3, H, E)).astype(dt).transpose(2, 0, 3, 1, 4)
    shared = np.broadcast_to(rng.standard_normal((B, 1, L, E)).astype(dt), (B, H, L, E))
    mask = None
    if masked:
        mask = rng.standard_normal((B * H, L, L)).astype(dt)
        mask[rng.random(mask.shape) > 0.7] = -np.inf
    for q, k, v in ((qkv[0], qkv[1], qkv[2]), (qkv[0], shared, shared)):
        assert not q.flags.c_contiguous
        dense = [np.ascontiguousarray(a).reshape(B * H, L, E) for a in (q, k, v)]
        out, lse = ref("attention_forward", dt)(*dense, mask, causal, 0.3)
        c_out, c_lse = kc.attention_forward(q, k, v, mask, causal, 0.3)
        assert c_out.shape == (B, H, L, E) and c_lse.shape == (B, H, L)
        assert c_out.transpose(0, 2, 1, 3).flags.c_contiguous      # laid out as q
        assert_close(c_out.reshape(B * H, L, E), out, **_tol(dt), what="out")
        assert_close(c_lse.reshape(B * H, L), lse, **_tol(dt), what="lse")
        g = rng.standard_normal((B, L, H, E)).astype(dt).transpose(0, 2, 1, 3)
        expected = ref("attention_backward", dt)(np.ascontiguousarray(g).reshape(B * H, L, E),
                                                 *dense, out, lse, mask, causal, 0.3)
        got = kc.attention_backward(g, q, k, v, c_out, c_lse, mask, causal, 0.3)
        for name, a, inp, e in zip(("dq", "dk", "dv"), got, (q, k, v), expected):
            assert a.shape == inp.shape, name
            assert_close(a.reshape(B * H, L, E), e, **_tol(dt), what=name)
        assert got[0].transpose(0, 2, 1, 3).flags.c_contiguous     # laid out as q


@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 6), (7, 6)])
def test_more_or_fewer_batch_dimensions_match_the_reference(kc, ref, rng, shape):
    """The kernels take one or two batch dimensions as they are; the op flattens others."""
    q, k, v = (mnp.tensor(rng.standard_normal(shape), dtype=mnp.float64) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    with mnp.use_backend("numpy"):
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.shape == shape
    assert_close(out, expected, rtol=1e-12, atol=1e-12)
