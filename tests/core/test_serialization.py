"""mnp.core.save / load: a safe npz format, round trips, and refusal of bad files."""
from __future__ import annotations

import io
import json
import os
import pathlib
import zipfile

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import SerializationError


def _state():
    return {"layer.weight": mnp.randn(3, 4, requires_grad=True),
            "layer.bias": mnp.zeros(3, dtype=mnp.float64),
            "half": mnp.ones(2, dtype=mnp.float16),
            "ids": mnp.tensor([1, -2, 3]), "ids32": mnp.tensor([4, 5], dtype=mnp.int32),
            "mask": mnp.tensor([True, False]), "scalar": mnp.tensor(2.5),
            "empty": mnp.zeros(0, 5),
            "opt": {"step": 12, "lr": 1e-3, "betas": (0.9, 0.999), "nesterov": False,
                    "name": "adam", "none": None, "nan": float("nan"), 3: [1, 2, [3.5]]}}


def _same(a, b):
    if isinstance(a, mnp.Tensor):
        assert isinstance(b, mnp.Tensor) and b.dtype == a.dtype and b.shape == a.shape
        np.testing.assert_array_equal(b.data, a.data)
        assert not b.requires_grad
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b)
    else:
        assert type(a) is type(b) and a == b


def test_round_trip_keeps_structure_dtypes_and_values(tmp_path):
    sd = _state()
    path = tmp_path / "state.npz"
    mnp.save(sd, path)
    _same(sd, mnp.load(path))
    _same(sd, mnp.load(str(path)))


@pytest.mark.parametrize("obj", [mnp.arange(6).reshape(2, 3), [mnp.ones(1), 2], 7, None, "x",
                                 (), {}, [[]]])
def test_round_trip_of_other_objects(tmp_path, obj):
    mnp.save(obj, tmp_path / "o.npz")
    _same(obj, mnp.load(tmp_path / "o.npz"))


def test_numpy_arrays_come_back_as_tensors(tmp_path):
    mnp.save({"a": np.arange(4, dtype=np.float64), "s": np.float32(1.5), "i": np.int64(3)},
             tmp_path / "a.npz")
    out = mnp.load(tmp_path / "a.npz")
    assert isinstance(out["a"], mnp.Tensor) and out["a"].dtype == np.float64
    assert out["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out["s"] == 1.5 and type(out["s"]) is float and out["i"] == 3 and type(out["i"]) is int


def test_values_are_written_not_views(tmp_path):
    x = mnp.ones(3)
    mnp.save({"x": x}, tmp_path / "x.npz")
    x.data[:] = 5
    assert mnp.load(tmp_path / "x.npz")["x"].tolist() == [1.0, 1.0, 1.0]


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    mnp.save({"w": mnp.ones(2)}, buf)
    buf.seek(0)
    assert mnp.load(buf)["w"].tolist() == [1.0, 1.0]
    with open(tmp_path / "f.npz", "wb") as f:
        mnp.save([mnp.zeros(1)], f)
    with open(tmp_path / "f.npz", "rb") as f:
        assert mnp.load(f)[0].tolist() == [0.0]


def test_torch_state_dict_values_match(tmp_path):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(4, 3)
    sd = {k: mnp.tensor(v.detach().numpy()) for k, v in lin.state_dict().items()}
    mnp.save(sd, tmp_path / "lin.npz")
    out = mnp.load(tmp_path / "lin.npz")
    assert list(out) == list(lin.state_dict())
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "s.npz"
    mnp.save({"a": mnp.ones(2)}, path)
    with pytest.raises(SerializationError):
        mnp.save({"a": mnp.zeros(2), "bad": object()}, path)   # fails before writing
    assert mnp.load(path)["a"].tolist() == [1.0, 1.0]
    assert os.listdir(tmp_path) == ["s.npz"]


def test_save_does_not_pickle(tmp_path):
    mnp.save({"a": mnp.ones(2), "b": [1, "x"]}, tmp_path / "s.npz")
    with zipfile.ZipFile(tmp_path / "s.npz") as z:
        for name in z.namelist():
            np.lib.format.read_array(z.open(name), allow_pickle=False)   # no object arrays


@pytest.mark.parametrize("obj,where,what", [
    ({"a": {"b": [1, object()]}}, r"\['a'\]\['b'\]\[1\]", "builtins.object"),
    ({"f": lambda: 1}, r"\['f'\]", "function"),
    ({"s": {1, 2}}, r"\['s'\]", "builtins.set"),
    ({"c": np.array(["x"])}, r"\['c'\]", "dtype <U1"),
    ({"o": np.array([None], dtype=object)}, r"\['o'\]", "dtype object"),
    ({(1, 2): 3}, "key \\(1, 2\\) of type tuple", ""),
    ({"z": 1j}, r"\['z'\]", "complex"),
])
def test_unsupported_objects_name_key_path_and_type(tmp_path, obj, where, what):
    with pytest.raises(SerializationError, match=where) as info:
        mnp.save(obj, tmp_path / "x.npz")
    assert what in str(info.value) and str(info.value).startswith("save: ")
    assert not (tmp_path / "x.npz").exists()


def test_self_containing_objects_are_refused(tmp_path):
    a: list = [1]
    a.append(a)
    with pytest.raises(SerializationError, match="contains itself"):
        mnp.save(a, tmp_path / "x.npz")
    shared = mnp.ones(1)
    mnp.save([shared, shared], tmp_path / "y.npz")      # a shared leaf is fine
    assert [t.tolist() for t in mnp.load(tmp_path / "y.npz")] == [[1.0], [1.0]]


# -- hostile and damaged files --------------------------------------------------------------
def _write(path, structure=None, **arrays):
    if structure is not None:
        text = json.dumps(structure).encode() if not isinstance(structure, bytes) else structure
        arrays["__structure__"] = np.frombuffer(text, np.uint8)
    np.savez(path, **arrays)


def _doc(root):
    return {"format": "mnp.save", "version": 1, "root": root}


def _refused(path, match):
    with pytest.raises(SerializationError, match=match) as info:
        mnp.load(path)
    assert str(path) in str(info.value)


def test_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, a0=np.array([{"x": 1}], dtype=object),
             __structure__=np.frombuffer(json.dumps(_doc({"t": "tensor", "key": "a0"})).encode(),
                                         np.uint8))
    _refused(path, "without unpickling")


