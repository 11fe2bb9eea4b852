"""Tiny Shakespeare, the character tokenizer, token windows and random-window batches."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.data import (CharTokenizer, DataError, DataFormatError, RandomWindowSampler,
                      TokenWindows, tiny_shakespeare)


def test_tiny_shakespeare_is_the_published_corpus():
    text = tiny_shakespeare()
    assert isinstance(text, str) and len(text) == 1_115_394
    assert len(set(text)) == 65
    assert hashlib.sha256(text.encode()).hexdigest() == \
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


def test_tokenizer_round_trips_the_corpus():
    text = tiny_shakespeare()
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() == 0 and ids.max() == 64
    assert tok.decode(ids) == text
    assert tok.chars == sorted(set(text))        # ids follow sorted character order
    assert tok.encode("\n").tolist() == [0]


@given(st.text(min_size=1, max_size=50))
@settings(max_examples=50, deadline=None)
def test_tokenizer_round_trips_any_text(text):
    tok = CharTokenizer.from_text(text)
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(mnp.tensor(tok.encode(text))) == text


def test_tokenizer_errors_name_the_character_and_position():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(DataError, match=r"'z' at position 2"):
        tok.encode("abz")
    with pytest.raises(DataError, match=r"'€' at position 0"):
        tok.encode("€")
    with pytest.raises(DataError, match=r"ids must lie in \[0, 3\)"):
        tok.decode([0, 3])
    with pytest.raises(DataError, match="1-d"):
        tok.decode([[0]])
    with pytest.raises(DataError, match="single characters"):
        CharTokenizer(["ab"])
    with pytest.raises(DataError, match="repeated"):
        CharTokenizer(["a", "a"])


def test_tokenizer_saves_and_loads_its_vocabulary(tmp_path):
    tok = CharTokenizer.from_text("hello, world\n")
    path = tmp_path / "vocab.json"
    tok.save(path)
    back = CharTokenizer.load(path)
    assert back.chars == tok.chars
    assert back.encode("low") .tolist() == tok.encode("low").tolist()
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]     # no temporary left


def test_tokenizer_save_is_durable_and_removes_temporaries_of_killed_saves(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    stale = tmp_path / ".vocab.json.mnp-k1lled00.tmp"
    stale.write_text('{"format": ')
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    CharTokenizer.from_text("abc").save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"] and len(synced) == 2
    assert CharTokenizer.load(path).chars == ["a", "b", "c"]


@pytest.mark.parametrize("content, match", [
    (b"\xff\xfe", "not a tokenizer file"),
    (b"[1, 2]", "not a mnp-char-tokenizer file"),
    (json.dumps({"format": "mnp-char-tokenizer", "version": 2, "chars": ["a"]}).encode(),
     "unsupported tokenizer version"),
    (json.dumps({"format": "mnp-char-tokenizer", "version": 1, "chars": ["a", "a"]}).encode(),
     "repeated"),
    (b"[" * 100_000, "not a tokenizer file"),
])
def test_tokenizer_load_rejects_bad_files_naming_them(tmp_path, content, match):
    path = tmp_path / "vocab.json"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=match) as info:
        CharTokenizer.load(path)
    assert str(path) in str(info.value)


def test_token_windows_are_shifted_next_token_targets():
    ds = TokenWindows(np.arange(20), block_size=5)
    assert len(ds) == 15
    x, y = ds[3]
    assert x.tolist() == [3, 4, 5, 6, 7] and y.tolist() == [4, 5, 6, 7, 8]
    assert x.dtype == mnp.int64
    xs, ys = ds[[0, 14]]
    assert xs.shape == (2, 5) and ys[1].tolist() == [15, 16, 17, 18, 19]
    x, _ = ds[-1]
    assert x.tolist() == [14, 15, 16, 17, 18]
    with pytest.raises(IndexError, match="out of range for 15 windows"):
        ds[15]
    with pytest.raises(DataError, match="no window"):
        TokenWindows(np.arange(5), block_size=5)


def test_split_holds_out_the_tail_without_crossing_windows():
    tokens = np.arange(1000)
    train, val = TokenWindows.split(tokens, block_size=8, val_fraction=0.1)
    assert train.tokens[-1] == 899 and val.tokens[0] == 900
    x, y = train[len(train) - 1]
    assert y.tolist()[-1] == 899                 # no training target from the held-out part
    train, val = TokenWindows.split(tokens, block_size=8, at=500)
    assert len(train.tokens) == 500 and len(val.tokens) == 500
    with pytest.raises(DataError, match="split index"):
        TokenWindows.split(tokens, block_size=8, at=1000)


def test_random_batches_are_reproducible_and_resumable():
    ds = TokenWindows(np.arange(500), block_size=16)
    a = [x.numpy() for x, _ in RandomWindowSampler(ds, 4, num_batches=3, seed=7)]
    b = [x.numpy() for x, _ in RandomWindowSampler(ds, 4, num_batches=3, seed=7)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    for x in a:     # every row is a window of consecutive tokens
        assert np.all(np.diff(x, axis=1) == 1)
    sampler = RandomWindowSampler(ds, 4, seed=1)
    stream = iter(sampler)
    next(stream)
    state = json.loads(json.dumps(sampler.state_dict()))
    expected = next(stream)[0].numpy()
    other = RandomWindowSampler(ds, 4, seed=99)
    other.load_state_dict(state)
    assert np.array_equal(next(iter(other))[0].numpy(), expected)
    x, y = ds.random_batch(6, seed=0)
    assert x.shape == y.shape == (6, 16)
    assert np.array_equal(y.numpy()[:, :-1], x.numpy()[:, 1:])
