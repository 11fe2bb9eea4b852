"""Every loss against PyTorch (value and gradients, every reduction), float64 grad checks,
numerical stability and bad input."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import F32, assert_close

REDUCTIONS = ["mean", "sum", "none"]


def _compare(ours, theirs, inputs, torch, rng, grad_of=(0,)):
    """Run ``ours`` and ``theirs`` on the numpy ``inputs``; compare output and the gradients of
    the inputs listed in ``grad_of``. Integer inputs are passed as they are."""
    m = [mnp.tensor(a, requires_grad=(i in grad_of)) for i, a in enumerate(inputs)]
    t = [torch.tensor(a, requires_grad=(i in grad_of)) for i, a in enumerate(inputs)]
    y, yt = ours(*m), theirs(*t)
    assert_close(y, yt, **F32, what="loss")
    g = rng.standard_normal(yt.shape).astype(np.float32) if yt.ndim else np.float32(1.7)
    y.backward(mnp.tensor(g))
    yt.backward(torch.tensor(g))
    for i in grad_of:
        assert_close(m[i].grad, t[i].grad, **F32, what=f"grad of input {i}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses_match_torch(torch, rng, name, reduction):
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((4, 3)).astype(np.float32)
    _compare(getattr(nn, name)(reduction=reduction), getattr(torch.nn, name)(reduction=reduction),
             [a, b], torch, rng, grad_of=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(torch, rng, reduction):
    p = rng.uniform(0.02, 0.98, (5, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (5, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (3,)).astype(np.float32)
    _compare(nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), [p, y],
             torch, rng, grad_of=(0, 1))
    _compare(nn.BCELoss(weight=w, reduction=reduction),
             torch.nn.BCELoss(weight=torch.from_numpy(w), reduction=reduction), [p, y], torch, rng)


def test_bce_clamps_log_at_minus_100(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], np.float32)
    ours = F.binary_cross_entropy(mnp.tensor(p), mnp.tensor(y), reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y),
                                                      reduction="none")
    assert_close(ours, theirs)
    assert np.allclose(ours.data, [100, 100, 0, 0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_matches_torch(torch, rng, reduction, weighted):
    x = (rng.standard_normal((6, 4)) * 5).astype(np.float32)
    y = rng.uniform(0, 1, (6, 4)).astype(np.float32)
    kw_ours, kw_theirs = {}, {}
    if weighted:
        w = rng.uniform(0.5, 2, (4,)).astype(np.float32)
        pw = rng.uniform(0.5, 3, (4,)).astype(np.float32)
        kw_ours = {"weight": w, "pos_weight": pw}
        kw_theirs = {"weight": torch.from_numpy(w), "pos_weight": torch.from_numpy(pw)}
    _compare(nn.BCEWithLogitsLoss(reduction=reduction, **kw_ours),
             torch.nn.BCEWithLogitsLoss(reduction=reduction, **kw_theirs), [x, y], torch, rng,
             grad_of=(0, 1))


def test_bce_with_logits_is_stable():
    x = mnp.tensor([1000.0, -1000.0, 50.0, -50.0], requires_grad=True)
    y = mnp.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert np.allclose(loss.data, [0, 0, 50, 50])
    loss.sum().backward()
    assert np.allclose(x.grad.data, [0, 0, 1, -1])


CE_CASES = [  # logits shape, kwargs
    ((5, 4), {}),
    ((5, 4), {"label_smoothing": 0.2}),
    ((6, 3), {"weight": True}),
    ((6, 3), {"weight": True, "label_smoothing": 0.1}),
    ((7, 4), {"ignore_index": 1}),
    ((7, 4), {"ignore_index": 1, "weight": True, "label_smoothing": 0.3}),
    ((2, 3, 4), {}),
    ((2, 3, 4, 5), {"label_smoothing": 0.1, "weight": True}),
    ((2, 4, 3), {"ignore_index": 0}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,kw", CE_CASES)
def test_cross_entropy_class_targets_match_torch(torch, rng, shape, kw, reduction):
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    c = shape[1]
    target = rng.integers(0, c, (shape[0],) + shape[2:])
    kw = dict(kw)
    kw_t = dict(kw)
    if kw.pop("weight", None):
        w = rng.uniform(0.2, 2.0, c).astype(np.float32)
        kw["weight"], kw_t["weight"] = w, torch.from_numpy(w)
    _compare(nn.CrossEntropyLoss(reduction=reduction, **kw),
             torch.nn.CrossEntropyLoss(reduction=reduction, **kw_t), [logits, target], torch, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,kw", [((5, 4), {}), ((5, 4), {"label_smoothing": 0.2}),
                                      ((4, 3), {"weight": True}),
                                      ((2, 3, 4), {"weight": True, "label_smoothing": 0.1})])
def test_cross_entropy_probability_targets_match_torch(torch, rng, shape, kw, reduction):
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    probs = rng.uniform(0, 1, shape).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    kw = dict(kw)
    kw_t = dict(kw)
    if kw.pop("weight", None):
        w = rng.uniform(0.2, 2.0, shape[1]).astype(np.float32)
        kw["weight"], kw_t["weight"] = w, torch.from_numpy(w)
    _compare(nn.CrossEntropyLoss(reduction=reduction, **kw),
             torch.nn.CrossEntropyLoss(reduction=reduction, **kw_t), [logits, probs], torch, rng,
             grad_of=(0, 1))


def test_cross_entropy_unbatched_and_alias(torch, rng):
    logits = rng.standard_normal(5).astype(np.float32)
    ours = F.cross_entropy(mnp.tensor(logits), mnp.tensor(3))
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.tensor(3))
    assert_close(ours, theirs, **F32)
    assert nn.SoftmaxCrossEntropy is nn.CrossEntropyLoss


def test_cross_entropy_is_stable_for_huge_logits():
    x = mnp.tensor([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mnp.tensor([0, 0]), reduction="none")
    assert np.allclose(loss.data, [0.0, 2e4]) and np.all(np.isfinite(loss.data))
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.data))
    assert np.allclose(x.grad.data, [[0, 0, 0], [-1, 1, 0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted,ignore", [(False, -100), (True, -100), (True, 2), (False, 0)])
def test_nll_matches_torch(torch, rng, reduction, weighted, ignore):
    logp = np.log(rng.dirichlet(np.ones(4), size=6)).astype(np.float32)
    target = rng.integers(0, 4, 6)
    kw, kw_t = {"ignore_index": ignore}, {"ignore_index": ignore}
    if weighted:
        w = rng.uniform(0.2, 2, 4).astype(np.float32)
        kw["weight"], kw_t["weight"] = w, torch.from_numpy(w)
    _compare(nn.NLLLoss(reduction=reduction, **kw), torch.nn.NLLLoss(reduction=reduction, **kw_t),
             [logp, target], torch, rng)


def test_nll_k_dim_matches_torch(torch, rng):
    logp = (rng.standard_normal((2, 3, 4)) - 2).astype(np.float32)
    target = rng.integers(0, 3, (2, 4))
    _compare(nn.NLLLoss(), torch.nn.NLLLoss(), [logp, target], torch, rng)


def _f64(rng, *shape):
    return mnp.tensor(rng.standard_normal(shape), dtype=mnp.float64, requires_grad=True)


def test_losses_grad_check_float64(rng):
    a, b = _f64(rng, 3, 4), _f64(rng, 3, 4)
    assert mnp.grad_check(lambda a, b: F.mse_loss(a, b), [a, b])
    assert mnp.grad_check(lambda a, b: F.l1_loss(a, b, reduction="sum"), [a, b])
    p = mnp.tensor(rng.uniform(0.1, 0.9, (3, 4)), dtype=mnp.float64, requires_grad=True)
    y = mnp.tensor(rng.uniform(0, 1, (3, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda p, y: F.binary_cross_entropy(p, y), [p, y])
    pw = np.array([0.5, 1.0, 2.0, 3.0])
    assert mnp.grad_check(lambda a, y: F.binary_cross_entropy_with_logits(a, y, pos_weight=pw,
                                                                          reduction="none"), [a, y])
    t = mnp.tensor([0, 3, 1])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    assert mnp.grad_check(lambda a: F.cross_entropy(a, t, label_smoothing=0.2), [a])
    assert mnp.grad_check(lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.1,
                                                    ignore_index=1), [a])
    q = mnp.tensor(rng.dirichlet(np.ones(4), size=3), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a, q: F.cross_entropy(a, q, weight=w, reduction="none",
                                                       label_smoothing=0.1), [a, q])
    k = _f64(rng, 2, 3, 2, 2)
    tk = mnp.tensor(rng.integers(0, 3, (2, 2, 2)))
    assert mnp.grad_check(lambda k: F.cross_entropy(k, tk, reduction="sum"), [k])
    assert mnp.grad_check(lambda k: F.nll_loss(k, tk, weight=np.array([1.0, 2.0, 0.5])), [k])


def test_loss_bad_input():
    with pytest.raises(mnp.ShapeError, match=r"cross_entropy.*\(4, 3\).*\(5,\)"):
        F.cross_entropy(mnp.zeros((4, 3)), mnp.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(mnp.MnpError, match="target 3 is out of range for 3 classes"):
        F.cross_entropy(mnp.zeros((2, 3)), mnp.tensor([0, 3]))
    with pytest.raises(mnp.ShapeError, match=r"probability targets.*\(2, 3\)"):
        F.cross_entropy(mnp.zeros((2, 3)), mnp.zeros((2, 4)))
    with pytest.raises(mnp.ShapeError, match=r"mse_loss.*\(2, 3\).*\(4,\)"):
        F.mse_loss(mnp.zeros((2, 3)), mnp.zeros(4))
    with pytest.raises(mnp.MnpError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(mnp.ShapeError, match="weight"):
        F.cross_entropy(mnp.zeros((2, 3)), mnp.tensor([0, 1]), weight=np.ones(4))


def test_losses_registered_by_name():
    reg = mnp.registry("losses")
    for name in ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
                 "SoftmaxCrossEntropy", "NLLLoss"]:
        assert reg[name] is getattr(nn, name)


def test_weighted_loss_config_is_json(rng):
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0], np.float32), label_smoothing=0.1)
    cfg = loss.get_config()
    assert cfg == {"weight": [1.0, 2.0], "ignore_index": -100, "reduction": "mean",
                   "label_smoothing": 0.1}
    again = nn.CrossEntropyLoss.from_config(cfg)
    x, t = mnp.tensor(rng.standard_normal((3, 2)).astype(np.float32)), mnp.tensor([0, 1, 1])
    assert_close(again(x, t), loss(x, t))
