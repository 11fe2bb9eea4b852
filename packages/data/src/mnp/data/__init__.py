"""mnp.data: datasets, batching, splits, file loaders and transforms.

>>> from mnp.data import DataLoader, TensorDataset, digits, standardize, train_test_split
>>> X, y = digits()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
>>> X_train, mean, std = standardize(X_train, return_stats=True)
>>> X_test = standardize(X_test, mean, std)
>>> loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
>>> xb, yb = next(iter(loader))
>>> xb.shape, yb.dtype.name
((32, 64), 'int64')
"""
from __future__ import annotations

from .errors import DataError, DataFileNotFoundError, DataFormatError, WorkerError
from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader, default_collate
from .worker import WorkerInfo, get_worker_info
from .split import train_test_split
from .synthetic import blobs, circles, linear, moons, regression, spiral, xor
from .digits import digits
from .idx import load_idx, load_idx_pair, load_mnist, parse_idx, save_idx
from .files import load_csv, load_npz
from .text import CharTokenizer, RandomWindowSampler, TokenWindows, tiny_shakespeare
from .transforms import Standardizer, minmax_scale, normalize, one_hot, standardize
from .registry import list_datasets, load

try:
    from importlib.metadata import version as _version
    __version__ = _version("mnp-data")
except Exception:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "DataError", "DataFileNotFoundError", "DataFormatError", "WorkerError",
    "Dataset", "Subset", "TensorDataset", "random_split", "DataLoader", "default_collate",
    "get_worker_info", "WorkerInfo",
    "train_test_split",
    "tiny_shakespeare", "CharTokenizer", "TokenWindows", "RandomWindowSampler",
    "xor", "spiral", "linear", "moons", "circles", "blobs", "regression", "digits",
    "load_idx", "load_idx_pair", "load_mnist", "parse_idx", "save_idx", "load_csv", "load_npz",
    "Standardizer", "standardize", "normalize", "minmax_scale", "one_hot",
    "load", "list_datasets",
]
