"""standardize / Standardizer, normalize, minmax_scale and one_hot."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import mnp.core as mnp
from mnp.core import DTypeError, ShapeError
from mnp.core.testing import assert_close
from mnp.data import DataError, Standardizer, minmax_scale, normalize, one_hot, standardize


def test_standardize_columns(rng):
    X = (rng.standard_normal((200, 3)) * [1, 5, 0.1] + [3, -2, 7]).astype(np.float32)
    Z = standardize(X)
    assert Z.dtype == np.float32
    assert_close(Z.mean(0), np.zeros(3), atol=1e-5)
    assert_close(Z.std(0), np.ones(3), rtol=1e-4)
    X64 = X.astype(np.float64)       # statistics are taken in float64
    assert_close(Z, (X64 - X64.mean(0)) / X64.std(0), rtol=1e-5, atol=1e-5)


def test_standardize_reuses_training_statistics(rng):
    X_train = rng.standard_normal((50, 4)) * 3 + 1
    X_test = rng.standard_normal((10, 4))
    Z_train, mean, std = standardize(X_train, return_stats=True)
    assert mean.shape == (4,) and std.shape == (4,)
    assert_close(mean, X_train.mean(0))
    assert_close(std, X_train.std(0))
    assert_close(standardize(X_test, mean, std), (X_test - X_train.mean(0)) / X_train.std(0))
    scaler = Standardizer().fit(X_train)
    assert_close(scaler.transform(X_test), standardize(X_test, mean, std))
    assert_close(scaler.inverse_transform(scaler.transform(X_test)), X_test, atol=1e-12)
    assert_close(Standardizer().fit_transform(X_train), Z_train)


def test_standardize_constant_feature_and_ints():
    X = np.array([[1, 5], [3, 5], [5, 5]])
    Z = standardize(X)
    assert Z.dtype == np.float32
    assert Z[:, 1].tolist() == [0, 0, 0]                  # zero std: centred only
    assert_close(Z[:, 0], [-1.2247449, 0, 1.2247449])


def test_standardize_tensor_in_tensor_out_and_axis():
    X = mnp.tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    Z = standardize(X, axis=1)
    assert isinstance(Z, mnp.Tensor)
    assert_close(Z.numpy(), [[-1.2247449, 0, 1.2247449]] * 2)


def test_standardize_errors():
    with pytest.raises(DataError, match="both mean and std"):
        standardize(np.ones((2, 2)), mean=np.zeros(2))
    with pytest.raises(DataError, match="fit first"):
        Standardizer().transform(np.ones((2, 2)))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(1, 2\)"):
        Standardizer().fit(np.ones((4, 2))).transform(np.ones((2, 3)))


def test_normalize_rows_to_unit_norm():
    X = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]], dtype=np.float32)
    N = normalize(X)
    assert N.dtype == np.float32
    assert_close(N, [[0.6, 0.8], [0, 0], [-0.70710678, 0.70710678]])
    assert_close(normalize(X, ord=1), [[3 / 7, 4 / 7], [0, 0], [-0.5, 0.5]])
    assert_close(normalize(X, ord="max"), [[0.75, 1.0], [0, 0], [-1, 1]])
    assert_close(normalize(X, axis=0), X / np.linalg.norm(X, axis=0))
    with pytest.raises(DataError, match="ord"):
        normalize(X, ord=3)


def test_normalize_matches_torch(torch, rng):
    X = rng.standard_normal((6, 5)).astype(np.float32)
    expected = torch.nn.functional.normalize(torch.from_numpy(X), p=2.0, dim=1)
    assert_close(normalize(X), expected, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                  elements=st.floats(-1e3, 1e3)))
def test_normalize_property(X):
    N = normalize(X)
    norms = np.linalg.norm(N, axis=-1)
    nonzero = np.linalg.norm(X, axis=-1) > 1e-6
    assert_close(norms[nonzero], np.ones(nonzero.sum()), rtol=1e-9)


def test_minmax_scale():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    assert_close(minmax_scale(X), [[0, 0], [0.5, 0], [1, 0]])
    assert_close(minmax_scale(X, feature_range=(-1, 1)), [[-1, -1], [0, -1], [1, -1]])
    with pytest.raises(DataError, match="feature_range"):
        minmax_scale(X, feature_range=(1, 1))


def test_one_hot():
    out = one_hot(np.array([2, 0, 1]))
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert one_hot(np.array([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    assert one_hot(np.array([0, 1]), 2, dtype=np.int64).dtype == np.int64
    t = one_hot(mnp.tensor([1, 0]), 2)
    assert isinstance(t, mnp.Tensor) and t.tolist() == [[0, 1], [1, 0]]
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


def test_one_hot_matches_torch(torch):
    y = np.array([3, 1, 0, 3])
    expected = torch.nn.functional.one_hot(torch.from_numpy(y), num_classes=5)
    np.testing.assert_array_equal(one_hot(y, 5), expected.numpy())


def test_one_hot_errors():
    with pytest.raises(DataError, match="label 3 is outside \\[0, 3\\)"):
        one_hot(np.array([0, 3]), num_classes=3)
    with pytest.raises(DataError, match="label -1"):
        one_hot(np.array([0, -1]))
    with pytest.raises(DTypeError, match="float"):
        one_hot(np.array([0.0, 1.0]))
    with pytest.raises(DataError, match="num_classes"):
        one_hot(np.array([0]), num_classes=-2)
