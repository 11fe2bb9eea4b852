"""The safetensors container: a validating reader and an atomic writer, on numpy arrays.

Layout: 8-byte little-endian header length ``n``; ``n`` bytes of UTF-8 JSON mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` plus an optional
``"__metadata__"`` of string to string; then the raw little-endian bytes of every tensor,
with offsets relative to the end of the header, packed without holes.

mnp's writer also stores the sha256 of the data section in the metadata (`CHECKSUM_KEY`);
the reader verifies it when present, so bytes damaged on disk or in transfer fail instead
of loading as wrong weights (files without it, from older mnp or other writers, still
load). The checksum detects corruption, not tampering: whoever can rewrite the data can
rewrite the header too.

The reader checks the whole header against the file's size before it allocates anything
for tensor data, so a malformed, truncated or hostile file costs at most the header cap
(100 MB) and fails with `ModelFormatError` naming the file: its checks are stricter than
the format's (mnp's dtypes only, no duplicate keys or NaN constants, at most `MAX_NDIM`
dimensions, string metadata) and its messages say what is wrong. The tensor data is then
read by the ``safetensors`` library (``safe_open``), which parses and checks the container
again on its own. Nothing is ever unpickled, evaluated or imported.

The writer stays mnp's own: it streams each array to the file in the order given (so a
state dict loads back in its own order) and needs no copy of the data, where
``safetensors.numpy.save`` orders tensors by dtype and name and builds the whole file in
memory first.

>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
>>> write_file(path, {"w": np.arange(3, dtype=np.float32)}, {"note": "hi"})
>>> tensors, meta = read_file(path)
>>> tensors["w"].tolist(), meta["note"]
([0.0, 1.0, 2.0], 'hi')
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from typing import Any, Mapping

import numpy as np

from mnp.core import MnpError
from mnp.core.atomic import atomic_write

#: largest header accepted (as the reference implementation)
MAX_HEADER_BYTES = 100 * 1024 * 1024
MAX_NDIM = 32
#: the largest array numpy can describe, in bytes (the product of the non-zero dimensions
#: counts, even when another dimension is zero)
MAX_ARRAY_BYTES = np.iinfo(np.intp).max
#: safetensors dtype code -> numpy dtype, for the dtypes mnp has
DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"), "I64": np.dtype("<i8"), "BOOL": np.dtype("|b1"),
}
CODES: dict[str, str] = {dt.name: code for code, dt in DTYPES.items()}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}
#: metadata key of the sha256 (hex) of the data section, checked by `read_file`
CHECKSUM_KEY = "mnp.data_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class ModelFormatError(MnpError, ValueError):
    """A model, state-dict or checkpoint file that is malformed, truncated, hostile or
    does not fit the model; the message names the file and what is wrong."""


def _fail(op: str, path: Any, why: str) -> ModelFormatError:
    return ModelFormatError(f"{op}: {os.fspath(path)}: {why}")


# -- writing ------------------------------------------------------------------------------
def _header(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None,
            op: str, path: Any) -> bytes:
    header: dict[str, Any] = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise _fail(op, path, f"metadata must map str to str, got {k!r}: {type(v).__name__}")
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, arr in arrays.items():
        n = arr.nbytes
        header[name] = {"dtype": CODES[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False,
                     allow_nan=False).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)          # pad so the data starts 8-byte aligned


def _prepare(tensors: Mapping[str, Any], op: str, path: Any) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise _fail(op, path, f"tensor names must be non-empty strings other than "
                                  f"'__metadata__', got {name!r}")
        arr = np.asarray(value.data if hasattr(value, "grad") else value)
        if arr.dtype.name not in CODES:
            raise _fail(op, path, f"tensor {name!r} has dtype {arr.dtype}, which the file "
                                  f"format cannot hold (mnp dtypes: {', '.join(CODES)})")
        arrays[name] = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
    return arrays


def _bytes_of(arr: np.ndarray) -> memoryview:
    return memoryview(arr.reshape(-1).view(np.uint8))


def _write_array(f: Any, arr: np.ndarray) -> None:
    if arr.size:
        f.write(_bytes_of(arr))


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for arr in arrays.values():
        if arr.size:
            digest.update(_bytes_of(arr))
    return digest.hexdigest()


def write_file(path: str | os.PathLike, tensors: Mapping[str, Any],
               metadata: Mapping[str, str] | None = None, op: str = "save") -> None:
    """Write ``tensors`` (name -> numpy array or Tensor), string ``metadata`` and the sha256
    of the data section (`CHECKSUM_KEY`) atomically and durably
    (`mnp.core.atomic.atomic_write`): an existing ``path`` is replaced whole or left
    untouched, and temporaries left by killed writes to ``path`` are removed."""
    arrays = _prepare(tensors, op, path)
    meta = dict(metadata or {})
    meta[CHECKSUM_KEY] = _checksum(arrays)
    header = _header(arrays, meta, op, path)
    with atomic_write(path) as f:
        f.write(len(header).to_bytes(8, "little"))
        f.write(header)
        for arr in arrays.values():
            _write_array(f, arr)


# -- reading ------------------------------------------------------------------------------
def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _sniff(first: bytes) -> str:
    """A hint for files that are clearly something else."""
    if first[:1] == b"\x80" or first[:2] in (b"(d", b"(l", b"}q", b"]q", b"cc"):
        return " (it looks like a Python pickle, which mnp never loads)"
    if first[:2] == b"PK":
        return " (it looks like a zip archive, e.g. a torch.save file, which mnp never loads)"
    if first[:6] == b"\x93NUMPY":
        return " (it looks like a .npy file)"
    return ""


def _parse_header(raw: bytes, op: str, path: Any) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(op, path, f"header is not valid UTF-8 ({exc.reason} at byte "
                              f"{exc.start})") from None
    if not text.startswith("{"):
        raise _fail(op, path, "header is not a JSON object")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _fail(op, path, f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise _fail(op, path, "header is not a JSON object")
    return header


def _check_entry(name: str, entry: Any, data_len: int, op: str, path: Any
                 ) -> tuple[np.dtype, tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise _fail(op, path, f"tensor {name!r}: entry must have exactly the keys dtype, shape "
                              f"and data_offsets, got {entry!r:.200}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str) or code not in DTYPES:
        raise _fail(op, path, f"tensor {name!r}: unknown or unsupported dtype {code!r:.40} "
                              f"(readable: {', '.join(DTYPES)})")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(_is_int(d) and d >= 0 for d in shape)):
        raise _fail(op, path, f"tensor {name!r}: shape must be a list of at most {MAX_NDIM} "
                              f"non-negative integers, got {shape!r:.200}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_int(o) for o in offsets)):
        raise _fail(op, path, f"tensor {name!r}: data_offsets must be two integers, got "
                              f"{offsets!r:.200}")
    begin, end = offsets
    dtype = DTYPES[code]
    if not 0 <= begin <= end:
        raise _fail(op, path, f"tensor {name!r}: invalid data_offsets [{begin}, {end}]")
    if end > data_len:
        raise _fail(op, path, f"tensor {name!r}: data_offsets [{begin}, {end}] go past the end "
                              f"of the data ({data_len} bytes); the file is truncated or corrupt")
    if math.prod(max(d, 1) for d in shape) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise _fail(op, path, f"tensor {name!r}: shape {tuple(shape)} of {code} is larger than "
                              f"any array can be (its non-zero dimensions alone need more "
                              f"than {MAX_ARRAY_BYTES} bytes)")
    need = math.prod(shape) * dtype.itemsize
    if end - begin != need:
        raise _fail(op, path, f"tensor {name!r}: shape {tuple(shape)} of {code} needs {need} "
                              f"bytes but data_offsets [{begin}, {end}] span {end - begin}")
    return dtype, tuple(shape), begin, end


def read_header(path: str | os.PathLike, op: str = "load"
                ) -> tuple[dict[str, tuple[np.dtype, tuple[int, ...], int, int]], dict[str, str], int]:
    """Validate a file's header against its size without reading tensor data.

    Returns ``(entries, metadata, data_start)`` with ``entries`` name ->
    ``(dtype, shape, begin, end)`` in data order.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        first = f.read(8)
        if len(first) < 8:
            raise _fail(op, path, f"file is {size} bytes, too short for a safetensors header"
                                  f"{_sniff(first)}")
        n = int.from_bytes(first, "little")
        if n > MAX_HEADER_BYTES:
            raise _fail(op, path, f"header length {n} exceeds the {MAX_HEADER_BYTES}-byte "
                                  f"limit{_sniff(first)}")
        if n > size - 8:
            raise _fail(op, path, f"header length {n} is larger than the rest of the file "
                                  f"({size - 8} bytes); the file is truncated or not a "
                                  f"safetensors file{_sniff(first)}")
        if n < 2:
            raise _fail(op, path, f"header length {n} is too small{_sniff(first)}")
        raw = f.read(n)
    if len(raw) != n:
        raise _fail(op, path, "file changed size while being read")
    header = _parse_header(raw, op, path)
    data_start, data_len = 8 + n, size - 8 - n
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _fail(op, path, "__metadata__ must map strings to strings")
    entries = {name: _check_entry(name, e, data_len, op, path) for name, e in header.items()}
    order = sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3]))
    pos = 0
    for name, (_, _, begin, end) in order:
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else "leaves a gap before it"
            raise _fail(op, path, f"tensor {name!r}: data_offsets [{begin}, {end}] {what} "
                                  f"(expected to start at {pos})")
        pos = end
    if pos != data_len:
        raise _fail(op, path, f"tensors cover {pos} bytes but the data section holds {data_len}; "
                              f"the file has trailing bytes or is corrupt")
    return dict(order), metadata, data_start


