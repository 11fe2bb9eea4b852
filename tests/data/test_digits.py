"""digits(): the bundled UCI set, and a small MLP trained on it through DataLoader."""
from __future__ import annotations

import time

import numpy as np

import mnp.core as mnp
from mnp.data import DataLoader, TensorDataset, digits, standardize, train_test_split

CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_shapes_dtypes_and_class_counts():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == CLASS_COUNTS
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    # the first image is the familiar "0" of the UCI set
    assert y[0] == 0 and X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert y[:10].tolist() == list(range(10))
    assert float(X.sum(dtype=np.float64)) == 561_718.0     # the sum of scikit-learn's digits.csv


def test_digits_images_and_fresh_copies():
    X, y = digits()
    images, y2 = digits(return_images=True)
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)
    X[:] = -1
    y[:] = 99
    assert digits()[0].min() == 0 and digits()[1].max() == 9


class CrossEntropy(mnp.Function):
    """Mean cross-entropy of logits against int labels, fused log-softmax + NLL."""

    def forward(self, logits, target=None):
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.target = np.exp(logp), target
        return np.asarray(-logp[np.arange(len(target)), target].mean(), dtype=logits.dtype)

    def backward(self, grad):
        g = self.p.copy()
        g[np.arange(len(self.target)), self.target] -= 1
        return grad * g / len(self.target)


def _adam(params, state, lr=3e-3, b1=0.9, b2=0.999, eps=1e-8):
    state["t"] = state.get("t", 0) + 1
    t = state["t"]
    for i, p in enumerate(params):
        g = p.grad.data
        m = state.setdefault(("m", i), np.zeros_like(g))
        v = state.setdefault(("v", i), np.zeros_like(g))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        p.data -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        p.grad = None


def test_mlp_on_standardized_digits_beats_95_percent():
    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
    X_train, mean, std = standardize(X_train, return_stats=True)
    X_test = standardize(X_test, mean, std)
    assert abs(float(X_train.mean())) < 1e-5

    rng = np.random.default_rng(0)

    def layer(n_in, n_out):
        w = rng.uniform(-1, 1, (n_in, n_out)) * np.sqrt(6 / n_in) / np.sqrt(2)
        return (mnp.tensor(w.astype(np.float32), requires_grad=True),
                mnp.zeros(n_out, requires_grad=True))

    (w1, b1), (w2, b2) = layer(64, 64), layer(64, 10)
    params, state = [w1, b1, w2, b2], {}

    def model(x):
        return mnp.relu(x @ w1 + b1) @ w2 + b2

    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
    start = time.perf_counter()
    losses = []
    for _ in range(10):
        total = 0.0
        for xb, yb in loader:
            loss = CrossEntropy.apply(model(xb), target=yb.numpy())
            loss.backward()
            _adam(params, state)
            total += loss.item() * len(xb)
        losses.append(total / len(X_train))
    elapsed = time.perf_counter() - start
    with mnp.no_grad():
        pred = model(mnp.tensor(X_test)).numpy().argmax(axis=1)
    accuracy = float((pred == y_test).mean())
    assert losses[-1] < losses[0] / 4, losses
    assert accuracy > 0.95, accuracy
    assert elapsed < 30, f"training took {elapsed:.1f} s"
