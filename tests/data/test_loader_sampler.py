"""DataLoader(sampler=...): the sampler decides which samples, in which order."""
import numpy as np
import pytest

import mnp.core as mnp
from mnp.data import DataLoader, TensorDataset
from mnp.data.errors import DataError


class EveryOther:
    def __init__(self, n, start=0):
        self.n, self.start, self.epochs = n, start, []

    def __iter__(self):
        return iter(range(self.start, self.n, 2))

    def __len__(self):
        return len(range(self.start, self.n, 2))

    def set_epoch(self, epoch):
        self.epochs.append(epoch)


def test_sampler_picks_and_orders_samples_on_the_array_path_and_the_sample_path():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=2, sampler=EveryOther(10, 1))
    assert len(loader) == 3
    got = np.concatenate([yb.numpy() for _, yb in loader])
    assert got.tolist() == [1, 3, 5, 7, 9]

    class Plain:                       # not a TensorDataset: samples are built one by one
        def __len__(self): return 10
        def __getitem__(self, i): return np.float32(i)
    loader = DataLoader(Plain(), batch_size=4, sampler=EveryOther(10), drop_last=True)
    assert len(loader) == 1
    assert [b.tolist() for b in loader] == [[0.0, 2.0, 4.0, 6.0]]


def test_set_epoch_reaches_the_sampler_and_shuffle_is_refused():
    sampler = EveryOther(4)
    loader = DataLoader(np.zeros((4, 1), np.float32), batch_size=2, sampler=sampler)
    loader.set_epoch(3)
    assert sampler.epochs == [3]
    with pytest.raises(DataError, match="mutually exclusive"):
        DataLoader(np.zeros(4), sampler=sampler, shuffle=True)
    with pytest.raises(DataError, match="iterable of indices"):
        DataLoader(np.zeros(4), sampler=5)


def test_out_of_range_index_is_named():
    loader = DataLoader(mnp.zeros(3, 1), batch_size=2, sampler=[0, 7])
    with pytest.raises(DataError, match="index 7 for a dataset of 3"):
        list(loader)
