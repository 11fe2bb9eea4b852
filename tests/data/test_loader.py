"""DataLoader, TensorDataset, Subset, random_split and default_collate semantics."""
from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mnp.core as mnp
from mnp.core import MnpError, ShapeError
from mnp.data import (DataError, DataLoader, Dataset, Subset, TensorDataset, default_collate,
                      random_split)


def _ids(loader) -> list[int]:
    """The sample ids an epoch yields, in order (datasets here carry their id in column 0)."""
    out = []
    for batch in loader:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        out.extend(int(v) for v in x.numpy().reshape(len(x), -1)[:, 0])
    return out


def _dataset(n: int) -> TensorDataset:
    X = np.stack([np.arange(n), np.arange(n) * 10], axis=1).astype(np.float32)
    return TensorDataset(X, np.arange(n) % 3)


class Squares(Dataset):
    """A map-style dataset built sample by sample (the generic, non-array path)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return np.array([i, i * i], dtype=np.float32), i % 2


# -- TensorDataset / Dataset ----------------------------------------------------------------
def test_tensor_dataset_items_and_len():
    X, y = np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6)
    ds = TensorDataset(X, mnp.tensor(y))
    assert len(ds) == 6
    x3, y3 = ds[3]
    assert isinstance(x3, mnp.Tensor) and x3.tolist() == [6.0, 7.0] and y3.item() == 3
    assert y3.dtype == mnp.int64
    assert ds[-1][0].tolist() == [10.0, 11.0]
    with pytest.raises(IndexError):
        ds[6]
    (only,) = TensorDataset(X)[0]
    assert only.tolist() == [0.0, 1.0]


def test_tensor_dataset_shape_errors():
    with pytest.raises(ShapeError, match=r"TensorDataset.*\(5, 2\).*\(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ShapeError, match="0-d"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(DataError):
        TensorDataset()


def test_dataset_requires_len_and_getitem():
    class Incomplete(Dataset):
        def __len__(self):
            return 1

    with pytest.raises(TypeError):
        Incomplete()
    with pytest.raises(DataError, match="__len__"):
        DataLoader(object())


# -- batching -----------------------------------------------------------------------------
def test_sequential_batches_and_partial_last_batch():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [tuple(xb.shape) for xb, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert [tuple(yb.shape) for _, yb in batches] == [(4,), (4,), (2,)]
    assert _ids(loader) == list(range(10))
    xb, yb = batches[2]
    assert xb.dtype == mnp.float32 and yb.dtype == mnp.int64
    assert xb.tolist() == [[8.0, 80.0], [9.0, 90.0]] and yb.tolist() == [2, 0]


def test_drop_last():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(xb) for xb, _ in loader] == [4, 4]
    assert _ids(loader) == list(range(8))
    assert len(DataLoader(_dataset(3), batch_size=4, drop_last=True)) == 0
    assert list(DataLoader(_dataset(3), batch_size=4, drop_last=True)) == []
    assert len(DataLoader(_dataset(8), batch_size=4, drop_last=True)) == 2


@pytest.mark.parametrize("make", [_dataset, Squares], ids=["tensor-dataset", "generic"])
def test_shuffle_sees_every_sample_once_and_reshuffles(make):
    loader = DataLoader(make(23), batch_size=5, shuffle=True, seed=7)
    epochs = [_ids(loader) for _ in range(3)]
    for ids in epochs:
        assert sorted(ids) == list(range(23))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != epochs[2]
    assert epochs[0] != list(range(23))
    again = DataLoader(make(23), batch_size=5, shuffle=True, seed=7)
    assert [_ids(again) for _ in range(3)] == epochs
    other = DataLoader(make(23), batch_size=5, shuffle=True, seed=8)
    assert _ids(other) != epochs[0]


def test_same_order_for_array_and_generic_paths():
    """The fast path and the sample-by-sample path give the same batches."""
    n = 17
    X = np.stack([np.arange(n), np.arange(n) ** 2], 1).astype(np.float32)
    fast = DataLoader(TensorDataset(X, np.arange(n) % 2), batch_size=4, shuffle=True, seed=3)
    slow = DataLoader(Squares(n), batch_size=4, shuffle=True, seed=3)
    for (xf, yf), (xs, ys) in zip(fast, slow):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


def test_set_epoch_replays_an_epoch():
    loader = DataLoader(_dataset(20), batch_size=6, shuffle=True, seed=1)
    first, second = _ids(loader), _ids(loader)
    assert loader.epoch == 2
    loader.set_epoch(1)
    assert _ids(loader) == second
    loader.set_epoch(0)
    assert _ids(loader) == first


def test_unseeded_shuffle_follows_manual_seed():
    mnp.manual_seed(123)
    a = _ids(DataLoader(_dataset(30), batch_size=8, shuffle=True))
    mnp.manual_seed(123)
    b = _ids(DataLoader(_dataset(30), batch_size=8, shuffle=True))
    assert a == b and sorted(a) == list(range(30)) and a != list(range(30))


def test_reiterable_and_independent_iterators():
    loader = DataLoader(_dataset(9), batch_size=4)
    assert _ids(loader) == _ids(loader) == list(range(9))
    it1, it2 = iter(loader), iter(loader)
    next(it1)
    assert [int(x.numpy()[0, 0]) for x, _ in it2] == [0, 4, 8]


def test_batches_do_not_alias_the_dataset():
    X = np.zeros((4, 2), np.float32)
    for shuffle in (False, True):
        for xb, in DataLoader(TensorDataset(X), batch_size=2, shuffle=shuffle, seed=0):
            xb.data[...] = 5
    assert not X.any()


def test_tuple_samples_generic_path():
    loader = DataLoader(Squares(5), batch_size=2)
    batches = list(loader)
    assert len(batches) == 3
    xb, yb = batches[1]
    assert isinstance(xb, mnp.Tensor) and xb.tolist() == [[2.0, 4.0], [3.0, 9.0]]
    assert isinstance(yb, mnp.Tensor) and yb.dtype == mnp.int64 and yb.tolist() == [0, 1]


def test_collate_fn_receives_the_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return [int(s[1].item()) for s in samples]

    loader = DataLoader(_dataset(7), batch_size=3, collate_fn=collate)
    assert list(loader) == [[0, 1, 2], [0, 1, 2], [0]]
    assert seen == [3, 3, 1]


def test_array_and_tensor_datasets_give_bare_tensors():
    X = np.arange(10, dtype=np.float32).reshape(5, 2)
    for ds in (X, mnp.tensor(X)):
        batches = list(DataLoader(ds, batch_size=2))
        assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
        assert batches[2].tolist() == [[8.0, 9.0]]


def test_uint8_arrays_become_mnp_dtypes():
    ds = TensorDataset(np.arange(6, dtype=np.uint8).reshape(3, 2), np.arange(3, dtype=np.uint8))
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    assert xb.dtype == mnp.int64 and yb.dtype == mnp.int64 and xb.tolist()[2] == [4, 5]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_bad_batch_size(bad):
    with pytest.raises(DataError, match="batch_size"):
        DataLoader(_dataset(4), batch_size=bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seed(bad):
    with pytest.raises(DataError, match="DataLoader: seed"):
        DataLoader(_dataset(4), shuffle=True, seed=bad)
    with pytest.raises(DataError, match="random_split: seed"):
        random_split(_dataset(4), [2, 2], seed=bad)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_loader_partition_property(n, batch_size, drop_last, shuffle, seed):
    loader = DataLoader(_dataset(n), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=seed)
    sizes = [len(xb) for xb, _ in loader]
    assert len(sizes) == len(loader)
    assert all(s == batch_size for s in sizes[:-1])
    expected = n - n % batch_size if drop_last else n
    assert sum(sizes) == expected
    ids = _ids(loader)
    assert len(set(ids)) == len(ids) == expected
    if not shuffle:
        assert ids == list(range(expected))


# -- default_collate ---------------------------------------------------------------------
def test_default_collate_kinds():
    Pair = namedtuple("Pair", "x y")
    assert default_collate([1.5, 2.0]).dtype == mnp.float32
    assert default_collate([1, 2]).dtype == mnp.int64
    assert default_collate([True, False]).dtype == mnp.bool
    assert default_collate([np.float64(1), np.float64(2)]).dtype == mnp.float64
    stacked = default_collate([mnp.tensor([1.0, 2.0]), mnp.tensor([3.0, 4.0])])
    assert stacked.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    d = default_collate([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert d["a"].tolist() == [1, 2] and d["b"] == ["x", "y"]
    p = default_collate([Pair(np.zeros(2), 0), Pair(np.ones(2), 1)])
    assert isinstance(p, Pair) and p.x.shape == (2, 2) and p.y.tolist() == [0, 1]
    lst = default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(lst, list) and lst[0].tolist() == [1, 3]


def test_default_collate_errors():
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(DataError, match="object"):
        default_collate([object(), object()])
    with pytest.raises(DataError, match="lengths"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(MnpError):
        default_collate([])


# -- Subset / random_split ----------------------------------------------------------------
def test_random_split_sizes_disjoint_and_seeded():
    ds = _dataset(50)
    parts = random_split(ds, [30, 15, 5], seed=0)
    assert [len(p) for p in parts] == [30, 15, 5]
    ids = [set(_ids(DataLoader(p, batch_size=7))) for p in parts]
    assert set.union(*ids) == set(range(50))
    assert sum(len(s) for s in ids) == 50
    again = random_split(ds, [30, 15, 5], seed=0)
    assert all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, again))
    assert not np.array_equal(random_split(ds, [30, 15, 5], seed=1)[0].indices, parts[0].indices)


def test_random_split_fractions_like_pytorch():
    assert [len(p) for p in random_split(_dataset(10), [0.8, 0.2], seed=0)] == [8, 2]
    # floor(3.33) * 3 = 9, the remainder goes round-robin from the first part
    assert [len(p) for p in random_split(_dataset(10), [1 / 3] * 3, seed=0)] == [4, 3, 3]
    assert [len(p) for p in random_split(_dataset(11), [0.5, 0.5], seed=0)] == [6, 5]


@pytest.mark.parametrize("lengths", [[5, 4], [0.5, 0.4], [11, -1], [], [1.5, -0.5]])
def test_random_split_bad_lengths(lengths):
    with pytest.raises(DataError, match="random_split"):
        random_split(_dataset(10), lengths)


def test_subset_items_and_nested_subsets_in_loader():
    ds = _dataset(20)
    sub = Subset(ds, [5, 3, 9, 11])
    assert len(sub) == 4 and sub[1][0].tolist() == [3.0, 30.0]
    nested = Subset(sub, [2, 0])
    assert _ids(DataLoader(nested, batch_size=5)) == [9, 5]
    assert _ids(DataLoader(sub, batch_size=3)) == [5, 3, 9, 11]
    shuffled = _ids(DataLoader(sub, batch_size=3, shuffle=True, seed=0))
    assert sorted(shuffled) == [3, 5, 9, 11]
    generic = Subset(Squares(10), [7, 2])
    xb, yb = next(iter(DataLoader(generic, batch_size=2)))
    assert xb.tolist() == [[7.0, 49.0], [2.0, 4.0]] and yb.tolist() == [1, 0]
