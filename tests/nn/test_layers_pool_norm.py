"""Pooling, BatchNorm and LayerNorm against PyTorch (train and eval), float64 grad checks."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import F32, assert_close


def _run(ours, theirs, x_np, torch, rng):
    """Forward + backward through both; returns (our input grad, torch input grad)."""
    x = mnp.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    assert_close(y, yt, **F32, what="output")
    g = rng.standard_normal(yt.shape).astype(np.float32)
    y.backward(mnp.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert_close(x.grad, xt.grad, **F32, what="input grad")
    return y, yt


POOL2D_CASES = [  # kernel, stride, padding, input shape
    (2, None, 0, (2, 3, 8, 8)),
    (3, 2, 1, (2, 2, 9, 7)),
    ((2, 3), (1, 2), (1, 1), (1, 2, 6, 8)),
    (3, 1, 0, (2, 1, 5, 5)),          # overlapping windows
    (2, 2, 0, (1, 2, 7, 5)),          # odd sizes: last row/column dropped
]


@pytest.mark.parametrize("case", POOL2D_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_matches_torch(torch, rng, case, kind):
    k, s, p, shape = case
    ours = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(k, stride=s, padding=p)
    theirs = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, stride=s, padding=p)
    _run(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch, rng)


@pytest.mark.parametrize("case", [(2, None, 0, (2, 3, 8)), (3, 2, 1, (2, 2, 9)), (3, 1, 1, (1, 2, 6))])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool1d_matches_torch(torch, rng, case, kind):
    k, s, p, shape = case
    ours = (nn.MaxPool1d if kind == "max" else nn.AvgPool1d)(k, stride=s, padding=p)
    theirs = (torch.nn.MaxPool1d if kind == "max" else torch.nn.AvgPool1d)(k, stride=s, padding=p)
    _run(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch, rng)


def test_max_pool_ties_route_gradient_like_torch(torch):
    x_np = np.ones((1, 1, 4, 4), np.float32)            # every window is a tie
    _run(nn.MaxPool2d(2, stride=1), torch.nn.MaxPool2d(2, stride=1), x_np, torch,
         np.random.default_rng(1))


@pytest.mark.parametrize("fn", ["max_pool2d", "avg_pool2d"])
def test_pool2d_grad_check_float64(rng, fn):
    x = mnp.tensor(rng.standard_normal((2, 2, 5, 6)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: getattr(F, fn)(t, 3, stride=2, padding=1), [x])


def test_pool1d_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((2, 2, 7)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: F.max_pool1d(t, 2, stride=1), [x])
    assert mnp.grad_check(lambda t: F.avg_pool1d(t, 3, stride=2, padding=1), [x])


def test_pool_bad_arguments():
    with pytest.raises(mnp.MnpError, match=r"padding.*half"):
        F.max_pool2d(mnp.zeros((1, 1, 4, 4)), 2, padding=2)
    with pytest.raises(mnp.ShapeError, match=r"max_pool2d.*\(1, 4, 4\)|max_pool2d.*4-d"):
        F.max_pool2d(mnp.zeros((4, 4)), 2)
    with pytest.raises(mnp.ShapeError, match=r"too small"):
        F.avg_pool2d(mnp.zeros((1, 1, 2, 2)), 3)


def _copy_bn(ours, theirs, torch):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            dict(theirs.named_parameters())[name].copy_(torch.from_numpy(p.data.copy()))


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 6))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_then_eval_matches_torch(torch, rng, cls, shape, momentum):
    ours = getattr(nn, cls)(3, momentum=momentum)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    ours.weight.data[...] = rng.standard_normal(3)
    ours.bias.data[...] = rng.standard_normal(3)
    _copy_bn(ours, theirs, torch)
    for step in range(3):             # train mode: batch statistics, running stats updated
        x_np = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        _run(ours, theirs, x_np, torch, rng)
        for name, p in ours.named_parameters():
            assert_close(p.grad, dict(theirs.named_parameters())[name].grad, **F32, what=name)
            p.grad = None
        theirs.zero_grad()
    assert_close(ours.running_mean, theirs.running_mean, **F32, what="running_mean")
    assert_close(ours.running_var, theirs.running_var, **F32, what="running_var")
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()                     # eval mode: running statistics, nothing updated
    before = ours.running_mean.data.copy()
    _run(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch, rng)
    assert np.array_equal(before, ours.running_mean.data)
    for name, p in ours.named_parameters():
        assert_close(p.grad, dict(theirs.named_parameters())[name].grad, **F32, what=f"eval {name}")


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batchnorm_options_match_torch(torch, rng, affine, track):
    ours = nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    shape = (3, 2, 4, 4)
    _run(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch, rng)
    ours.eval()
    theirs.eval()
    _run(ours, theirs, rng.standard_normal(shape).astype(np.float32), torch, rng)
    assert (ours.running_mean is None) == (not track)
    assert [k for k in ours.state_dict()] == [k for k in theirs.state_dict()]


def test_batchnorm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((4, 3, 2)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal(3), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal(3), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                          [x, w, b])
    rm, rv = np.zeros(3), np.full(3, 2.0)
    assert mnp.grad_check(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [x, w, b])
    assert mnp.grad_check(lambda x: F.batch_norm(x, None, None, training=True), [x])


def test_batchnorm_errors():
    with pytest.raises(mnp.ShapeError, match=r"BatchNorm2d.*\(2, 4, 3, 3\).*num_features=3"):
        nn.BatchNorm2d(3)(mnp.zeros((2, 4, 3, 3)))
    with pytest.raises(mnp.ShapeError, match=r"BatchNorm1d.*\(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(mnp.zeros((2, 3, 4, 4)))
    with pytest.raises(mnp.ShapeError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mnp.zeros((1, 3)))


@pytest.mark.parametrize("ns,shape", [(5, (4, 5)), ((3, 4), (2, 3, 4)), (4, (2, 3, 4))])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_torch(torch, rng, ns, shape, affine):
    ours = nn.LayerNorm(ns, elementwise_affine=affine)
    theirs = torch.nn.LayerNorm(ns, elementwise_affine=affine)
    if affine:
        ours.weight.data[...] = rng.standard_normal(ours.weight.shape)
        ours.bias.data[...] = rng.standard_normal(ours.bias.shape)
        _copy_bn(ours, theirs, torch)
    _run(ours, theirs, (rng.standard_normal(shape) * 3 + 2).astype(np.float32), torch, rng)
    for name, p in ours.named_parameters():
        assert_close(p.grad, dict(theirs.named_parameters())[name].grad, **F32, what=name)


def test_layernorm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((3, 2, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((2, 4)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal((2, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), [x, w, b])
    assert mnp.grad_check(lambda x: F.layer_norm(x, 4), [x])


def test_layernorm_wrong_shape():
    with pytest.raises(mnp.ShapeError, match=r"LayerNorm.*\(2, 3\).*\(4,\)"):
        nn.LayerNorm(4)(mnp.zeros((2, 3)))
