"""The added losses (Huber, SmoothL1, KLDiv, PoissonNLL, GaussianNLL, SoftMargin,
MultiLabelSoftMargin, MarginRanking, HingeEmbedding, CosineEmbedding, TripletMargin,
MultiMargin) against PyTorch: values, input (and target, where PyTorch differentiates it)
gradients, the three reductions, float32/float64, float64 finite differences, errors and
registration."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import F32, assert_close, assert_matches_torch

pytestmark = [pytest.mark.filterwarnings("ignore:Using a target size"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides"),
              pytest.mark.filterwarnings("ignore:size_average and reduce")]

F64 = {"rtol": 1e-10, "atol": 1e-12}
RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
SIGN = np.where(RNG.standard_normal((4, 5)) > 0, 1.0, -1.0)
P = np.abs(Y) / np.abs(Y).sum(axis=1, keepdims=True)
COUNTS = np.round(np.abs(Y) * 3)                  # includes 0, 1 and > 1 (Stirling)
CLASSES = np.array([0, 4, 2, 1])


def _check(ours, theirs, grads, consts=(), dtype=np.float64, **kw):
    """``ours(*grads, *consts)`` against ``theirs`` (given torch.nn.functional), differentiating
    only ``grads``."""
    import torch
    T = torch.nn.functional
    tol = F32 if dtype == np.float32 else F64
    cm = [mnp.tensor(np.asarray(c, dtype if np.asarray(c).dtype.kind == "f" else None))
          for c in consts]
    ct = [torch.tensor(np.asarray(c, dtype if np.asarray(c).dtype.kind == "f" else None))
          for c in consts]
    assert_matches_torch(lambda *a: ours(*a, *cm), lambda *a: theirs(T)(*a, *ct), *grads,
                         dtype=dtype, **{**tol, **kw})


# name, mnp form (..., reduction), torch form builder, differentiated inputs, constant inputs
CASES = [
    ("huber", lambda x, y, r: F.huber_loss(x, y, r, 0.7),
     lambda T: lambda x, y, r: T.huber_loss(x, y, r, 0.7), (X, Y), ()),
    ("huber_kink", lambda x, y, r: F.huber_loss(x, y, r, 0.5),
     lambda T: lambda x, y, r: T.huber_loss(x, y, r, 0.5), (np.array([0.5, -0.5, 0.0, 2.0]),),
     (np.zeros(4),)),
    ("smooth_l1", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.7),
     lambda T: lambda x, y, r: T.smooth_l1_loss(x, y, reduction=r, beta=0.7), (X, Y), ()),
    ("smooth_l1_beta0", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0),
     lambda T: lambda x, y, r: T.smooth_l1_loss(x, y, reduction=r, beta=0.0), (X, Y), ()),
    ("smooth_l1_broadcast", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r),
     lambda T: lambda x, y, r: T.smooth_l1_loss(x, y, reduction=r), (X, Y[0]), ()),
    ("kl_div", lambda x, y, r: F.kl_div(x, y, reduction=r),
     lambda T: lambda x, y, r: T.kl_div(x, y, reduction=r), (X, P), ()),
    ("kl_div_log_target", lambda x, y, r: F.kl_div(x, y, reduction=r, log_target=True),
     lambda T: lambda x, y, r: T.kl_div(x, y, reduction=r, log_target=True), (X, np.log(P)), ()),
    ("poisson_nll", lambda x, y, r: F.poisson_nll_loss(x, y, reduction=r),
     lambda T: lambda x, y, r: T.poisson_nll_loss(x, y, reduction=r), (X,), (COUNTS,)),
    ("poisson_nll_full_rate", lambda x, y, r: F.poisson_nll_loss(x, y, False, True, reduction=r),
     lambda T: lambda x, y, r: T.poisson_nll_loss(x, y, False, True, reduction=r),
     (np.abs(X) + 0.1,), (COUNTS,)),
    ("gaussian_nll", lambda x, y, v, r: F.gaussian_nll_loss(x, y, v, reduction=r),
     lambda T: lambda x, y, v, r: T.gaussian_nll_loss(x, y, v, reduction=r),
     (X, Y, np.abs(Y) + 0.1), ()),
    ("gaussian_nll_homoscedastic_full",
     lambda x, y, v, r: F.gaussian_nll_loss(x, y, v, full=True, eps=1e-3, reduction=r),
     lambda T: lambda x, y, v, r: T.gaussian_nll_loss(x, y, v, full=True, eps=1e-3, reduction=r),
     (X, Y, np.array([0.5, 1e-5, 2.0, 0.0])), ()),         # two entries below eps: clamped
    ("gaussian_nll_one_dim", lambda x, y, v, r: F.gaussian_nll_loss(x, y, v, reduction=r),
     lambda T: lambda x, y, v, r: T.gaussian_nll_loss(x, y, v, reduction=r),
     (X, Y, np.abs(Y[:, :1]) + 0.1), ()),
    ("soft_margin", lambda x, y, r: F.soft_margin_loss(x, y, reduction=r),
     lambda T: lambda x, y, r: T.soft_margin_loss(x, y, reduction=r), (X,), (SIGN,)),
    ("multilabel_soft_margin", lambda x, y, w, r: F.multilabel_soft_margin_loss(x, y, w, reduction=r),
     lambda T: lambda x, y, w, r: T.multilabel_soft_margin_loss(x, y, w, reduction=r), (X,),
     ((SIGN > 0) * 1.0, np.abs(Y[0]))),
    ("margin_ranking", lambda a, b, y, r: F.margin_ranking_loss(a, b, y, 0.3, reduction=r),
     lambda T: lambda a, b, y, r: T.margin_ranking_loss(a, b, y, 0.3, reduction=r),
     (X[0], Y[0], SIGN[0]), ()),
    ("margin_ranking_kink", lambda a, b, y, r: F.margin_ranking_loss(a, b, y, 1.0, reduction=r),
     lambda T: lambda a, b, y, r: T.margin_ranking_loss(a, b, y, 1.0, reduction=r),
     (np.array([1.0, 0.0]), np.array([0.0, 0.0])), (np.array([1.0, 1.0]),)),    # a hinge at 0
    ("hinge_embedding", lambda x, y, r: F.hinge_embedding_loss(x, y, 0.3, reduction=r),
     lambda T: lambda x, y, r: T.hinge_embedding_loss(x, y, 0.3, reduction=r), (X,), (SIGN,)),
    ("cosine_embedding", lambda a, b, y, r: F.cosine_embedding_loss(a, b, y, 0.2, reduction=r),
     lambda T: lambda a, b, y, r: T.cosine_embedding_loss(a, b, y, 0.2, reduction=r),
     (X, Y), (SIGN[:, 0],)),
    ("cosine_embedding_1d", lambda a, b, y, r: F.cosine_embedding_loss(a, b, y, reduction=r),
     lambda T: lambda a, b, y, r: T.cosine_embedding_loss(a, b, y, reduction=r),
     (X[0], Y[0]), (np.array(-1.0),)),
    ("triplet", lambda a, p, n, r: F.triplet_margin_loss(a, p, n, reduction=r),
     lambda T: lambda a, p, n, r: T.triplet_margin_loss(a, p, n, reduction=r), (X, Y, X[::-1] * 0.5), ()),
    ("triplet_p1_swap", lambda a, p, n, r: F.triplet_margin_loss(a, p, n, 2.0, 1, swap=True, reduction=r),
     lambda T: lambda a, p, n, r: T.triplet_margin_loss(a, p, n, 2.0, 1, swap=True, reduction=r),
     (X, Y, X[::-1] * 0.5), ()),
    ("triplet_p3_1d", lambda a, p, n, r: F.triplet_margin_loss(a, p, n, p=3, reduction=r),
     lambda T: lambda a, p, n, r: T.triplet_margin_loss(a, p, n, p=3, reduction=r), (X[0], Y[0], X[1]), ()),
    ("multi_margin", lambda x, y, r: F.multi_margin_loss(x, y, reduction=r),
     lambda T: lambda x, y, r: T.multi_margin_loss(x, y, reduction=r), (X,), (CLASSES,)),
    ("multi_margin_p2_weight", lambda x, y, w, r: F.multi_margin_loss(x, y, 2, 0.8, w, reduction=r),
     lambda T: lambda x, y, w, r: T.multi_margin_loss(x, y, 2, 0.8, w, reduction=r), (X,),
     (CLASSES, np.abs(Y[0]))),
    ("multi_margin_1d", lambda x, y, r: F.multi_margin_loss(x, y, reduction=r),
     lambda T: lambda x, y, r: T.multi_margin_loss(x, y, reduction=r), (X[0],), (np.array(3),)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,ours,theirs,grads,consts", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(torch, name, ours, theirs, grads, consts, reduction):
    _check(lambda *a: ours(*a, reduction), lambda T: lambda *a: theirs(T)(*a, reduction),
           grads, consts)


@pytest.mark.parametrize("name,ours,theirs,grads,consts", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_loss_float32_matches_torch(torch, name, ours, theirs, grads, consts):
    _check(lambda *a: ours(*a, "mean"), lambda T: lambda *a: theirs(T)(*a, "mean"), grads, consts,
           dtype=np.float32)
    y = ours(*(mnp.tensor(g, dtype=mnp.float32) for g in grads),
             *(mnp.tensor(c, dtype=mnp.float32 if np.asarray(c).dtype.kind == "f" else None)
               for c in consts), "mean")
    assert y.dtype == mnp.float32


def test_kl_div_batchmean_matches_torch(torch):
    for log_target in (False, True):
        t = np.log(P) if log_target else P
        _check(lambda x, y: F.kl_div(x, y, reduction="batchmean", log_target=log_target),
               lambda T: lambda x, y: T.kl_div(x, y, reduction="batchmean", log_target=log_target),
               (X, t))


def test_huber_weight_and_gaussian_float_var_match_torch(torch):
    for reduction in ("mean", "sum", "none"):
        _check(lambda x, y, w: F.huber_loss(x, y, reduction, 0.8, w),
               lambda T: lambda x, y, w: T.huber_loss(x, y, reduction, 0.8, w), (X, Y, np.abs(X)))
        _check(lambda x, y: F.gaussian_nll_loss(x, y, 0.7, reduction=reduction),
               lambda T: lambda x, y: T.gaussian_nll_loss(x, y, 0.7, reduction=reduction), (X, Y))
    with pytest.raises(mnp.ShapeError, match=r"huber_loss: weight of shape \(5,\)"):
        F.huber_loss(mnp.tensor(X), mnp.tensor(Y), weight=mnp.ones(5))
    with pytest.raises(mnp.ArgumentError, match=r"gaussian_nll_loss: var has negative .*-1"):
        F.gaussian_nll_loss(mnp.tensor(X), mnp.tensor(Y), -1.0)


def test_kl_div_zero_target_is_zero():
    x = mnp.tensor([-1.0, -2.0], dtype=mnp.float64, requires_grad=True)
    y = F.kl_div(x, mnp.tensor([0.0, 1.0], dtype=mnp.float64), reduction="none")
    assert y.tolist() == [0.0, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, -1.0]


def test_legacy_size_average_and_reduce(torch):
    _check(lambda x, y: F.smooth_l1_loss(x, y, False), lambda T: lambda x, y: T.smooth_l1_loss(x, y, False),
           (X, Y))
    _check(lambda x, y: F.soft_margin_loss(x, y, reduce=False),
           lambda T: lambda x, y: T.soft_margin_loss(x, y, reduce=False), (X,), (SIGN,))
    assert nn.SmoothL1Loss(reduce=False).reduction == "none"
    assert nn.MarginRankingLoss(size_average=False).reduction == "sum"


GRAD_CHECKS = [
    lambda x, y: F.huber_loss(x, y, delta=0.6),
    lambda x, y: F.smooth_l1_loss(x, y, beta=0.6),
    lambda x, y: F.kl_div(x, mnp.softmax(y, axis=1), reduction="batchmean"),
    lambda x, y: F.kl_div(x, y, log_target=True),
    lambda x, y: F.poisson_nll_loss(x, mnp.tensor(COUNTS), full=True),
    lambda x, y: F.gaussian_nll_loss(x, y, mnp.abs(y) + 0.5, full=True),
    lambda x, y: F.soft_margin_loss(x, mnp.tensor(SIGN)),
    lambda x, y: F.multilabel_soft_margin_loss(x, mnp.tensor((SIGN > 0) * 1.0)),
    lambda x, y: F.margin_ranking_loss(x[0], y[0], mnp.tensor(SIGN[0]), 0.1),
    lambda x, y: F.hinge_embedding_loss(x, mnp.tensor(SIGN), 2.5),
    lambda x, y: F.cosine_embedding_loss(x, y, mnp.tensor(SIGN[:, 0]), -0.5),
    lambda x, y: F.triplet_margin_loss(x, y, x.flip(0) * 0.5, 2.0, swap=True),
    lambda x, y: F.multi_margin_loss(x, mnp.tensor(CLASSES), 2, 2.5),
]


@pytest.mark.parametrize("i", range(len(GRAD_CHECKS)))
def test_loss_grad_check_float64(i):
    x = mnp.tensor(X, dtype=mnp.float64, requires_grad=True)
    y = mnp.tensor(Y, dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(GRAD_CHECKS[i], [x, y])


def test_modules_match_functional_forms():
    x, y = mnp.tensor(X), mnp.tensor(Y)
    s, v = mnp.tensor(SIGN), mnp.abs(y) + 0.1
    pairs = [
        (nn.HuberLoss(delta=0.5)(x, y), F.huber_loss(x, y, delta=0.5)),
        (nn.SmoothL1Loss(beta=0.5, reduction="sum")(x, y), F.smooth_l1_loss(x, y, reduction="sum", beta=0.5)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True)(x, y),
         F.kl_div(x, y, reduction="batchmean", log_target=True)),
        (nn.PoissonNLLLoss(log_input=False, full=True)(mnp.abs(x), y),
         F.poisson_nll_loss(mnp.abs(x), y, False, True)),
        (nn.GaussianNLLLoss(full=True)(x, y, v), F.gaussian_nll_loss(x, y, v, True)),
        (nn.SoftMarginLoss()(x, s), F.soft_margin_loss(x, s)),
        (nn.MultiLabelSoftMarginLoss(weight=mnp.ones(5) * 2)(x, s), F.multilabel_soft_margin_loss(x, s) * 2),
        (nn.MarginRankingLoss(0.5)(x, y, s), F.margin_ranking_loss(x, y, s, 0.5)),
        (nn.HingeEmbeddingLoss(0.5, reduction="none")(x, s), F.hinge_embedding_loss(x, s, 0.5, reduction="none")),
        (nn.CosineEmbeddingLoss(0.5)(x, y, s[:, 0]), F.cosine_embedding_loss(x, y, s[:, 0], 0.5)),
        (nn.TripletMarginLoss(p=1, swap=True)(x, y, -x), F.triplet_margin_loss(x, y, -x, p=1, swap=True)),
        (nn.MultiMarginLoss(p=2, weight=mnp.ones(5))(x, mnp.tensor(CLASSES)),
         F.multi_margin_loss(x, mnp.tensor(CLASSES), 2)),
    ]
    for i, (a, b) in enumerate(pairs):
        assert_close(a, b, rtol=1e-6, atol=1e-7, what=str(i))


def test_loss_errors():
    z = mnp.zeros((2, 3))
    with pytest.raises(mnp.ArgumentError, match="huber_loss: delta must be positive"):
        F.huber_loss(z, z, delta=0.0)
    with pytest.raises(mnp.ArgumentError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(z, z, beta=-1.0)
    with pytest.raises(mnp.ArgumentError, match="kl_div: reduction must be one of"):
        F.kl_div(z, z, reduction="batch")
    with pytest.raises(mnp.ShapeError, match=r"huber_loss: input of shape \(2, 3\) and target of shape \(4,\)"):
        F.huber_loss(z, mnp.zeros(4))
    with pytest.raises(mnp.ArgumentError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(z, z, -mnp.ones((2, 3)))
    with pytest.raises(mnp.ShapeError, match=r"gaussian_nll_loss: var of shape \(3, 3\)"):
        F.gaussian_nll_loss(z, z, mnp.ones((3, 3)))
    with pytest.raises(mnp.ShapeError, match="margin_ranking_loss: all input tensors"):
        F.margin_ranking_loss(z, z, mnp.ones(3))
    with pytest.raises(mnp.ShapeError, match=r"cosine_embedding_loss: .*target \(3,\)"):
        F.cosine_embedding_loss(z, z, mnp.ones(3))
    with pytest.raises(mnp.ShapeError, match="triplet_margin_loss: anchor, positive and negative"):
        F.triplet_margin_loss(z, z, mnp.zeros(3))
    with pytest.raises(mnp.ArgumentError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(z, z, z, margin=0.0)
    with pytest.raises(mnp.ArgumentError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(z, mnp.tensor([0, 1]), p=3)
    with pytest.raises(IndexError, match="multi_margin_loss: target 3 is out of range for 3 classes"):
        F.multi_margin_loss(z, mnp.tensor([0, 3]))
    with pytest.raises(mnp.DTypeError, match="multi_margin_loss: target must hold int"):
        F.multi_margin_loss(z, mnp.tensor([0.0, 1.0]))
    with pytest.raises(mnp.ArgumentError, match="HuberLoss: reduction must be one of"):
        nn.HuberLoss(reduction="avg")


def test_losses_are_registered():
    for name in ("HuberLoss", "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
                 "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MarginRankingLoss",
                 "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
                 "MultiMarginLoss"):
        assert mnp.lookup("losses", name) is getattr(nn, name), name


# -- CTC ----------------------------------------------------------------------------------------
def _log_softmax(x):
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


LP = _log_softmax(np.random.default_rng(3).standard_normal((7, 4, 5)))
CTC_TARGETS = np.array([[1, 2, 2], [3, 1, 0], [1, 1, 1], [4, 0, 0]])
CTC_INPUT_LENGTHS = [7, 5, 6, 7]
CTC_TARGET_LENGTHS = [3, 2, 3, 0]            # repeats, a shorter input, an empty target


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_matches_torch(torch, reduction, zero_infinity):
    _check(lambda lp, t: F.ctc_loss(lp, t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, blank=0,
                                    reduction=reduction, zero_infinity=zero_infinity),
           lambda T: lambda lp, t: T.ctc_loss(lp, t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, 0,
                                               reduction, zero_infinity),
           (LP,), (CTC_TARGETS,))


def test_ctc_loss_variants_match_torch(torch):
    # concatenated targets, another blank, tensor lengths, float32
    flat = np.array([1, 3, 3, 3, 4, 1, 1, 4])
    lengths = (np.array([7, 5, 6, 7]), np.array([3, 2, 3, 0]))
    for dtype in (np.float64, np.float32):
        _check(lambda lp, t, il, tl: F.ctc_loss(lp, t, il, tl, blank=2),
               lambda T: lambda lp, t, il, tl: T.ctc_loss(lp, t, il, tl, blank=2),
               (LP,), (flat,) + lengths, dtype=dtype)
    # unbatched: (T, C) log-probabilities, (S,) targets, 0-d lengths
    for reduction in ("none", "mean"):
        _check(lambda lp, t: F.ctc_loss(lp, t, 7, 2, reduction=reduction),
               lambda T: lambda lp, t: T.ctc_loss(lp, t, torch.tensor(7), torch.tensor(2),
                                                   reduction=reduction),
               (LP[:, 0],), (np.array([3, 3]),))


def test_ctc_impossible_alignment_is_infinite_or_zeroed(torch):
    lp = mnp.tensor(LP, dtype=mnp.float64, requires_grad=True)
    t = mnp.tensor(CTC_TARGETS)
    short = [2, 5, 6, 7]                          # 3 labels cannot fit in 2 frames
    y = F.ctc_loss(lp, t, short, CTC_TARGET_LENGTHS, reduction="none")
    ty = torch.nn.functional.ctc_loss(torch.tensor(LP), torch.tensor(CTC_TARGETS), short,
                                      CTC_TARGET_LENGTHS, reduction="none")
    assert np.isinf(y.numpy()[0]) and np.isinf(ty.numpy()[0])
    z = F.ctc_loss(lp, t, short, CTC_TARGET_LENGTHS, reduction="sum", zero_infinity=True)
    z.backward()
    assert (lp.grad.numpy()[:, 0] == 0).all()
    assert np.isfinite(lp.grad.numpy()).all()


def test_ctc_loss_grad_check_float64():
    """Through a log-softmax (how CTC is used), PyTorch's gradient is the exact one."""
    logits = mnp.tensor(np.random.default_rng(4).standard_normal((4, 2, 3)), dtype=mnp.float64,
                        requires_grad=True)
    targets = mnp.tensor([[1, 1], [2, 0]])
    assert mnp.grad_check(lambda z: F.ctc_loss(mnp.log_softmax(z, axis=2), targets, [4, 3], [2, 1],
                                               reduction="none"), [logits])


