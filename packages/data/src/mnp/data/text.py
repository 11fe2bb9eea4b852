"""Text for language models: the Tiny Shakespeare corpus (shipped inside mnp-data), a
character tokenizer, fixed-length token windows and the random-window batches that
language-model training draws.

>>> from mnp.data import CharTokenizer, TokenWindows, tiny_shakespeare
>>> text = tiny_shakespeare()
>>> tok = CharTokenizer.from_text(text)
>>> tok.vocab_size, tok.decode(tok.encode("To be"))
(65, 'To be')
>>> train, val = TokenWindows.split(tok.encode(text), block_size=64, val_fraction=0.1)
>>> x, y = train.random_batch(12, seed=0)
>>> x.shape, y.shape
((12, 64), (12, 64))
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
from importlib import resources
from typing import Any, Iterable, Iterator

import numpy as np

import mnp.core as mnp
from mnp.core.atomic import atomic_write

from ._arrays import check_positive_int, rng_for
from .dataset import Dataset
from .errors import DataError, DataFormatError

SHAKESPEARE = "tinyshakespeare.txt.gz"
#: sha256 of the corpus text (UTF-8), checked on every first read
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TOKENIZER_FORMAT = "mnp-char-tokenizer"
#: a vocabulary file larger than this is refused before it is parsed
MAX_VOCAB_FILE_BYTES = 16 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def tiny_shakespeare() -> str:
    """The Tiny Shakespeare corpus: 40,000 lines of the plays as one ``str`` of 1,115,394
    characters over 65 distinct ones (public domain; see ``_data/DATA-LICENSE.md``).
    Read from the installed package, no network; its checksum is verified.

    >>> text = tiny_shakespeare()
    >>> len(text), text[:9]
    (1115394, 'First Cit')
    """
    path = f"mnp.data/_data/{SHAKESPEARE}"
    raw = resources.files("mnp.data").joinpath("_data", SHAKESPEARE).read_bytes()
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"{path}: not a valid gzip file ({exc})") from None
    if hashlib.sha256(data).hexdigest() != SHAKESPEARE_SHA256:
        raise DataFormatError(f"{path}: checksum mismatch; the installed corpus is damaged "
                              f"(reinstall mnp-data)")
    return data.decode("utf-8")


class CharTokenizer:
    """Maps each character of a fixed vocabulary to an integer id (its rank in sorted
    order) and back.

    >>> tok = CharTokenizer.from_text("hello")
    >>> tok.chars, tok.encode("hole").tolist(), tok.decode([3, 1])
    (['e', 'h', 'l', 'o'], [1, 3, 2, 0], 'oh')
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise DataError(f"CharTokenizer: the vocabulary holds single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            raise DataError("CharTokenizer: the vocabulary has repeated characters")
        if not chars:
            raise DataError("CharTokenizer: the vocabulary is empty")
        self.chars: list[str] = sorted(chars)
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.chars)}
        self._table = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        self._table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        """The tokenizer whose vocabulary is every character that occurs in ``text``."""
        if not isinstance(text, str):
            raise DataError(f"CharTokenizer.from_text: expected a str, got {type(text).__name__}")
        return cls(set(text))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters, an int64 array; a character outside the
        vocabulary is an error naming it and its position."""
        if not isinstance(text, str):
            raise DataError(f"CharTokenizer.encode: expected a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codes.shape, -1, dtype=np.int64)
        known = codes < len(self._table)
        ids[known] = self._table[codes[known]]
        bad = np.flatnonzero(ids < 0)
        if bad.size:
            i = int(bad[0])
            raise DataError(f"CharTokenizer.encode: character {text[i]!r} at position {i} is not "
                            f"in the vocabulary of {self.vocab_size} characters")
        return ids

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (a list, numpy array or 1-d tensor)."""
        a = np.asarray(ids.numpy() if isinstance(ids, mnp.Tensor) else ids)
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise DataError(f"CharTokenizer.decode: expected a 1-d sequence of integer ids, got "
                            f"shape {a.shape} dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= self.vocab_size):
            raise DataError(f"CharTokenizer.decode: ids must lie in [0, {self.vocab_size}), got "
                            f"min {a.min()} max {a.max()}")
        return "".join(map(self.chars.__getitem__, a.tolist()))

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON, atomically and durably (`mnp.core.atomic`)."""
        payload = json.dumps({"format": TOKENIZER_FORMAT, "version": 1, "chars": self.chars},
                             ensure_ascii=True)
        with atomic_write(path) as f:
            f.write(payload.encode("ascii"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CharTokenizer":
        """Read a vocabulary written by `save`; anything else is an error naming the file."""
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise DataError(f"CharTokenizer.load: cannot read {os.fspath(path)!r}: {exc.strerror}") from None
        if size > MAX_VOCAB_FILE_BYTES:
            raise DataFormatError(f"{os.fspath(path)}: {size} bytes is too large for a vocabulary file")
        try:
            with open(path, encoding="utf-8") as f:
                meta = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise DataFormatError(f"{os.fspath(path)}: not a tokenizer file ({exc})") from None
        if (not isinstance(meta, dict) or meta.get("format") != TOKENIZER_FORMAT
                or not isinstance(meta.get("chars"), list)):
            raise DataFormatError(f"{os.fspath(path)}: not a {TOKENIZER_FORMAT} file")
        if meta.get("version") != 1:
            raise DataFormatError(f"{os.fspath(path)}: unsupported tokenizer version "
                                  f"{meta.get('version')!r}")
        try:
            return cls(meta["chars"])
        except DataError as exc:
            raise DataFormatError(f"{os.fspath(path)}: {exc}") from None

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


class TokenWindows(Dataset):
    """Every window of ``block_size`` consecutive tokens with its next-token targets:
    item ``i`` is ``(x, y)`` with ``x = tokens[i : i + block_size]`` and ``y`` the same window
    shifted by one. Windows overlap; ``len`` is ``len(tokens) - block_size``.

    >>> ds = TokenWindows(np.arange(10), block_size=4)
    >>> x, y = ds[0]
    >>> len(ds), x.tolist(), y.tolist()
    (6, [0, 1, 2, 3], [1, 2, 3, 4])
    """

    def __init__(self, tokens: Any, block_size: int):
        a = np.asarray(tokens.numpy() if isinstance(tokens, mnp.Tensor) else tokens)
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise DataError(f"TokenWindows: tokens must be a 1-d integer sequence, got shape "
                            f"{a.shape} dtype {a.dtype}")
        self.block_size = check_positive_int("TokenWindows", "block_size", block_size)
        if a.size <= self.block_size:
            raise DataError(f"TokenWindows: {a.size} tokens make no window of block_size "
                            f"{self.block_size} plus its target")
        self.tokens = a.astype(np.int64, copy=False)

    @classmethod
    def split(cls, tokens: Any, block_size: int, val_fraction: float = 0.1,
              at: int | None = None) -> tuple["TokenWindows", "TokenWindows"]:
        """``(train, val)`` windows of the tokens before and after one index: ``at`` if given,
        else the first ``1 - val_fraction`` of the tokens. No window crosses the split."""
        n = len(tokens)
        if at is None:
            if not 0 < val_fraction < 1:
                raise DataError(f"TokenWindows.split: val_fraction must lie in (0, 1), got {val_fraction!r}")
            at = int(round(n * (1 - val_fraction)))
        if not 0 < at < n:
            raise DataError(f"TokenWindows.split: the split index must lie in (0, {n}), got {at}")
        return cls(tokens[:at], block_size), cls(tokens[at:], block_size)

    def __len__(self) -> int:
        return len(self.tokens) - self.block_size

    def _windows(self, starts: np.ndarray) -> tuple[mnp.Tensor, mnp.Tensor]:
        idx = starts[:, None] + np.arange(self.block_size + 1)
        w = self.tokens[idx]
        return (mnp.from_numpy(np.ascontiguousarray(w[:, :-1])),
                mnp.from_numpy(np.ascontiguousarray(w[:, 1:])))

    def __getitem__(self, index: Any) -> tuple[mnp.Tensor, mnp.Tensor]:
        n = len(self)
        if isinstance(index, (int, np.integer)):
            if not -n <= index < n:
                raise IndexError(f"TokenWindows: index {index} out of range for {n} windows")
            x, y = self._windows(np.array([index % n]))
            return x[0], y[0]
        starts = np.arange(n)[index]
        return self._windows(np.atleast_1d(starts))

    def random_batch(self, batch_size: int, seed: int | None = None,
                     generator: np.random.Generator | None = None) -> tuple[mnp.Tensor, mnp.Tensor]:
        """``batch_size`` windows at uniformly random starts: ``(x, y)``, each
        ``(batch_size, block_size)`` int64. Draws from ``generator`` if given, else from a
        generator seeded with ``seed`` (else mnp's global one)."""
        batch_size = check_positive_int("TokenWindows.random_batch", "batch_size", batch_size)
        rng = generator if generator is not None else rng_for(seed, "TokenWindows.random_batch")
        return self._windows(rng.integers(0, len(self), batch_size))

    def __repr__(self) -> str:
        return f"TokenWindows({len(self.tokens)} tokens, block_size={self.block_size})"


class RandomWindowSampler:
    """Endless (or ``num_batches``-long) random-window batches of a `TokenWindows`, as
    language-model training draws them: each iteration yields ``(x, y)``. Seeded runs are
    reproducible, and `state_dict`/`load_state_dict` resume the stream exactly.

    >>> ds = TokenWindows(np.arange(100), block_size=8)
    >>> batches = RandomWindowSampler(ds, batch_size=4, num_batches=2, seed=0)
    >>> [x.shape for x, y in batches]
    [(4, 8), (4, 8)]
    """

    def __init__(self, windows: TokenWindows, batch_size: int, num_batches: int | None = None,
                 seed: int | None = None):
        if not isinstance(windows, TokenWindows):
            raise DataError(f"RandomWindowSampler: expected TokenWindows, got {type(windows).__name__}")
        self.windows = windows
        self.batch_size = check_positive_int("RandomWindowSampler", "batch_size", batch_size)
        self.num_batches = (None if num_batches is None
                            else check_positive_int("RandomWindowSampler", "num_batches", num_batches))
        self.rng = rng_for(seed, "RandomWindowSampler")

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("RandomWindowSampler: an endless sampler has no len()")
        return self.num_batches

    def __iter__(self) -> Iterator[tuple[mnp.Tensor, mnp.Tensor]]:
        count = 0
        while self.num_batches is None or count < self.num_batches:
            yield self.windows.random_batch(self.batch_size, generator=self.rng)
            count += 1

    def state_dict(self) -> dict:
        """The random stream's position (JSON-safe)."""
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


__all__ = ["tiny_shakespeare", "CharTokenizer", "TokenWindows", "RandomWindowSampler"]
