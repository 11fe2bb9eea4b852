"""Activations, Dropout, Flatten, Embedding, Identity and Sequential against PyTorch."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import F32, assert_close, assert_matches_torch, assert_parameter_grads_match


ACTIVATIONS = [("ReLU", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
               ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {}), ("GELU", (), {}),
               ("GELU", (), {"approximate": "tanh"}), ("Softmax", (), {"dim": -1}),
               ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": -1}),
               ("LogSoftmax", (), {"dim": 0})]


@pytest.mark.parametrize("name,args,kw", ACTIVATIONS)
def test_activation_matches_torch(torch, rng, name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert_matches_torch(ours, theirs, rng.standard_normal((3, 4, 5)) * 3, rng=rng)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "leaky_relu", "gelu", "softmax",
                                  "log_softmax"])
def test_functional_activation_matches_torch(torch, rng, name):
    x_np = (rng.standard_normal((4, 6)) * 2).astype(np.float32)
    kw = {"dim": -1} if "softmax" in name else {}
    assert_close(getattr(F, name)(mnp.tensor(x_np), **kw),
                 getattr(torch.nn.functional, name)(torch.from_numpy(x_np), **kw), **F32)


def test_dropout_train_and_eval(rng):
    x = mnp.ones((200, 50), requires_grad=True)
    drop = nn.Dropout(0.3)
    y = drop(x)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75                       # ~70% kept
    assert np.allclose(y.data[kept], 1 / 0.7)              # inverted scaling
    y.sum().backward()
    assert np.allclose(x.grad.data, kept / 0.7)            # gradient through the same mask
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).data, x.data)
    assert np.array_equal(F.dropout(x, 0.5, training=False).data, x.data)
    assert np.all(F.dropout(x, 1.0).data == 0)
    with pytest.raises(mnp.MnpError, match="p must be"):
        nn.Dropout(1.5)


def test_dropout_reproducible_with_manual_seed():
    x = mnp.ones((10, 10))
    mnp.manual_seed(7)
    a = F.dropout(x, 0.5).data
    mnp.manual_seed(7)
    b = F.dropout(x, 0.5).data
    mnp.manual_seed(8)
    c = F.dropout(x, 0.5).data
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("start,end,shape", [(1, -1, (2, 3, 4, 5)), (0, -1, (2, 3)),
                                             (1, 2, (2, 3, 4, 5)), (2, 3, (2, 3, 4, 5))])
def test_flatten_matches_torch(torch, rng, start, end, shape):
    assert_matches_torch(nn.Flatten(start, end), torch.nn.Flatten(start, end),
                         rng.standard_normal(shape), rng=rng)


def test_embedding_matches_torch(torch, rng):
    ours = nn.Embedding(10, 4, padding_idx=2)
    theirs = torch.nn.Embedding(10, 4, padding_idx=2)
    assert np.all(ours.weight.data[2] == 0)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data.copy()))
    idx = np.array([[1, 2, 3], [3, 3, 9]])
    y, yt = ours(mnp.tensor(idx)), theirs(torch.from_numpy(idx))
    assert_close(y, yt, **F32)
    g = rng.standard_normal(yt.shape).astype(np.float32)
    y.backward(mnp.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert_close(ours.weight.grad, theirs.weight.grad, **F32)   # repeated rows accumulate
    assert np.all(ours.weight.grad.data[2] == 0)                # padding row gets no gradient
    assert repr(ours) == repr(theirs)
    with pytest.raises(mnp.MnpError, match="index 10 is out of range"):
        ours(mnp.tensor([10]))
    with pytest.raises(mnp.DTypeError, match="integer"):
        ours(mnp.tensor([1.0]))


def test_embedding_grad_check_float64(rng):
    w = mnp.tensor(rng.standard_normal((5, 3)), dtype=mnp.float64, requires_grad=True)
    idx = mnp.tensor([[0, 4], [4, 1]])
    assert mnp.grad_check(lambda w: F.embedding(idx, w), [w])


def test_identity():
    x = mnp.ones(3)
    assert nn.Identity(54, unused="x")(x) is x


def test_sequential_indexing_len_append_iter():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        seq[4]
    assert issubclass(nn.IndexOutOfRangeError, mnp.MnpError)
    y = seq(mnp.ones((5, 2)))
    assert y.shape == (5, 1) and np.all((y.data > 0) & (y.data < 1))


def test_sequential_from_ordered_dict(torch):
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]
    tseq = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 3)), ("act", torch.nn.Tanh())]))
    assert repr(seq) == repr(tseq)


def test_sequential_parity_with_torch(torch, rng):
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 6, 3, padding=1),
                                 torch.nn.BatchNorm2d(6), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(6 * 2 * 2, 3))
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()})
    x_np = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    assert_matches_torch(ours, theirs, x_np, rng=rng)
    assert_parameter_grads_match(ours, theirs)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        assert_close(ours(mnp.tensor(x_np)), theirs(torch.from_numpy(x_np)), **F32)
