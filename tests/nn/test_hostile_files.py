"""Malformed, truncated and hostile files: each fails with a ModelFormatError naming the file,
before any large allocation, and never runs code from the file."""
from __future__ import annotations

import json
import struct
import sys
import tracemalloc

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import serialization as S
from mnp.nn import serialization_io
from mnp.nn.serialization import ModelFormatError
from mnp.nn.serialization_codec import decode

#: no hostile file may make the loader allocate more than this
PEAK_LIMIT = 4 * 1024 * 1024


def _raw(path, header, data=b"", length=None):
    """Write a safetensors-shaped file from a header (dict or raw bytes) and data bytes."""
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(body) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + body + data)
    return path


def _model_file(tmp_path, model=None, name="m.safetensors"):
    path = tmp_path / name
    S.save(model if model is not None else nn.Sequential(nn.Linear(3, 4), nn.ReLU()), path)
    return path


def _with_arch(tmp_path, arch, tensors=None, name="h.safetensors"):
    """A well-formed container whose architecture metadata is ``arch`` (any JSON, or text)."""
    text = arch if isinstance(arch, str) else json.dumps(arch)
    path = tmp_path / name
    serialization_io.write_file(path, tensors or {}, S._metadata("model", **{
        "mnp.architecture": text}))
    return path


def _fails(path, match=None, loader=S.load):
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match=match) as info:
            loader(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value), "the error names the file"
    assert peak < PEAK_LIMIT, f"loading a hostile file allocated {peak} bytes"
    return info.value


# -- the container --------------------------------------------------------------------------------
@pytest.mark.parametrize("cut", [0, 1, 7, 8, 12, "header-1", "data+4", "end-1"])
def test_truncated_files(tmp_path, cut):
    path = _model_file(tmp_path)
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    keep = {"header-1": 8 + n - 1, "data+4": 8 + n + 4, "end-1": len(raw) - 1}.get(cut, cut)
    path.write_bytes(raw[:keep])
    for loader in (S.load, S.load_state_dict, S.load_checkpoint):
        _fails(path, "truncated|too short|larger than the rest|past the end|cover", loader)


@pytest.mark.parametrize("header, match", [
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]', "not valid JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b'"just a string"', "not a JSON object"),
    (b'{"a": 1, "a": 2}', "duplicate key"),
    (b'{"a": NaN}', "not valid JSON"),
    pytest.param(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON",
                 id="nested-100000-deep"),
    (b'{"__metadata__": {"k": 1}}', "__metadata__ must map strings to strings"),
    (b'{"__metadata__": [1]}', "__metadata__ must map strings to strings"),
])
def test_corrupted_headers(tmp_path, header, match):
    _fails(_raw(tmp_path / "bad.safetensors", header), match, S.load_state_dict)


def test_header_length_larger_than_the_file(tmp_path):
    path = _raw(tmp_path / "x.safetensors", b"{}", length=1000)
    _fails(path, "header length 1000 is larger than the rest of the file", S.load_state_dict)


@pytest.mark.parametrize("length", [2**63 + 5, 2**40, serialization_io.MAX_HEADER_BYTES + 1])
def test_header_length_over_the_cap_is_refused_before_reading(tmp_path, length):
    path = _raw(tmp_path / "x.safetensors", b"{}", length=length)
    _fails(path, f"header length {length} exceeds", S.load)


def test_tiny_header_length(tmp_path):
    _fails(_raw(tmp_path / "x.safetensors", b"", length=0), "too small", S.load_state_dict)


def _entry(**kw):
    entry = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    entry.update(kw)
    return entry


