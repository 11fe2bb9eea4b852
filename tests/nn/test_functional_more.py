"""The added functional pieces against PyTorch: cosine_similarity, pairwise_distance,
normalize (and the CosineSimilarity, PairwiseDistance layers), one_hot, embedding, and the
channel and alpha dropouts (Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout): their
masks, scaling, gradients, statistics, eval mode, reprs and errors."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.nn.dropout import ALPHA_PRIME
from mnp.core.testing import F32, assert_close, assert_matches_torch

F64 = {"rtol": 1e-10, "atol": 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("s1,s2,dim", [((4, 3), (4, 3), 1), ((4, 3), (3,), 0), ((2, 3, 4), (1, 3, 1), 1),
                                       ((2, 5), (2, 5), -1)])
def test_cosine_similarity_matches_torch(torch, rng, s1, s2, dim, dtype):
    tol = F32 if dtype == np.float32 else F64
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    assert_matches_torch(lambda a, b: F.cosine_similarity(a, b, dim),
                         lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim), a, b,
                         rng=rng, dtype=dtype, **tol)
    assert_matches_torch(nn.CosineSimilarity(dim), torch.nn.CosineSimilarity(dim), a, b, rng=rng,
                         dtype=dtype, **tol)


def test_cosine_similarity_of_zero_vectors_matches_torch(torch):
    a = np.array([[0.0, 0.0], [1.0, 2.0]])
    assert_matches_torch(F.cosine_similarity, torch.nn.functional.cosine_similarity, a, a[::-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("p,keepdim,s2", [(2.0, False, (4, 3)), (1.0, True, (3,)), (3.0, False, (4, 3)),
                                          (float("inf"), False, (4, 3))])
def test_pairwise_distance_matches_torch(torch, rng, p, keepdim, s2, dtype):
    tol = F32 if dtype == np.float32 else F64
    a, b = rng.standard_normal((4, 3)), rng.standard_normal(s2)
    assert_matches_torch(lambda a, b: F.pairwise_distance(a, b, p, 1e-3, keepdim),
                         lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, 1e-3, keepdim),
                         a, b, rng=rng, dtype=dtype, **tol)
    assert_matches_torch(nn.PairwiseDistance(p, keepdim=keepdim),
                         torch.nn.PairwiseDistance(p, keepdim=keepdim), a, b, rng=rng, dtype=dtype, **tol)


def test_pairwise_distance_of_equal_inputs_matches_torch(torch):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert_matches_torch(F.pairwise_distance, torch.nn.functional.pairwise_distance, a, a.copy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(torch, rng, p, dim, dtype):
    tol = F32 if dtype == np.float32 else F64
    x = rng.standard_normal((3, 4, 2))
    x[0, :, 0] = 0.0                               # a zero vector stays zero
    assert_matches_torch(lambda x: F.normalize(x, p, dim),
                         lambda x: torch.nn.functional.normalize(x, p, dim), x, rng=rng,
                         dtype=dtype, **tol)


def test_vector_grad_checks_float64(rng):
    a = mnp.tensor(rng.standard_normal((3, 4)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal((3, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a, b: F.cosine_similarity(a, b), [a, b])
    assert mnp.grad_check(lambda a, b: F.pairwise_distance(a, b, 3.0), [a, b])
    assert mnp.grad_check(lambda a: F.normalize(a, dim=0), [a])


def test_vector_reprs_and_errors(torch):
    assert repr(nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    assert repr(nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    with pytest.raises(mnp.ShapeError, match="cosine_similarity"):
        F.cosine_similarity(mnp.zeros((2, 3)), mnp.zeros((2, 4)))
    with pytest.raises(mnp.ArgumentError, match="pairwise_distance: .* hold no vectors"):
        F.pairwise_distance(mnp.tensor(1.0), mnp.tensor(2.0))
    with pytest.raises(mnp.ArgumentError, match="normalize: out="):
        F.normalize(mnp.zeros(3), out=mnp.zeros(3))


def test_one_hot_matches_torch(torch):
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        ours = F.one_hot(mnp.tensor(idx), n)
        theirs = torch.nn.functional.one_hot(torch.tensor(idx), n)
        assert ours.dtype == mnp.int64 and ours.shape == tuple(theirs.shape)
        assert (ours.numpy() == theirs.numpy()).all()
    with pytest.raises(mnp.ArgumentError, match="one_hot: class value 3 is out of range"):
        F.one_hot(mnp.tensor([3]), 3)


def test_embedding_matches_torch(torch, rng):
    idx = np.array([[0, 2, 4], [4, 1, 1]])
    w = rng.standard_normal((5, 3)) * 2
    assert_matches_torch(lambda w: F.embedding(mnp.tensor(idx), w, padding_idx=1),
                         lambda w: torch.nn.functional.embedding(torch.tensor(idx), w, padding_idx=1),
                         w, rng=rng)
    ours, theirs = mnp.tensor(w), torch.tensor(w)
    y = F.embedding(mnp.tensor(idx), ours, max_norm=1.0)
    ty = torch.nn.functional.embedding(torch.tensor(idx), theirs, max_norm=1.0)
    assert_close(y, ty, **F64)
    assert_close(ours, theirs, **F64)                     # renormalised in place, as torch


# -- dropouts ---------------------------------------------------------------------------------
CHANNEL = [(F.dropout1d, (3, 4, 5), False), (F.dropout1d, (4, 5), True),
           (F.dropout2d, (3, 4, 2, 5), False), (F.dropout2d, (3, 4, 5), False),
           (F.dropout3d, (3, 4, 2, 2, 5), False), (F.dropout3d, (4, 2, 2, 5), True)]


@pytest.mark.parametrize("fn,shape,unbatched", CHANNEL,
                         ids=[f"{c[0].__name__}-{len(c[1])}d" for c in CHANNEL])
def test_channel_dropout_drops_whole_channels(fn, shape, unbatched):
    mnp.manual_seed(3)
    x = mnp.tensor(np.random.default_rng(0).uniform(1, 2, shape), dtype=mnp.float64,
                   requires_grad=True)
    y = fn(x, 0.4)
    ratio = y.numpy() / x.numpy()
    assert (np.isclose(ratio, 0.0) | np.isclose(ratio, 1 / 0.6, rtol=1e-12)).all()
    kept = ~np.isclose(ratio, 0.0).reshape((shape[0], -1) if unbatched else shape[:2] + (-1,))
    assert (kept == kept[..., :1]).all()                 # one draw per (sample, channel)
    assert 0 < kept[..., 0].sum() < kept[..., 0].size
    g = np.random.default_rng(1).standard_normal(shape)
    (y * mnp.tensor(g)).sum().backward()
    assert_close(x.grad, g * ratio, **F64)
    assert fn(x, 0.4, training=False) is x
    assert (fn(x, 1.0).numpy() == 0).all()
    assert_close(fn(x, 0.0), x, rtol=0, atol=0)


def test_channel_dropout_rate():
    mnp.manual_seed(0)
    y = F.dropout2d(mnp.ones((200, 50, 2, 2)), 0.3)
    assert abs((y.numpy()[:, :, 0, 0] == 0).mean() - 0.3) < 0.02


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_values_and_statistics(feature):
    mnp.manual_seed(0)
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    p = 0.3
    a = 1 / np.sqrt((ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    x = mnp.tensor(np.random.default_rng(0).standard_normal((400, 50, 4)), requires_grad=True)
    y = fn(x, p, training=True)
    dropped = np.isclose(y.numpy(), -ALPHA_PRIME * a * (1 - p), atol=1e-6)
    kept = np.isclose(y.numpy(), a * x.numpy() + ALPHA_PRIME * a * p, atol=1e-5)
    assert (dropped | kept).all()
    if feature:
        assert (dropped == dropped[..., :1]).all()
    assert abs(dropped.mean() - p) < 0.02
    assert abs(y.numpy().mean()) < 0.03 and abs(y.numpy().std() - 1) < 0.03
    y.sum().backward()
    assert_close(x.grad, np.where(dropped & ~kept, 0.0, a), rtol=1e-6, atol=1e-6)
    assert fn(x, p) is x                                   # training=False by default
    assert (fn(x, 1.0, training=True).numpy() == 0).all()


def test_dropout_layers_match_torch_reprs_and_modes(torch):
    for name in ("Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        layer = getattr(nn, name)(0.2)
        assert repr(layer) == repr(getattr(torch.nn, name)(0.2))
        x = mnp.randn(2, 3, 4, 4, 4)[:, :, 0] if name != "Dropout3d" else mnp.randn(2, 3, 2, 2, 2)
        if name == "Dropout1d":
            x = x[:, :, 0]
        assert layer.eval()(x) is x
        assert layer.train()(x).shape == x.shape
        assert mnp.lookup("layers", name) is getattr(nn, name)


def test_dropout_errors():
    with pytest.raises(mnp.ShapeError, match=r"dropout1d: expected a 2-d or 3-d input, got shape \(2, 3, 4, 5\)"):
        F.dropout1d(mnp.zeros((2, 3, 4, 5)))
    with pytest.raises(mnp.ShapeError, match=r"dropout2d: expected a 3-d or 4-d input"):
        F.dropout2d(mnp.zeros((2, 3)))
    with pytest.raises(mnp.ShapeError, match=r"dropout3d: expected a 4-d or 5-d input"):
        F.dropout3d(mnp.zeros((2, 3, 4)))
    with pytest.raises(mnp.ShapeError, match="feature_alpha_dropout: expected an input"):
        F.feature_alpha_dropout(mnp.zeros(3), training=True)
    with pytest.raises(mnp.ArgumentError, match=r"alpha_dropout: p must be in \[0, 1\], got 1.5"):
        F.alpha_dropout(mnp.zeros(3), 1.5)
    with pytest.raises(mnp.ArgumentError, match="Dropout2d: p must be in"):
        nn.Dropout2d(-0.1)
