"""scaled_dot_product_attention and MultiheadAttention against PyTorch (values and gradients),
float64 finite differences, hypothesis over shapes and masks, and the reference kernels."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import nn
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match)
from mnp.nn import functional as F
from mnp.nn.attention import attention_backward, attention_forward

SDPA_CASES = [  # query, key, value shapes, mask kind, is_causal
    ((2, 3, 4), (2, 5, 4), (2, 5, 6), None, False),
    ((2, 2, 6, 8), (2, 2, 6, 8), (2, 2, 6, 8), None, True),
    ((2, 7, 4), (2, 5, 4), (2, 5, 3), None, True),           # causal, L > S
    ((1, 3, 4), (1, 6, 4), (1, 6, 4), None, True),           # causal, L < S
    ((3, 1, 4, 4), (1, 2, 5, 4), (1, 2, 5, 2), None, False),  # batch dims broadcast
    ((4, 8), (6, 8), (6, 5), None, False),                    # unbatched
    ((2, 2, 4, 4), (2, 2, 5, 4), (2, 2, 5, 4), "bool", False),
    ((2, 2, 4, 4), (2, 2, 5, 4), (2, 2, 5, 4), "float", False),
    ((1, 1, 1, 3), (1, 1, 1, 3), (1, 1, 1, 1), None, True),   # size-1 everything
]


def _mask(kind, rng, shape):
    if kind == "bool":
        m = rng.random(shape) > 0.4
        m[..., 0] = True
        return m
    if kind == "float":
        return rng.standard_normal(shape)
    return None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch(torch, rng, case, dtype):
    qs, ks, vs, kind, causal = case
    mask = _mask(kind, rng, (qs[-2], ks[-2]))
    tmask = None if mask is None else torch.tensor(mask if kind == "bool" else mask.astype(dtype))
    tol = F32 if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=tmask, is_causal=causal),
        rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(vs),
        rng=rng, dtype=dtype, **tol)


def test_sdpa_scale_and_gqa_match_torch(torch, rng):
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 6)))
    assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3, enable_gqa=True),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, scale=0.3, enable_gqa=True), q, k, v, rng=rng)


def test_fully_masked_rows_give_zero_like_torch(torch, rng):
    mask = np.ones((4, 5), bool)
    mask[1] = False
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    out, t_out = assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=torch.tensor(mask)), q, k, v, rng=rng)
    assert np.all(out.data[:, 1] == 0)


@pytest.mark.parametrize("causal,kind", [(False, None), (True, None), (False, "float"),
                                         (False, "bool")])
def test_sdpa_grad_check(rng, causal, kind):
    mask = _mask(kind, rng, (4, 6))
    xs = [mnp.tensor(rng.standard_normal(s), dtype=mnp.float64, requires_grad=True)
          for s in ((2, 4, 3), (2, 6, 3), (2, 6, 5))]
    assert mnp.grad_check(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=causal), xs)


def test_sdpa_dropout_is_seeded_and_differentiable(rng):
    xs = [mnp.tensor(rng.standard_normal(s), dtype=mnp.float64, requires_grad=True)
          for s in ((2, 4, 3), (2, 6, 3), (2, 6, 5))]

    def fn(q, k, v):
        mnp.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    a, b = fn(*xs), fn(*xs)
    assert_close(a, b, rtol=0, atol=0)
    assert not np.allclose(a.data, F.scaled_dot_product_attention(*xs).data)
    assert mnp.grad_check(fn, xs)
    zero = F.scaled_dot_product_attention(*xs, dropout_p=1.0)
    assert np.all(zero.data == 0)


def test_sdpa_dropout_keeps_expectation(rng):
    q, k, v = (mnp.tensor(rng.standard_normal(s)) for s in ((1, 4, 3), (1, 6, 3), (1, 6, 2)))
    mnp.manual_seed(0)
    runs = np.stack([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).data
                     for _ in range(400)])
    assert_close(runs.mean(axis=0), F.scaled_dot_product_attention(q, k, v), atol=0.1, rtol=0)


@pytest.mark.parametrize("args,kwargs,match", [
    (((2, 3), (2, 4), (2, 4)), {}, "do not fit"),
    (((3,), (2, 3), (2, 3)), {}, "at least 2-d"),
    (((2, 3, 4), (3, 5, 4), (3, 5, 4)), {}, "do not broadcast"),
    (((2, 3, 4), (2, 5, 4), (2, 6, 4)), {}, "do not fit"),
    (((3, 4), (5, 4), (5, 4)), {"attn_mask": np.ones((3, 4), bool)}, "attn_mask of shape"),
    (((3, 4), (5, 4), (5, 4)), {"attn_mask": np.ones((3, 5), bool), "is_causal": True},
     "not both"),
    (((3, 4), (5, 4), (5, 4)), {"attn_mask": np.ones((3, 5), np.int64)}, "bool or floating"),
    (((1, 3, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)), {"enable_gqa": True}, "multiple"),
    (((3, 4), (5, 4), (5, 4)), {"dropout_p": 1.5}, "dropout_p"),
])
def test_sdpa_bad_input_names_op_and_shapes(args, kwargs, match):
    q, k, v = (mnp.zeros(s) for s in args)
    with pytest.raises(mnp.MnpError, match="scaled_dot_product_attention") as info:
        F.scaled_dot_product_attention(q, k, v, **kwargs)
    assert match in str(info.value)


def test_sdpa_dtype_mismatch():
    with pytest.raises(mnp.DTypeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(mnp.zeros((2, 3)), mnp.zeros((2, 3), dtype=mnp.float64),
                                       mnp.zeros((2, 3)))



@pytest.mark.parametrize("which", [0, 1, 2])
def test_sdpa_input_changed_in_place_before_backward_is_an_autograd_error(rng, which):
    """Attention's backward reads q, k and v: changing one in place in between is caught,
    naming the version, as PyTorch does."""
    q, k, v = (mnp.tensor(rng.standard_normal((2, 3, 4, 8)), requires_grad=True) * 1.0
               for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    (q, k, v)[which].add_(1.0)
    with pytest.raises(mnp.AutogradError, match="modified by an inplace operation"):
        out.sum().backward()



@pytest.mark.parametrize("q_shape,kv_shape,ev", [((0, 4, 3, 8), (0, 4, 5, 8), 8),
                                                 ((2, 0, 8), (2, 5, 8), 3),
                                                 ((2, 3, 0), (2, 5, 0), 4)])
def test_sdpa_empty_dimensions_match_torch(torch, rng, q_shape, kv_shape, ev):
    """An empty batch, no queries, or zero-width heads (all scores 0: the mean of v), as torch."""
    q = rng.standard_normal(q_shape).astype(np.float32)
    k = rng.standard_normal(kv_shape).astype(np.float32)
    v = rng.standard_normal(kv_shape[:-1] + (ev,)).astype(np.float32)
    ours = F.scaled_dot_product_attention(*(mnp.tensor(a, requires_grad=True) for a in (q, k, v)))
    theirs = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    ours.sum().backward()


dims = st.integers(1, 5)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.integers(1, 3), max_size=2), qb=st.lists(st.booleans(), max_size=2),
       L=dims, S=dims, E=dims, Ev=dims, kind=st.sampled_from([None, "bool", "float"]),
       mask_full=st.lists(st.booleans(), min_size=4, max_size=4), mask_lead=st.integers(0, 2),
       causal=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_sdpa_shapes_and_masks_match_torch(torch, batch, qb, L, S, E, Ev, kind, mask_full,
                                           mask_lead, causal, seed):
    """Batch dims broadcast among query, key, value; the mask broadcasts over any of them and
    over L or S (given as size 1), with fewer leading dims; causal with any L, S."""
    rng = np.random.default_rng(seed)
    qbatch = tuple(1 if i < len(qb) and qb[i] else b for i, b in enumerate(batch))
    full = tuple(batch) + (L, S)
    mshape = tuple(n if keep else 1 for n, keep in zip(full, mask_full[-len(full):]))
    mshape = mshape[min(mask_lead, len(batch)):]
    mask = None if causal else _mask(kind, rng, mshape)   # key 0 always takes part
    tmask = None if mask is None else torch.tensor(mask)
    assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=tmask if tmask is None or kind == "bool" else tmask.float(),
            is_causal=causal),
        rng.standard_normal(qbatch + (L, E)), rng.standard_normal(tuple(batch) + (S, E)),
        rng.standard_normal(tuple(batch) + (S, Ev)), rng=rng)


def test_float_mask_that_requires_grad_gets_torchs_gradient(torch, rng):
    q, k, v = (rng.standard_normal(s) for s in ((2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 6)))
    mask = rng.standard_normal((4, 5))
    assert_matches_torch(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=m), q, k, v, mask, rng=rng)


def test_reference_kernels_keep_no_score_matrix(rng):
    """The forward saves only out and one log-sum-exp per row; the backward recomputes."""
    q, k, v = (rng.standard_normal(s) for s in ((2, 4, 3), (2, 6, 3), (2, 6, 5)))
    out, lse = attention_forward(q, k, v, None, True, 0.5)
    assert out.shape == (2, 4, 5) and lse.shape == (2, 4)
    s = q @ k.swapaxes(1, 2) * 0.5
    s[:, ~np.tri(4, 6, dtype=bool)] = -np.inf
    assert_close(lse, np.log(np.exp(s).sum(-1)), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    dq, dk, dv = attention_backward(g, q, k, v, out, lse, None, True, 0.5)
    assert (dq.shape, dk.shape, dv.shape) == (q.shape, k.shape, v.shape)


# -- MultiheadAttention ------------------------------------------------------------------
MHA_CASES = [
    {},
    {"batch_first": True},
    {"kdim": 6, "vdim": 7, "batch_first": True},
    {"kdim": 6, "vdim": 7},
    {"add_bias_kv": True, "add_zero_attn": True},
    {"bias": False, "batch_first": True},
]


def _mha_inputs(rng, kw, n=3, L=4, S=5, e=8):
    def shape(t, d):
        return (n, t, d) if kw.get("batch_first") else (t, n, d)
    return (rng.standard_normal(shape(L, e)), rng.standard_normal(shape(S, kw.get("kdim", e))),
            rng.standard_normal(shape(S, kw.get("vdim", e))))


@pytest.mark.parametrize("kw", MHA_CASES)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_torch_state_dict_loads_and_matches(torch, rng, kw, need_weights, average):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kw).eval()
    ours = nn.MultiheadAttention(8, 2, **kw).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    q, k, v = (a.astype(np.float32) for a in _mha_inputs(rng, kw))
    attn_mask = rng.random((4, 5)) > 0.7
    kpm = rng.random((3, 5)) > 0.7
    kpm[:, 0] = False
    out, w = ours(q, k, v, key_padding_mask=kpm, attn_mask=attn_mask, need_weights=need_weights,
                  average_attn_weights=average)
    with torch.no_grad():
        t_out, t_w = theirs(*map(torch.tensor, (q, k, v)), key_padding_mask=torch.tensor(kpm),
                            attn_mask=torch.tensor(attn_mask), need_weights=need_weights,
                            average_attn_weights=average)
    assert_close(np.nan_to_num(out.data, nan=7.0), np.nan_to_num(t_out.numpy(), nan=7.0), **F32)
    if need_weights:
        assert_close(np.nan_to_num(w.data, nan=7.0), np.nan_to_num(t_w.numpy(), nan=7.0), **F32)
    else:
        assert w is None


@pytest.mark.parametrize("kw", [{}, {"kdim": 6, "vdim": 7, "batch_first": True},
                                {"add_bias_kv": True, "add_zero_attn": True}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_gradients_match_torch(torch, rng, kw, need_weights):
    ours = nn.MultiheadAttention(8, 2, **kw)
    theirs = torch.nn.MultiheadAttention(8, 2, **kw)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    mask = np.triu(np.full((4, 5), -np.inf, np.float32), 1)
    assert_matches_torch(
        lambda q, k, v: ours(q, k, v, attn_mask=mask, need_weights=need_weights)[0],
        lambda q, k, v: theirs(q, k, v, attn_mask=torch.tensor(mask),
                               need_weights=need_weights)[0],
        *_mha_inputs(rng, kw), rng=rng)
    assert_parameter_grads_match(ours, theirs)


def test_mha_unbatched_and_init(torch, rng):
    mha = nn.MultiheadAttention(6, 3)
    assert np.all(mha.in_proj_bias.data == 0) and np.all(mha.out_proj.bias.data == 0)
    bound = np.sqrt(6.0 / (6 + 18))                       # xavier_uniform_ of (18, 6)
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    assert np.abs(mha.in_proj_weight.data).max() > 0.5 * bound
    theirs = torch.nn.MultiheadAttention(6, 3)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in mha.state_dict().items()})
    x = rng.standard_normal((4, 6)).astype(np.float32)
    out, w = mha(x, x, x)
    t_out, t_w = theirs(*(torch.tensor(x),) * 3)
    assert out.shape == (4, 6) and w.shape == (4, 4)
    assert_close(out, t_out.detach(), **F32)
    assert_close(w, t_w.detach(), **F32)


def test_mha_bad_input():
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(mnp.ShapeError, match="MultiheadAttention"):
        mha(mnp.zeros((4, 3, 6)), mnp.zeros((4, 3, 6)), mnp.zeros((4, 3, 6)))
    with pytest.raises(mnp.ShapeError, match=r"attn_mask of shape \(3, 3\)"):
        mha(mnp.zeros((4, 3, 8)), mnp.zeros((5, 3, 8)), mnp.zeros((5, 3, 8)),
            attn_mask=np.zeros((3, 3), bool))
    with pytest.raises(mnp.ArgumentError, match="is_causal"):
        mha(mnp.zeros((4, 3, 8)), mnp.zeros((4, 3, 8)), mnp.zeros((4, 3, 8)), is_causal=True)
    with pytest.raises(mnp.ArgumentError, match="multiple of num_heads"):
        nn.MultiheadAttention(8, 3)


def test_mha_saves_and_loads(tmp_path, rng):
    mha = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True, batch_first=True).eval()
    nn.save(mha, tmp_path / "mha.safetensors")
    back = nn.load(tmp_path / "mha.safetensors").eval()
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 8), (2, 5, 5), (2, 5, 3)))
    assert_close(back(q, k, v)[0], mha(q, k, v)[0], rtol=0, atol=0)


def test_mha_with_other_key_sizes_loads_within_the_default_budget(tmp_path):
    """Its sizes add up (embed_dim x (embed_dim + kdim + vdim)), they do not multiply."""
    mha = nn.MultiheadAttention(256, 8, kdim=128, vdim=96)
    nn.save(mha, tmp_path / "mha.safetensors")
    assert nn.load(tmp_path / "mha.safetensors").kdim == 128
    assert nn.MultiheadAttention.config_size(mha.get_config()) >= mha.num_parameters()


def test_sdpa_float16_storage_matches_torch(torch, rng):
    """float16 inputs are computed in float32 and stored as float16, as PyTorch's CPU kernel."""
    q, k, v = (rng.standard_normal(s) for s in ((2, 5, 8), (2, 7, 8), (2, 7, 4)))
    mask = rng.random((5, 7)) > 0.3
    mask[:, 0] = True
    assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=torch.tensor(mask)),
        q, k, v, rng=rng, dtype=np.float16, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_per_head_float_masks_match_torch(torch, rng, need_weights):
    """A 3-d attn_mask (N * num_heads, L, S) and a float key_padding_mask, as PyTorch."""
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    q, k, v = (a.astype(np.float32) for a in _mha_inputs(rng, {"batch_first": True}))
    mask = rng.standard_normal((3 * 2, 4, 5)).astype(np.float32)
    kpm = np.where(rng.random((3, 5)) > 0.7, -np.inf, 0.0).astype(np.float32)
    kpm[:, 0] = 0
    out, _ = ours(q, k, v, attn_mask=mask, key_padding_mask=kpm, need_weights=need_weights)
    with torch.no_grad():
        t_out, _ = theirs(*map(torch.tensor, (q, k, v)), attn_mask=torch.tensor(mask),
                          key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    assert_close(out, t_out, **F32)