def read_file(path: str | os.PathLike, op: str = "load"
              ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every tensor (name -> numpy array, native byte order, in data order) and the
    metadata of a safetensors file, after validating the header (see `read_header`).

    The tensors are read by ``safetensors.safe_open`` one at a time (the file is mapped, not
    read whole); each must have the dtype and shape the validated header gave it.
    """
    import safetensors        # on first read, so that importing mnp.nn stays light

    entries, metadata, _ = read_header(path, op)
    expected = metadata.get(CHECKSUM_KEY)
    if expected is not None and not _HEX64.fullmatch(expected):
        raise _fail(op, path, f"metadata {CHECKSUM_KEY!r} is not a sha256 hex digest: "
                              f"{expected!r:.80}")
    digest = hashlib.sha256()
    tensors: dict[str, np.ndarray] = {}
    try:
        with safetensors.safe_open(os.fspath(path), framework="numpy") as f:
            if (f.metadata() or {}) != metadata or set(f.keys()) != set(entries):
                raise _fail(op, path, "file changed while being read")
            for name, (dtype, shape, _, _) in entries.items():
                arr = f.get_tensor(name)
                if arr.shape != shape or arr.dtype.newbyteorder("<") != dtype.newbyteorder("<"):
                    raise _fail(op, path, "file changed while being read")
                if arr.size:
                    digest.update(_bytes_of(arr.astype(dtype, copy=False)))
                tensors[name] = arr.view(np.uint8) != 0 if dtype.kind == "b" else arr
    except safetensors.SafetensorError as exc:
        raise _fail(op, path, f"not a valid safetensors file: {exc}") from None
    if expected is not None and digest.hexdigest() != expected:
        raise _fail(op, path, f"the tensor data does not match its checksum ({CHECKSUM_KEY} "
                              f"{expected[:16]}..., the data hashes to "
                              f"{digest.hexdigest()[:16]}...): the file is corrupt")
    return tensors, metadata
