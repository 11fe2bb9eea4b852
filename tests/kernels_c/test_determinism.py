"""Thread counts and determinism: reductions over size-1 axes on several threads, results
bit-identical for 1, 2 and 3 threads, and same-seed training runs bit-identical."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn

THREADS = (1, 2, 3)


@pytest.fixture
def threads():
    """``threads(n)`` sets mnp's thread budget; the previous one comes back afterwards."""
    before = mnp.get_num_threads()
    yield mnp.set_num_threads
    mnp.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 2])
def test_reductions_over_size1_axes(threads, n):
    """Above the threading threshold (2**17 elements), dims of size 1 merged away left a
    kept dim alone, which was then reduced whole into element 0 on two threads."""
    threads(n)
    assert (mnp.ones((1, 131072)).sum(axis=0).numpy() == 1).all()
    assert (mnp.ones((256, 512, 1, 1)).mean(axis=(2, 3)).numpy() == 1).all()
    assert (mnp.ones((400, 1, 400)).amax(axis=1).numpy() == 1).all()
    assert (mnp.ones((400, 1, 400)).amin(axis=1).numpy() == 1).all()
    x = np.random.default_rng(0).standard_normal((2, 1, 65536, 1)).astype(np.float32)
    t = mnp.tensor(x)
    np.testing.assert_array_equal(t.sum(axis=(1, 3)).numpy(), x[:, 0, :, 0])
    np.testing.assert_array_equal(t.amax(axis=1, keepdims=True).numpy(), x)
    np.testing.assert_array_equal(mnp.tensor(x[0, 0, :, 0]).reshape(1, 65536).sum(axis=0).numpy(),
                                  x[0, 0, :, 0])
    assert t.sum(axis=(0, 1, 2, 3)).item() == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-5)


def _bits(*arrays) -> list[bytes]:
    return [np.ascontiguousarray(a).tobytes() for a in arrays]


def _across_threads(threads, fn) -> None:
    """fn() gives the same bits on every thread count."""
    results = []
    for n in THREADS:
        threads(n)
        results.append(_bits(*fn()))
    for n, r in zip(THREADS[1:], results[1:]):
        assert r == results[0], f"{n} threads differ from 1"


def test_reductions_bit_identical_across_threads(threads):
    g = np.random.default_rng(1)
    x = mnp.tensor(g.standard_normal((3, 700_001)).astype(np.float32))
    y = mnp.tensor(g.standard_normal((600, 900)))
    _across_threads(threads, lambda: [x.sum().numpy(), x.mean().numpy(), x.max().numpy(),
                                      x.sum(axis=1).numpy(), y.sum(axis=0).numpy(),
                                      y.mean(axis=1).numpy(), y.amax(axis=0).numpy(),
                                      y.min().numpy()])


def _forward_backward(layer, x):
    """Output, input gradient and parameter gradients of one forward/backward pass."""
    for p in layer.parameters():
        p.grad = None
    xt = mnp.tensor(x, requires_grad=True)
    out = layer(xt)
    (out * out).sum().backward()
    return [out.numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["linear", "linear_thin", "conv", "conv_batch1", "conv_strided",
                                  "conv_pointwise", "layer_norm", "batch_norm"])
def test_layers_bit_identical_across_threads(threads, case, dtype):
    """Forward and backward of GEMM-backed and normalisation layers above their threading
    thresholds give the same bits on 1, 2 and 3 threads."""
    g = np.random.default_rng(2)
    mnp.manual_seed(0)
    layer, shape = {
        "linear": (lambda: nn.Linear(300, 200), (256, 300)),
        "linear_thin": (lambda: nn.Linear(300, 8), (1024, 300)),     # a narrow product: dots
        "conv": (lambda: nn.Conv2d(16, 32, 3, padding=1), (16, 16, 28, 28)),
        "conv_batch1": (lambda: nn.Conv2d(8, 16, 3, padding=1), (1, 8, 40, 40)),
        "conv_strided": (lambda: nn.Conv2d(8, 16, 3, stride=2, padding=1), (3, 8, 33, 33)),
        "conv_pointwise": (lambda: nn.Conv2d(32, 64, 1), (5, 32, 14, 14)),
        "layer_norm": (lambda: nn.LayerNorm(300), (512, 300)),
        "batch_norm": (lambda: nn.BatchNorm2d(16), (32, 16, 20, 20)),
    }[case]
    layer = layer().to(dtype) if hasattr(nn.Module, "to") else layer()
    x = g.standard_normal(shape).astype(dtype)
    # with no backend pool installed, BLAS gets the thread budget and its results depend on
    # the thread count: there, the documented guarantee is deterministic mode's
    pool = any(b["name"] != "numpy" and b["available"] for b in mnp.backends())
    mnp.use_deterministic_algorithms(not pool)
    try:
        _across_threads(threads, lambda: _forward_backward(layer, x))
    finally:
        mnp.use_deterministic_algorithms(False)


def test_deterministic_mode_forces_bit_identity_for_large_products(threads):
    """Products from GEMM_BLAS_FROM on go to BLAS on one thread by default; deterministic
    mode keeps them on the C GEMM, whose results do not depend on the thread count."""
    g = np.random.default_rng(3)
    a = mnp.tensor(g.standard_normal((800, 800)).astype(np.float32))
    b = mnp.tensor(g.standard_normal((800, 800)).astype(np.float32))
    assert not mnp.are_deterministic_algorithms_enabled()
    mnp.use_deterministic_algorithms(True)
    try:
        assert mnp.are_deterministic_algorithms_enabled()
        _across_threads(threads, lambda: [(a @ b).numpy()])
    finally:
        mnp.use_deterministic_algorithms(False)
    assert not mnp.are_deterministic_algorithms_enabled()


def _train(steps: int = 3) -> list[np.ndarray]:
    optim = pytest.importorskip("mnp.optim")
    mnp.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(4, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(16 * 10 * 10, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = np.random.default_rng(4)
    x = mnp.tensor(g.standard_normal((32, 4, 20, 20)).astype(np.float32))
    y = mnp.tensor(g.integers(0, 10, 32))
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()]


def test_same_seed_training_is_bit_identical():
    """Two same-seed runs of a small CNN with the default threads end with the same bits."""
    first, second = _train(), _train()
    assert _bits(*first) == _bits(*second)


def test_training_is_bit_identical_across_threads(threads):
    _across_threads(threads, _train)