def test_ctc_module_and_errors(torch):
    lp, t = mnp.tensor(LP), mnp.tensor(CTC_TARGETS)
    loss = nn.CTCLoss(reduction="sum")
    assert_close(loss(lp, t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS),
                 F.ctc_loss(lp, t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, reduction="sum"))
    assert repr(nn.CTCLoss()) == repr(torch.nn.CTCLoss())
    assert mnp.lookup("losses", "CTCLoss") is nn.CTCLoss
    with pytest.raises(mnp.ArgumentError, match=r"ctc_loss: input_lengths must be at most T=7, got 8"):
        F.ctc_loss(lp, t, [8, 5, 6, 7], CTC_TARGET_LENGTHS)
    with pytest.raises(mnp.ShapeError, match=r"ctc_loss: target_lengths 4 exceeds .* \(4, 3\)"):
        F.ctc_loss(lp, t, CTC_INPUT_LENGTHS, [4, 2, 3, 0])
    with pytest.raises(mnp.ShapeError, match="ctc_loss: concatenated targets hold 3 labels"):
        F.ctc_loss(lp, mnp.tensor([1, 2, 3]), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(mnp.ShapeError, match=r"ctc_loss: input_lengths must have one entry per sample \(4\)"):
        F.ctc_loss(lp, t, [7, 7], CTC_TARGET_LENGTHS)
    with pytest.raises(mnp.ArgumentError, match=r"ctc_loss: blank must be in the label range \[0, 5\), got 5"):
        F.ctc_loss(lp, t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, blank=5)
    with pytest.raises(IndexError, match="ctc_loss: target 9 is out of range for 5 classes"):
        F.ctc_loss(lp, mnp.tensor([[9, 1, 1]] * 4), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(mnp.DTypeError, match="ctc_loss: targets must hold integer"):
        F.ctc_loss(lp, mnp.tensor(CTC_TARGETS * 1.0), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(mnp.ShapeError, match=r"ctc_loss: expected log_probs \(T, N, C\) or \(T, C\)"):
        F.ctc_loss(mnp.zeros(3), t, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