@pytest.mark.parametrize("entries, data, match", [
    ({"w": _entry(dtype="BF16", shape=[4])}, 8, "unsupported dtype 'BF16'"),
    ({"w": _entry(dtype="F8_E4M3")}, 8, "unsupported dtype"),
    ({"w": _entry(dtype=4)}, 8, "unsupported dtype"),
    ({"w": _entry(dtype="object")}, 8, "unsupported dtype"),
    ({"w": _entry(shape=[-2])}, 8, "non-negative integers"),
    ({"w": _entry(shape=[True, 2])}, 8, "non-negative integers"),
    ({"w": _entry(shape=[2.0])}, 8, "non-negative integers"),
    ({"w": _entry(shape="2")}, 8, "non-negative integers"),
    ({"w": _entry(shape=[1] * 40, data_offsets=[0, 4])}, 4, "at most 32"),
    ({"w": _entry(data_offsets=[0, 8, 9])}, 8, "two integers"),
    ({"w": _entry(data_offsets=[0.0, 8])}, 8, "two integers"),
    ({"w": _entry(data_offsets=[8, 0])}, 8, "invalid data_offsets"),
    ({"w": _entry(data_offsets=[-8, 0])}, 8, "invalid data_offsets"),
    ({"w": _entry(data_offsets=[0, 80])}, 8, "past the end"),
    ({"w": _entry(shape=[3])}, 8, r"needs 12 bytes but data_offsets \[0, 8\] span 8"),
    ({"w": _entry(shape=[2**40, 2**40], data_offsets=[0, 8])}, 8, "larger than any array"),
    ({"w": _entry(shape=[2**20, 2**20], data_offsets=[0, 8])}, 8, "needs 4398046511104 bytes"),
    ({"w": _entry(shape=[0, 2**62, 2**62], data_offsets=[0, 0])}, 0, "larger than any array"),
    ({"w": _entry(shape=[2**61, 0], data_offsets=[0, 0])}, 0, "larger than any array"),
    ({"w": _entry(shape=[0] + [2**20] * 4, data_offsets=[0, 0])}, 0, "larger than any array"),
    ({"w": _entry(), "v": _entry(data_offsets=[4, 12])}, 12, "overlaps"),
    ({"w": _entry(), "v": _entry(data_offsets=[12, 20])}, 20, "gap"),
    ({"w": _entry()}, 12, "trailing bytes"),
    ({"w": {"dtype": "F32", "shape": [2]}}, 8, "exactly the keys"),
    ({"w": dict(_entry(), extra=1)}, 8, "exactly the keys"),
    ({"w": [1, 2]}, 8, "exactly the keys"),
])
def test_bad_tensor_entries(tmp_path, entries, data, match):
    path = _raw(tmp_path / "bad.safetensors", entries, b"\0" * data)
    _fails(path, match, S.load_state_dict)


@pytest.mark.parametrize("loader", [S.load_state_dict, S.load, S.load_checkpoint])
def test_an_empty_tensor_with_huge_dimensions_is_a_model_format_error(tmp_path, loader):
    entries = {"w": _entry(shape=[0, 2**62, 2**62], data_offsets=[0, 0])}
    _fails(_raw(tmp_path / "big.safetensors", entries), r"shape \(0, 4611686018427387904", loader)


def test_empty_tensors_with_large_dimensions_that_fit_still_load(tmp_path):
    entries = {"w": _entry(shape=[0, 2**30, 2**30], data_offsets=[0, 0])}
    assert S.load_state_dict(_raw(tmp_path / "e.safetensors", entries))["w"].shape == \
        (0, 2**30, 2**30)


def test_valid_hand_written_file_loads(tmp_path):
    """The same writer as the hostile cases, with a correct header: the tests above fail for
    the reason they name, not because `_raw` writes broken files."""
    entries = {"w": _entry(), "v": _entry(dtype="I64", shape=[1], data_offsets=[8, 16])}
    data = np.array([1.5, -2], np.float32).tobytes() + np.array([7], np.int64).tobytes()
    sd = S.load_state_dict(_raw(tmp_path / "ok.safetensors", entries, data))
    assert sd["w"].tolist() == [1.5, -2.0] and sd["v"].tolist() == [7]


def test_other_file_kinds_are_named(tmp_path):
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    _fails(npy, "npy", S.load_state_dict)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    _fails(empty, "0 bytes, too short", S.load)


