"""Synthetic datasets: shapes, dtypes, determinism under seed, and their defining geometry."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.data import DataError, blobs, circles, linear, moons, regression, spiral, xor

FACTORIES = {
    "xor": (lambda seed: xor(8, noise=0.1, seed=seed), 8, 2, 2),
    "spiral": (lambda seed: spiral(30, 4, seed=seed), 120, 2, 4),
    "linear": (lambda seed: linear(60, 5, seed=seed), 60, 5, 2),
    "moons": (lambda seed: moons(51, seed=seed), 51, 2, 2),
    "circles": (lambda seed: circles(40, seed=seed), 40, 2, 2),
    "blobs": (lambda seed: blobs(70, centers=4, features=3, seed=seed), 70, 3, 4),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_shapes_dtypes_and_classes(name):
    make, n, d, k = FACTORIES[name]
    X, y = make(0)
    assert X.shape == (n, d) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(k))
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", FACTORIES)
def test_deterministic_under_seed(name):
    make = FACTORIES[name][0]
    (X1, y1), (X2, y2), (X3, _) = make(5), make(5), make(6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", FACTORIES)
def test_unseeded_follows_manual_seed(name):
    make = FACTORIES[name][0]
    mnp.manual_seed(11)
    a = make(None)
    mnp.manual_seed(11)
    b = make(None)
    np.testing.assert_array_equal(a[0], b[0])


def test_xor_truth_table():
    X, y = xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]))


def test_xor_repeats_with_noise():
    X, y = xor(12)
    assert X.shape == (12, 2) and y.tolist() == [0, 1, 1, 0] * 3
    Xn, yn = xor(400, noise=0.1, seed=0)
    assert yn.tolist() == [0, 1, 1, 0] * 100
    jitter = Xn - np.tile(xor()[0], (100, 1))
    assert 0.08 < jitter.std() < 0.12
    # the noisy points still sit around their corner
    np.testing.assert_array_equal(np.round(Xn).clip(0, 1), np.tile(xor()[0], (100, 1)))


@pytest.mark.parametrize("n", [0, 3, 6, 4.0])
def test_xor_bad_n(n):
    with pytest.raises(DataError, match="xor"):
        xor(n)


def test_spiral_geometry():
    X, y = spiral(100, 3, noise=0.0, seed=0)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r, np.tile(np.linspace(0, 1, 100), 3), atol=1e-6)
    assert y.tolist() == [0] * 100 + [1] * 100 + [2] * 100


def test_linear_is_separable_even_with_noise():
    for features, noise in [(2, 0.1), (5, 1.0), (3, 0.0)]:
        X, y = linear(300, features, noise=noise, seed=features)
        # a perceptron on separable data converges to zero training errors
        w = np.zeros(features)
        s = np.where(y == 1, 1.0, -1.0)
        for _ in range(500):
            wrong = np.flatnonzero(s * (X.astype(np.float64) @ w) <= 0)
            if not len(wrong):
                break
            w += s[wrong[0]] * X[wrong[0]]
        assert (np.sign(X @ w) == s).all(), (features, noise)
        assert 0.2 < y.mean() < 0.8


def test_moons_and_circles_geometry():
    X, y = moons(200, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [100, 100]
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert not np.array_equal(y, np.sort(y))       # shuffled
    X, y = circles(101, noise=0.0, factor=0.3, seed=0)
    assert np.bincount(y).tolist() == [50, 51]
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    with pytest.raises(DataError, match="factor"):
        circles(10, factor=1.0)


def test_blobs_centres_and_spread():
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    X, y = blobs(3001, centers=centres, std=0.5, seed=0)
    assert np.bincount(y).tolist() == [1001, 1000, 1000]
    for k, c in enumerate(centres):
        np.testing.assert_allclose(X[y == k].mean(0), c, atol=0.1)
        np.testing.assert_allclose(X[y == k].std(0), 0.5, atol=0.05)
    X, y = blobs(10, centers=3, features=4, seed=0)
    assert X.shape == (10, 4) and np.bincount(y).tolist() == [4, 3, 3]
    with pytest.raises(DataError, match="centers"):
        blobs(10, centers=np.zeros(3))


def test_regression_targets():
    X, y = regression(500, features=3, noise=0.0, seed=0)
    assert X.shape == (500, 3) and y.shape == (500,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    A = np.c_[X, np.ones(500)].astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)
    np.testing.assert_allclose(A @ coef, y, atol=1e-5)     # exactly linear without noise


@pytest.mark.parametrize("call", [lambda: spiral(0), lambda: spiral(10, classes=0),
                                  lambda: moons(10, noise=-1), lambda: blobs(10, std="x"),
                                  lambda: linear(10, features=0), lambda: circles(1),
                                  lambda: moons(10, seed=-1), lambda: xor(seed=1.5)])
def test_bad_arguments(call):
    with pytest.raises(DataError):
        call()
