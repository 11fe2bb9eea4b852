"""The UCI "Optical Recognition of Handwritten Digits" set, shipped inside mnp-data.

1,797 images of 8x8 pixels, each pixel a count 0..16 of ink in a 4x4 block of a 32x32
bitmap, 10 classes. The same data as scikit-learn's ``load_digits`` (the UCI test set);
stored as two gzip'd IDX files in ``mnp/data/_data`` (see ``DATA-LICENSE.md`` there):
E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, doi:10.24432/C50P49, CC BY 4.0.
"""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from .idx import parse_idx

IMAGES = "digits-images-idx3-ubyte.gz"
LABELS = "digits-labels-idx1-ubyte.gz"


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    folder = resources.files("mnp.data").joinpath("_data")
    images = parse_idx(folder.joinpath(IMAGES).read_bytes(), f"mnp.data/_data/{IMAGES}")
    labels = parse_idx(folder.joinpath(LABELS).read_bytes(), f"mnp.data/_data/{LABELS}")
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def digits(return_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: X float32 ``(1797, 64)`` of raw pixel values 0..16 (not scaled:
    `standardize` it, or divide by 16), y int64 ``(1797,)`` with the digit 0..9.

    ``return_images=True`` gives X as ``(1797, 8, 8)`` images instead. Read from the
    installed package; no network. Fresh arrays on every call.

    >>> from mnp.data import digits
    >>> X, y = digits()
    >>> X.shape, X.dtype.name, y.shape, y.dtype.name, float(X.max())
    ((1797, 64), 'float32', (1797,), 'int64', 16.0)
    """
    images, labels = _raw()
    X = images.astype(np.float32)
    return (X if return_images else X.reshape(len(X), 64)), labels.astype(np.int64)


__all__ = ["digits"]
