"""Pooling, BatchNorm and LayerNorm against PyTorch (train and eval), float64 grad checks."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)


POOL2D_CASES = [  # kernel, stride, padding, input shape
    (2, None, 0, (2, 3, 8, 8)),
    (3, 2, 1, (2, 2, 9, 7)),
    ((2, 3), (1, 2), (1, 1), (1, 2, 6, 8)),
    (3, 1, 0, (2, 1, 5, 5)),          # overlapping windows
    (2, 2, 0, (1, 2, 7, 5)),          # odd sizes: last row/column dropped
]


POOL1D_CASES = [(2, None, 0, (2, 3, 8)), (3, 2, 1, (2, 2, 9)), (3, 1, 1, (1, 2, 6))]


@pytest.mark.parametrize("dims,case", [(2, c) for c in POOL2D_CASES] + [(1, c) for c in POOL1D_CASES])
@pytest.mark.parametrize("kind", ["Max", "Avg"])
def test_pool_matches_torch(torch, rng, dims, case, kind):
    k, s, p, shape = case
    name = f"{kind}Pool{dims}d"
    ours = getattr(nn, name)(k, stride=s, padding=p)
    theirs = getattr(torch.nn, name)(k, stride=s, padding=p)
    assert_matches_torch(ours, theirs, rng.standard_normal(shape), rng=rng)


def test_max_pool_ties_route_gradient_like_torch(torch):
    x_np = np.ones((1, 1, 4, 4), np.float32)            # every window is a tie
    assert_matches_torch(nn.MaxPool2d(2, stride=1), torch.nn.MaxPool2d(2, stride=1), x_np,
                         rng=np.random.default_rng(1))


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


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 6))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_then_eval_matches_torch(torch, rng, cls, shape, momentum):
    ours = getattr(nn, cls)(3, momentum=momentum)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    ours.weight.data[...] = rng.standard_normal(3)
    ours.bias.data[...] = rng.standard_normal(3)
    copy_parameters(ours, theirs)
    for step in range(3):             # train mode: batch statistics, running stats updated
        x_np = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        assert_matches_torch(ours, theirs, x_np, rng=rng)
        assert_parameter_grads_match(ours, theirs)
        ours.zero_grad()
        theirs.zero_grad()
    assert_close(ours.running_mean, theirs.running_mean, **F32, what="running_mean")
    assert_close(ours.running_var, theirs.running_var, **F32, what="running_var")
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()                     # eval mode: running statistics, nothing updated
    before = ours.running_mean.data.copy()
    assert_matches_torch(ours, theirs, rng.standard_normal(shape), rng=rng)
    assert np.array_equal(before, ours.running_mean.data)
    assert_parameter_grads_match(ours, theirs, what="eval ")


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_batchnorm_options_match_torch(torch, rng, affine, track):
    ours = nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    shape = (3, 2, 4, 4)
    assert_matches_torch(ours, theirs, rng.standard_normal(shape), rng=rng)
    ours.eval()
    theirs.eval()
    assert_matches_torch(ours, theirs, rng.standard_normal(shape), rng=rng)
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
        copy_parameters(ours, theirs)
    assert_matches_torch(ours, theirs, rng.standard_normal(shape) * 3 + 2, rng=rng)
    assert_parameter_grads_match(ours, theirs)


def test_layernorm_grad_check_float64(rng):
    x = mnp.tensor(rng.standard_normal((3, 2, 4)), dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.standard_normal((2, 4)), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(rng.standard_normal((2, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), [x, w, b])
    assert mnp.grad_check(lambda x: F.layer_norm(x, 4), [x])


def test_layernorm_wrong_shape():
    with pytest.raises(mnp.ShapeError, match=r"LayerNorm.*\(2, 3\).*\(4,\)"):
        nn.LayerNorm(4)(mnp.zeros((2, 3)))


def test_layernorm_reassigned_parameter_of_wrong_shape():
    """The layer skips the functional's checks only while its parameters keep their shape."""
    layer = nn.LayerNorm(4)
    layer.weight = nn.Parameter(np.ones(3, np.float32))
    with pytest.raises(mnp.ShapeError, match=r"layer_norm: weight of shape \(3,\)"):
        layer(mnp.zeros((2, 4)))
    layer = nn.LayerNorm(4)
    layer.bias = nn.Parameter(np.zeros((1, 4), np.float32))
    with pytest.raises(mnp.ShapeError, match=r"layer_norm: bias of shape \(1, 4\)"):
        layer(mnp.zeros((2, 4)))