def test_a_pickle_file_is_refused(tmp_path):
    import pickle
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": [1, 2]}))
    _refused(path, "cannot be read as an .npz archive")


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "t.npz"
    mnp.save(_state(), path)
    data = path.read_bytes()
    for n in (0, 10, len(data) // 2, len(data) - 5):
        path.write_bytes(data[:n])
        _refused(path, "not a valid mnp.save file")


def test_a_missing_array_is_refused(tmp_path):
    _write(tmp_path / "m.npz", _doc({"t": "dict", "items": [[{"t": "str", "v": "w"},
                                                             {"t": "tensor", "key": "a7"}]]}),
           a0=np.ones(2))
    _refused(tmp_path / "m.npz", "refers to an array 'a7'")
    _write(tmp_path / "s.npz", _doc({"t": "tensor", "key": "__structure__"}))
    _refused(tmp_path / "s.npz", "refers to an array '__structure__'")


@pytest.mark.parametrize("structure,match", [
    (None, "no __structure__ entry"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    ({"root": {"t": "int", "v": 1}}, "no mnp.save format tag"),
    ({"format": "mnp.save", "version": 99, "root": None}, "format version 99"),
    (_doc({"t": "pickle", "items": []}), "unknown entry type 'pickle'"),
    (_doc({"t": "int", "v": "1"}), "a int entry holds '1'"),
    (_doc({"t": "int", "v": True}), "a int entry holds True"),
    (_doc([1, 2]), "unexpected entry"),
    (_doc({"t": "dict", "items": [[{"t": "int", "v": 1}]]}), "not a \\[key, value\\] pair"),
    (_doc({"t": "dict", "items": [[{"t": "list", "items": []}, {"t": "none"}]]}),
     "dict key is not a scalar"),
    (_doc({"t": "list", "items": "abc"}), "unknown entry type 'list'"),
])
def test_malformed_structures_are_refused(tmp_path, structure, match):
    _write(tmp_path / "b.npz", structure, a0=np.ones(1))
    _refused(tmp_path / "b.npz", match)


def test_deep_nesting_is_refused(tmp_path):
    root: dict = {"t": "none"}
    for _ in range(400):
        root = {"t": "list", "items": [root]}
    _write(tmp_path / "d.npz", _doc(root))
    _refused(tmp_path / "d.npz", "deeper than")
    deep: list = []
    for _ in range(400):
        deep = [deep]
    with pytest.raises(SerializationError, match="nested deeper"):
        mnp.save(deep, tmp_path / "e.npz")


def test_foreign_arrays_and_single_npy_are_refused(tmp_path):
    _write(tmp_path / "u.npz", _doc({"t": "tensor", "key": "a0"}), a0=np.array(["s"]))
    _refused(tmp_path / "u.npz", "dtype <U1")
    _write(tmp_path / "c.npz", _doc({"t": "tensor", "key": "a0"}), a0=np.ones(2, np.complex64))
    _refused(tmp_path / "c.npz", "complex64")
    _write(tmp_path / "i8.npz", _doc({"t": "tensor", "key": "a0"}), a0=np.ones(2, np.int8))
    _refused(tmp_path / "i8.npz", "unsupported dtype int8")
    np.save(tmp_path / "one.npy", np.ones(2))
    _refused(tmp_path / "one.npy", "single numpy array")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        mnp.load(pathlib.Path(tmp_path / "nope.npz"))
