"""Atomic, durable writes (`mnp.core.atomic`) as every model-file writer uses them: temporaries
left by a killed save are removed by the next save to the same path, a live writer's
temporary is kept, and the data and the directory are fsynced."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnp import nn
from mnp.core import atomic
from mnp.nn import serialization as S

fcntl = pytest.importorskip("fcntl")

WRITERS = {
    "save": lambda path: S.save(nn.Linear(3, 2), path),
    "save_state_dict": lambda path: S.save_state_dict({"w": np.ones(3, np.float32)}, path),
    "save_checkpoint": lambda path: S.save_checkpoint(path, model=nn.Linear(3, 2), epoch=1,
                                                      optimizer_state={"state": {0: {"step": 1}}}),
}


def _leftover(directory, target="m.safetensors", random="abcd_123"):
    path = directory / f".{target}.mnp-{random}.tmp"
    path.write_bytes(b"half a file")
    return path


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_next_save_removes_temporaries_of_killed_saves(tmp_path, writer):
    stale = [_leftover(tmp_path), _leftover(tmp_path, random="zz99zz99")]
    WRITERS[writer](tmp_path / "m.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]
    assert not any(p.exists() for p in stale)


def test_only_this_paths_own_unlocked_temporaries_are_removed(tmp_path):
    other_target = _leftover(tmp_path, target="other.safetensors")
    longer_name = _leftover(tmp_path, target="m.safetensors.bak")
    not_ours = [tmp_path / ".m.safetensors.abcd_123.tmp",          # no mnp- tag
                tmp_path / ".m.safetensors.mnp-abcd_1234.tmp",     # not mkstemp's 8 characters
                tmp_path / "m.safetensors.mnp-abcd_123.tmp",       # not hidden
                tmp_path / ".m.safetensors.mnp-abcd_123.tmp.keep"]
    for p in not_ours:
        p.write_bytes(b"x")
    directory = _leftover(tmp_path, random="dir_____")
    directory.unlink()
    directory.mkdir()                                              # a directory, not a file
    fifo = tmp_path / ".m.safetensors.mnp-fifo0000.tmp"
    os.mkfifo(fifo)                                                # opening it would block
    live = _leftover(tmp_path, random="live0000")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)                  # a writer still running
        dead = _leftover(tmp_path, random="dead0000")
        removed = atomic.remove_stale_temporaries(tmp_path / "m.safetensors")
    assert removed == [str(dead)]
    for p in [other_target, longer_name, *not_ours, directory, fifo, live]:
        assert p.exists(), p


def test_a_symlink_named_like_a_temporary_is_not_followed(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    link = tmp_path / ".m.safetensors.mnp-link0000.tmp"
    link.symlink_to(victim)
    S.save(nn.Linear(2, 2), tmp_path / "m.safetensors")
    assert victim.read_text() == "keep me" and link.is_symlink()


def test_save_killed_by_sigkill_leaves_a_temporary_the_next_save_removes(tmp_path):
    path = tmp_path / "m.safetensors"
    S.save(nn.Linear(3, 2), path)
    before = path.read_bytes()
    code = textwrap.dedent(f"""
        import os, sys, time
        from mnp import nn
        from mnp.nn import serialization as S

        def stall(fd):          # the data is written; die before it is renamed into place
            print("writing", flush=True)
            time.sleep(60)

        os.fsync = stall
        S.save(nn.Linear(300, 200), {str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    leftovers = [n for n in os.listdir(tmp_path) if n != "m.safetensors"]
    assert len(leftovers) == 1 and atomic.temporary_pattern(path).fullmatch(leftovers[0])
    assert path.read_bytes() == before                     # the old file is intact
    S.save(nn.Linear(3, 2), path)
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert S.load(path).weight.shape == (2, 3)


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_the_file_then_its_directory_are_fsynced(tmp_path, monkeypatch, writer):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        info = os.fstat(fd)
        events.append(("fsync", "dir" if stat.S_ISDIR(info.st_mode) else "file", info.st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.basename(dst), os.stat(src).st_ino))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "m.safetensors"
    WRITERS[writer](path)
    written, directory = path.stat().st_ino, tmp_path.stat().st_ino
    assert events == [("fsync", "file", written), ("replace", "m.safetensors", written),
                      ("fsync", "dir", directory)]


def test_failed_write_removes_its_own_temporary(tmp_path):
    path = tmp_path / "x.bin"
    with pytest.raises(RuntimeError, match="stop"):
        with atomic.atomic_write(path) as f:
            f.write(b"partial")
            raise RuntimeError("stop")
    assert os.listdir(tmp_path) == []
