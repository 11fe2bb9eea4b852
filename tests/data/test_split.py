"""train_test_split: sizes, scikit-learn's order and rounding, disjointness, stratification."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mnp.core as mnp
from mnp.core import ShapeError
from mnp.data import DataError, train_test_split


def _data(n: int = 50):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)    # row i holds 2i, 2i + 1
    y = np.arange(n) % 5
    return X, y


def test_order_sizes_and_alignment():
    X, y = _data(50)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    assert X_train.shape == (40, 2) and X_test.shape == (10, 2)
    assert y_train.shape == (40,) and y_test.shape == (10,)
    # rows stay aligned across the arrays
    np.testing.assert_array_equal(X_train[:, 0] // 2 % 5, y_train)
    np.testing.assert_array_equal(X_test[:, 0] // 2 % 5, y_test)
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]]) // 2
    assert sorted(rows.astype(int)) == list(range(50))
    assert X_train.dtype == np.float32 and y_train.dtype == y.dtype


def test_fraction_rounds_test_part_up_like_sklearn():
    X, y = _data(10)
    assert len(train_test_split(X, test_size=0.25, seed=0)[1]) == 3      # ceil(2.5)
    assert len(train_test_split(X, test_size=0.21, seed=0)[1]) == 3      # ceil(2.1)
    assert len(train_test_split(X, test_size=4, seed=0)[1]) == 4
    assert len(train_test_split(X, seed=0)[1]) == 2                      # default 0.2


def test_seed_determinism():
    X, y = _data(30)
    a = train_test_split(X, y, seed=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def test_no_shuffle_takes_the_last_rows():
    X, y = _data(10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=3, shuffle=False)
    assert (X_train[:, 0] // 2).tolist() == list(range(7))
    assert (X_test[:, 0] // 2).tolist() == [7, 8, 9]
    with pytest.raises(DataError, match="shuffle"):
        train_test_split(X, y, shuffle=False, stratify=y)


def test_tensors_stay_tensors():
    X, y = _data(10)
    X_train, X_test, y_train, y_test = train_test_split(mnp.tensor(X), y, seed=0)
    assert isinstance(X_train, mnp.Tensor) and isinstance(X_test, mnp.Tensor)
    assert isinstance(y_train, np.ndarray)
    assert X_train.shape == (8, 2)


@pytest.mark.parametrize("ratio", [0.2, 0.25, 0.5])
def test_stratify_preserves_class_ratios(ratio):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [300, 150, 50])
    rng.shuffle(y)
    X = np.arange(len(y))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=ratio, seed=1, stratify=y)
    assert len(y_test) == int(np.ceil(ratio * len(y)))
    for part in (y_train, y_test):
        share = np.bincount(part, minlength=3) / len(part)
        np.testing.assert_allclose(share, [0.6, 0.3, 0.1], atol=1.5 / len(part))
    assert set(X_train.tolist()).isdisjoint(X_test.tolist())
    np.testing.assert_array_equal(y[X_test], y_test)


def test_stratify_exact_counts_and_string_labels():
    y = np.array(["a"] * 10 + ["b"] * 10)
    X = np.arange(20)
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.5, seed=0, stratify=y)
    assert sorted(y_test.tolist()) == ["a"] * 5 + ["b"] * 5
    # the test part is shuffled, not grouped by class
    orders = {tuple(train_test_split(X, test_size=0.5, seed=s, stratify=y)[1] // 10) for s in range(5)}
    assert len(orders) > 1


def test_stratify_errors():
    X = np.arange(10)
    with pytest.raises(DataError, match="class 9 has only 1"):
        train_test_split(X, test_size=0.5, stratify=np.array([0] * 9 + [9]))
    with pytest.raises(DataError, match="stratify classes"):
        train_test_split(X, test_size=1, stratify=np.arange(10) % 2)
    with pytest.raises(ShapeError, match="stratify"):
        train_test_split(X, stratify=np.zeros(9))


@pytest.mark.parametrize("size", [0, 10, 1.0, 0.0, -0.1, 11, "0.2", True])
def test_bad_test_size(size):
    with pytest.raises(DataError, match="test_size"):
        train_test_split(np.arange(10), test_size=size)


def test_mismatched_lengths():
    with pytest.raises(ShapeError, match=r"\(10,\).*\(9,\)"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(DataError):
        train_test_split()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), frac=st.floats(0.01, 0.99), seed=st.integers(0, 1000))
def test_split_partition_property(n, frac, seed):
    n_test = int(np.ceil(frac * n))
    if not 0 < n_test < n:
        with pytest.raises(DataError):
            train_test_split(np.arange(n), test_size=frac, seed=seed)
        return
    train, test = train_test_split(np.arange(n), test_size=frac, seed=seed)
    assert len(test) == n_test and len(train) == n - n_test
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