# -- pickles are never loaded ----------------------------------------------------------------------
class _CreatesFile:
    """Unpickling this object opens (creates) a file: the stand-in for arbitrary code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_pickle_file_is_rejected_without_running_it(tmp_path, protocol):
    import pickle  # only to write the hostile payload under test; mnp never unpickles

    control = tmp_path / "control-marker"
    f = pickle.loads(pickle.dumps(_CreatesFile(control), protocol=protocol))
    f.close()
    assert control.exists(), "the payload is live: unpickling it does create the marker"

    marker = tmp_path / "marker"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_CreatesFile(marker), protocol=protocol))
    for loader in (S.load, S.load_state_dict, S.load_checkpoint):
        err = _fails(path, "pickle" if protocol >= 2 else "exceeds", loader)
    assert not marker.exists()
    assert "never loads" in str(err) or protocol < 2


def test_a_torch_save_file_is_rejected(tmp_path, torch):
    marker = tmp_path / "marker"
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3), "evil": _CreatesFile(marker)}, str(path))
    _fails(path, "zip archive", S.load)
    assert not marker.exists()


# -- the architecture -------------------------------------------------------------------------------
def test_unknown_layer_name(tmp_path):
    arch = {"type": "NoSuchLayer", "config": {}}
    err = _fails(_with_arch(tmp_path, arch), "'NoSuchLayer' at model is not registered")
    assert "Linear" in str(err)           # the known names are listed


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen",
                                  "mnp.nn.Linear", "hostile_marker_module.Evil"])
def test_dotted_paths_are_never_imported(tmp_path, monkeypatch, name):
    marker = tmp_path / "imported"
    (tmp_path / "hostile_marker_module.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Evil:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    arch = {"type": "Sequential", "config": {}, "children": [
        ["0", {"type": name, "config": {"command": "touch " + str(marker)}}]]}
    _fails(_with_arch(tmp_path, arch), f"{name!r} at model.0 is not registered")
    assert not marker.exists()
    assert "hostile_marker_module" not in sys.modules


@pytest.mark.parametrize("arch, match", [
    ("{not json", "not valid JSON"),
    pytest.param("[" * 50_000 + "]" * 50_000, "not valid JSON|must be an object",
                 id="nested-50000-deep"),
    ([1, 2], "must be an object"),
    ({"type": "Linear"}, "must be an object"),
    ({"type": "Linear", "config": {}, "code": "x"}, "must be an object"),
    ({"type": ["Linear"], "config": {}}, "'type' must be a string"),
    ({"type": "Linear", "config": [2, 3]}, "'type' must be a string and 'config' an object"),
    ({"type": "Sequential", "config": {}, "children": {"0": {}}}, "pairs"),
    ({"type": "Sequential", "config": {}, "children": [[0, {}]]}, "pairs"),
    ({"type": "Linear", "config": {"in_features": 2, "out_features": 2},
      "children": [["0", {"type": "ReLU", "config": {}}]]}, "not a container"),
])
def test_malformed_architectures(tmp_path, arch, match):
    _fails(_with_arch(tmp_path, arch), match)


def test_architecture_nested_too_deep(tmp_path):
    arch = {"type": "ReLU", "config": {}}
    for _ in range(S.MAX_DEPTH + 5):
        arch = {"type": "Sequential", "config": {}, "children": [["0", arch]]}
    _fails(_with_arch(tmp_path, arch), "deeper than")


@pytest.mark.parametrize("config, match", [
    ({"in_features": "abc", "out_features": 2}, "cannot build Linear at model"),
    ({"in_features": 2}, "cannot build Linear"),
    ({"in_features": 2, "out_features": 2, "activation": "os.system"}, "cannot build Linear"),
    ({"in_features": -3, "out_features": 2}, "cannot build Linear"),
])
def test_configs_that_do_not_build(tmp_path, config, match):
    _fails(_with_arch(tmp_path, {"type": "Linear", "config": config}), match)


@pytest.mark.parametrize("config", [
    {"in_features": 10**6, "out_features": 10**6},
    {"in_features": 10**30, "out_features": 1},
    {"in_features": 2**20, "out_features": 2**20, "bias": True},
])
def test_huge_configs_are_refused_before_building(tmp_path, config):
    _fails(_with_arch(tmp_path, {"type": "Linear", "config": config}), "budget")


def test_many_layers_cannot_add_up_to_a_huge_model(tmp_path):
    layer = {"type": "Linear", "config": {"in_features": 1000, "out_features": 1000}}
    arch = {"type": "Sequential", "config": {}, "children": [[str(i), layer] for i in range(100)]}
    _fails(_with_arch(tmp_path, arch), "budget")


def test_budget_can_be_raised_for_a_trusted_file(tmp_path):
    path = _with_arch(tmp_path, {"type": "Linear", "config": {"in_features": 2,
                                                              "out_features": 3}})
    with pytest.raises(ModelFormatError, match="budget"):
        S.load(path, max_config_elements=5)
    with pytest.raises(ModelFormatError, match="missing 'weight', 'bias'"):
        S.load(path)      # builds, then finds no weights in the file


# -- tensors that do not fit the architecture ----------------------------------------------------------
def _linear_arch():
    return {"type": "Linear", "config": {"in_features": 2, "out_features": 3, "bias": True}}


@pytest.mark.parametrize("tensors, match", [
    ({"weight": np.zeros((4, 4), np.float32), "bias": np.zeros(3, np.float32)},
     r"'weight' has shape \(4, 4\) in the file but the model expects \(3, 2\)"),
    ({"weight": np.zeros((3, 2), np.int32), "bias": np.zeros(3, np.float32)},
     "'weight' has dtype int32 in the file but the model expects float32"),
    ({"weight": np.zeros((3, 2), np.float32)}, "missing 'bias'"),
    ({"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(3, np.float32),
      "extra": np.zeros(1, np.float32)}, "unexpected 'extra'"),
])
def test_tensor_shape_dtype_and_name_mismatches(tmp_path, tensors, match):
    _fails(_with_arch(tmp_path, _linear_arch(), tensors), match)


def test_mismatch_is_strict_for_checkpoints_too(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    S.save_checkpoint(path, model=nn.Linear(2, 3), epoch=1)
    with pytest.raises(ModelFormatError, match="'weight' has shape"):
        S.load_checkpoint(path, model=nn.Linear(2, 4))
    with pytest.raises(ModelFormatError, match="not an mnp checkpoint"):
        S.load_checkpoint(_model_file(tmp_path))


# -- checkpoints' JSON state -------------------------------------------------------------------------
def _checkpoint(tmp_path, body, tensors=None):
    path = tmp_path / "ckpt.safetensors"
    text = body if isinstance(body, str) else json.dumps(body)
    serialization_io.write_file(path, tensors or {}, S._metadata("checkpoint", **{
        "mnp.checkpoint": text}))
    return path


@pytest.mark.parametrize("extra, match", [
    ({"__tensor__": ["missing", "ndarray"]}, "does not hold"),
    ({"__tensor__": ["x", "os.system"]}, "malformed tensor reference"),
    ({"__tensor__": "x"}, "malformed tensor reference"),
    ({"__tuple__": 3}, "malformed tuple"),
    ({"__items__": [[{"a": 1}, 2]]}, "malformed dict"),
    ({"__items__": [[1]]}, "malformed dict"),
])
def test_malformed_checkpoint_state(tmp_path, extra, match):
    body = {"epoch": 1, "has_model": False, "optimizer": None, "extra": extra}
    _fails(_checkpoint(tmp_path, body, {"x": np.ones(2)}), match, S.load_checkpoint)


def test_checkpoint_state_deep_nesting_and_bad_epoch(tmp_path):
    deep = None
    for _ in range(200):
        deep = [deep]
    body = {"epoch": 1, "has_model": False, "optimizer": None, "extra": deep}
    _fails(_checkpoint(tmp_path, body), "deeper than", S.load_checkpoint)
    body = {"epoch": "1; rm -rf /", "has_model": False, "optimizer": None, "extra": None}
    _fails(_checkpoint(tmp_path, body), "not an integer", S.load_checkpoint)
    _fails(_checkpoint(tmp_path, "{oops"), "not valid JSON", S.load_checkpoint)
    _fails(_checkpoint(tmp_path, "[]"), "malformed checkpoint", S.load_checkpoint)


def test_decoding_builds_only_plain_data():
    node = {"__class__": "os.system", "args": ["echo hi"], "__reduce__": {"f": "eval"}}
    out = decode(node, {})
    assert out == node and type(out) is dict
    assert [type(v) for v in out.values()] == [str, list, dict]


def test_errors_are_mnp_errors():
    assert issubclass(ModelFormatError, mnp.MnpError)


# -- config values are held to the constructor's annotations before anything is built ----------
@pytest.mark.parametrize("layer, config, match", [
    ("Linear", {"in_features": 12000.0, "out_features": 12000.0},
     "config 'in_features' must be an int, got float 12000.0"),
    ("Linear", {"in_features": "12000", "out_features": 12000},
     "config 'in_features' must be an int, got str '12000'"),
    ("Linear", {"in_features": True, "out_features": 4}, "'in_features' must be an int, got bool"),
    ("Linear", {"in_features": 4, "out_features": 4, "bias": 1}, "'bias' must be a bool, got int"),
    ("Linear", {"in_features": 4, "out_features": 4, "bias": "yes"}, "'bias' must be a bool"),
    ("Dropout", {"p": "0.5"}, "'p' must be a finite number, got str"),
    ("LeakyReLU", {"negative_slope": 1e999}, "'negative_slope' must be a finite number"),
    ("Embedding", {"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 1.5},
     "'padding_idx' must be int or None, got float 1.5"),
    ("GELU", {"approximate": 0}, "'approximate' must be a string"),
])
def test_config_values_of_the_wrong_type_are_refused_before_building(tmp_path, layer, config,
                                                                      match):
    text = json.dumps({"type": layer, "config": config}).replace("Infinity", "1e999")
    error = _fails(_with_arch(tmp_path, text), match)
    assert f"cannot build {layer} at model" in str(error)


@pytest.mark.parametrize("layer, config", [
    # parameters without a precise annotation: every number and numeric string is a size
    ("LayerNorm", {"normalized_shape": [12000.0, 12000.0]}),
    ("LayerNorm", {"normalized_shape": ["12000", "12000"]}),
    ("LayerNorm", {"normalized_shape": [1e999]}),
    ("GroupNorm", {"num_groups": 1, "num_channels": 1000000000000}),
    ("Conv2d", {"in_channels": 512, "out_channels": 512, "kernel_size": [300.0, 300.0]}),
    ("Conv2d", {"in_channels": 512, "out_channels": 512, "kernel_size": "300"}),
])
def test_sizes_hidden_in_floats_or_strings_count_toward_the_budget(tmp_path, layer, config):
    text = json.dumps({"type": layer, "config": config}).replace("Infinity", "1e999")
    _fails(_with_arch(tmp_path, text), "budget")


def test_valid_configs_of_every_kind_still_build(tmp_path):
    arch = {"type": "Sequential", "config": {}, "children": [
        ["0", {"type": "Conv2d", "config": {"in_channels": 1, "out_channels": 2,
                                            "kernel_size": [3, 3], "padding": "same"}}],
        ["1", {"type": "LeakyReLU", "config": {"negative_slope": 1, "inplace": False}}],
        ["2", {"type": "BatchNorm2d", "config": {"num_features": 2, "momentum": None}}],
        ["3", {"type": "Flatten", "config": {}}],
        ["4", {"type": "LayerNorm", "config": {"normalized_shape": [18]}}],
        ["5", {"type": "Embedding", "config": {"num_embeddings": 5, "embedding_dim": 2,
                                               "padding_idx": None}}],
    ]}
    model = S.build(arch)
    assert model[0].kernel_size == (3, 3) and model[2].momentum is None


def test_config_nested_900_deep_is_refused(tmp_path):
    deep = 1
    for _ in range(900):
        deep = [deep]
    _fails(_with_arch(tmp_path, {"type": "Linear", "config": {"in_features": deep,
                                                              "out_features": 2}}), "nests deeper")
    shallow = 1
    for _ in range(S.MAX_CONFIG_DEPTH + 1):
        shallow = {"a": shallow}
    _fails(_with_arch(tmp_path, {"type": "Identity", "config": {"args": shallow}}),
           f"config of Identity at model nests deeper than {S.MAX_CONFIG_DEPTH} levels")


def test_checkpoint_metadata_nested_900_deep_is_refused(tmp_path):
    deep = 0
    for _ in range(900):
        deep = {"a": deep}
    body = json.dumps({"epoch": 1, "has_model": False, "optimizer": None, "extra": deep})
    path = tmp_path / "c.safetensors"
    serialization_io.write_file(path, {}, S._metadata("checkpoint", **{"mnp.checkpoint": body}))
    _fails(path, "nests deeper than", loader=S.load_checkpoint)


# -- the data checksum ----------------------------------------------------------------------
def _data_start(path):
    return 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]


def _overwrite(path, offset, data):
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _rewrite_header(path, change):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    change(header)
    return _raw(path, header, raw[8 + n:])


CORRUPTIBLE = {
    "load": lambda p: S.save(nn.Sequential(nn.Linear(30, 30), nn.ReLU()), p),
    "load_state_dict": lambda p: S.save_state_dict(nn.Linear(30, 30).state_dict(), p),
    "load_checkpoint": lambda p: S.save_checkpoint(p, model=nn.Linear(30, 30), epoch=2),
}


@pytest.mark.parametrize("loader", sorted(CORRUPTIBLE))
def test_overwritten_tensor_bytes_fail_the_checksum(tmp_path, loader):
    path = tmp_path / "m.safetensors"
    CORRUPTIBLE[loader](path)
    meta = serialization_io.read_header(path)[1]
    assert len(meta[serialization_io.CHECKSUM_KEY]) == 64
    _overwrite(path, _data_start(path) + 500, b"\xff" * 1000)     # 250 float32 NaNs
    error = _fails(path, "does not match its checksum", getattr(S, loader))
    assert "corrupt" in str(error)


def test_a_single_flipped_bit_fails_the_checksum(tmp_path):
    path = tmp_path / "m.safetensors"
    S.save(nn.Linear(4, 4), path)
    end = path.stat().st_size
    _overwrite(path, end - 1, bytes([path.read_bytes()[-1] ^ 1]))
    _fails(path, "checksum")


@pytest.mark.parametrize("loader", sorted(CORRUPTIBLE))
def test_files_without_a_checksum_still_load(tmp_path, loader):
    path = tmp_path / "old.safetensors"
    CORRUPTIBLE[loader](path)
    _rewrite_header(path, lambda h: h["__metadata__"].pop(serialization_io.CHECKSUM_KEY))
    assert serialization_io.CHECKSUM_KEY not in serialization_io.read_header(path)[1]
    getattr(S, loader)(path)


@pytest.mark.parametrize("value", ["", "abc", "0" * 63, "G" * 64, "A" * 64])
def test_a_malformed_checksum_is_refused(tmp_path, value):
    path = tmp_path / "m.safetensors"
    S.save(nn.Linear(2, 2), path)
    _rewrite_header(path, lambda h: h["__metadata__"].update({serialization_io.CHECKSUM_KEY:
                                                              value}))
    _fails(path, "is not a sha256 hex digest", S.load_state_dict)


def test_checkpoint_with_a_non_integer_optimizer_state_key(tmp_path):
    optim = pytest.importorskip("mnp.optim")
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(mnp.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    sd["state"] = {"abc": sd["state"][0]}
    path = tmp_path / "ckpt.safetensors"
    S.save_checkpoint(path, model=model, optimizer_state=sd, epoch=1)
    fresh = optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(optim.OptimizerError) as info:
        S.load_checkpoint(path, optimizer=fresh)
    assert str(info.value).startswith(f"load_checkpoint: {path}: SGD.load_state_dict: state "
                                      f"key 'abc' is not an integer parameter index")


# -- a file replaced while it is read -----------------------------------------------------------
def _replaced_after_validation(monkeypatch, path, content):
    """Make the header check pass on ``path``'s current bytes, then put ``content`` there
    before the tensors are read (another process rewriting the file mid-load)."""
    validate = serialization_io.read_header

    def validate_then_replace(p, op="load"):
        result = validate(p, op)
        path.write_bytes(content)
        return result

    monkeypatch.setattr(serialization_io, "read_header", validate_then_replace)


def test_a_file_replaced_by_another_model_while_read_is_refused(tmp_path, monkeypatch):
    path, other = tmp_path / "m.safetensors", tmp_path / "o.safetensors"
    S.save_state_dict({"w": np.ones((2, 3), np.float32)}, path)
    S.save_state_dict({"w": np.ones((3, 2), np.float32)}, other)
    _replaced_after_validation(monkeypatch, path, other.read_bytes())
    _fails(path, "file changed while being read", S.load_state_dict)


def test_a_file_replaced_by_garbage_while_read_is_refused_by_the_safetensors_reader(
        tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    S.save_state_dict({"w": np.ones(4, np.float32)}, path)
    _replaced_after_validation(monkeypatch, path, (10**6).to_bytes(8, "little") + b"{}")
    _fails(path, "not a valid safetensors file", S.load_state_dict)
