"""A batch of 0 samples through convolution and pooling: an empty output of PyTorch's
shape, and an empty input gradient, on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F

CASES = [
    ("max_pool2d", lambda M, x: M.max_pool2d(x, 2), (0, 3, 4, 4)),
    ("max_pool2d padded", lambda M, x: M.max_pool2d(x, 3, 1, 1), (0, 3, 4, 4)),
    ("max_pool2d ceil", lambda M, x: M.max_pool2d(x, 2, ceil_mode=True), (0, 3, 5, 5)),
    ("max_pool2d dilated", lambda M, x: M.max_pool2d(x, 2, dilation=2), (0, 3, 5, 5)),
    ("max_pool1d", lambda M, x: M.max_pool1d(x, 2), (0, 3, 4)),
    ("avg_pool2d", lambda M, x: M.avg_pool2d(x, 2), (0, 3, 4, 4)),
    ("avg_pool2d overlapping", lambda M, x: M.avg_pool2d(x, 3, 1, 1), (0, 3, 4, 4)),
    ("avg_pool1d", lambda M, x: M.avg_pool1d(x, 2), (0, 3, 4)),
    ("conv2d", lambda M, x: M.conv2d(x, _w(M, (2, 3, 3, 3)), padding=1), (0, 3, 4, 4)),
    ("conv2d strided", lambda M, x: M.conv2d(x, _w(M, (2, 3, 3, 3)), stride=2), (0, 3, 5, 5)),
    ("conv1d", lambda M, x: M.conv1d(x, _w(M, (2, 3, 3))), (0, 3, 5)),
    ("adaptive_avg_pool2d", lambda M, x: M.adaptive_avg_pool2d(x, (2, 3)), (0, 3, 5, 4)),
    ("adaptive_max_pool2d", lambda M, x: M.adaptive_max_pool2d(x, (2, 3)), (0, 3, 5, 4)),
    ("max_pool3d", lambda M, x: M.max_pool3d(x, 2, 1, 1), (0, 2, 3, 4, 4)),
    ("avg_pool3d", lambda M, x: M.avg_pool3d(x, 2), (0, 2, 3, 4, 4)),
    ("interpolate bicubic", lambda M, x: M.interpolate(x, scale_factor=1.5, mode="bicubic"),
     (0, 3, 4, 4)),
    ("interpolate nearest", lambda M, x: M.interpolate(x, size=3), (0, 3, 4)),
    ("max_unpool2d", lambda M, x: M.max_unpool2d(x, M.max_pool2d(x, 1, return_indices=True)[1], 2),
     (0, 3, 2, 2)),
]


def _w(M, shape):
    data = np.ones(shape, np.float32)
    return mnp.tensor(data) if M is F else __import__("torch").tensor(data)


@pytest.mark.parametrize("name, call, shape", CASES, ids=[c[0] for c in CASES])
def test_empty_batch_matches_torch(torch, name, call, shape):
    x = mnp.zeros(shape, requires_grad=True)
    t = torch.zeros(shape, requires_grad=True)
    y, ty = call(F, x), call(torch.nn.functional, t)
    assert y.shape == tuple(ty.shape)
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == shape and not x.grad.numpy().size


def test_empty_batch_through_layers():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 2))
    x = mnp.zeros((0, 3, 4, 4), requires_grad=True)
    y = model(x)
    assert y.shape == (0, 2)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)
    assert model[0].weight.grad.numpy().tolist() == np.zeros((4, 3, 3, 3)).tolist()
