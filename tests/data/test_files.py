"""load_csv and load_npz: values, dtypes, target selection and clear errors naming the file."""
from __future__ import annotations

import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from mnp.data import DataError, DataFormatError, load_csv, load_npz


def _write(path, text: str):
    path.write_text(text)
    return path


# -- CSV --------------------------------------------------------------------------------
def test_csv_last_column_target_by_default(tmp_path):
    p = _write(tmp_path / "d.csv", "a,b,label\n1,2.5,0\n3,-4,2\n\n5,6e1,1\n")
    X, y = load_csv(p)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.tolist() == [[1.0, 2.5], [3.0, -4.0], [5.0, 60.0]]
    assert y.tolist() == [0, 2, 1]


def test_csv_target_by_name_index_and_none(tmp_path):
    p = _write(tmp_path / "d.csv", "label,a,b\n1,2,3\n0,5,6\n")
    X, y = load_csv(p, target="label")
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 0]
    X, y = load_csv(p, target=0)
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 0]
    X, y = load_csv(p, target=None)
    assert X.shape == (2, 3) and y is None


def test_csv_regression_and_text_labels(tmp_path):
    X, y = load_csv(_write(tmp_path / "r.csv", "x,t\n1,0.5\n2,1.25\n"))
    assert y.dtype == np.float32 and y.tolist() == [0.5, 1.25]
    p = _write(tmp_path / "iris.csv", 'x1,x2,species\n1,2,"virginica"\n3,4,setosa\n5,6,virginica\n')
    X, y, classes = load_csv(p, return_classes=True)
    assert classes == ["setosa", "virginica"] and y.tolist() == [1, 0, 1] and y.dtype == np.int64


def test_csv_no_header_and_other_delimiter(tmp_path):
    p = _write(tmp_path / "d.tsv", "1\t2\t1\n3\t4\t0\n")
    X, y = load_csv(p, delimiter="\t", header=False)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [1, 0]
    with pytest.raises(DataError, match="header=False"):
        load_csv(p, target="label", delimiter="\t", header=False)


@pytest.mark.parametrize("text, message", [
    ("", "empty CSV file"),
    ("a,b\n", "no data rows"),
    ("a,b,y\n1,2,0\n3,0\n", "line 3 has 2 fields, expected 3"),
    ("a,b,y\n1,2,0\n3,abc,1\n", r"line 3, column 'b': 'abc' is not a number"),
    ("a,b,y\n1,,0\n", r"line 2, column 'b': '' is not a number"),
])
def test_csv_format_errors_name_the_file(tmp_path, text, message):
    p = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataFormatError, match=message) as info:
        load_csv(p)
    assert "bad.csv" in str(info.value)


@pytest.mark.parametrize("raw, message", [
    (b"a,b,y\n1,2,0\n3,\xff\xfe,1\n", r"line 3, byte 3 of the line: not UTF-8 .*\\xff"),
    (b"a,b,y\n1,2,0\n\n4,5,\xe9t\xe9\n", r"line 4, byte 5 of the line: not UTF-8"),
    ("a,b,y\n1,2,0\n3,4,5\n".encode("utf-16"), "line 1, byte 1 of the line: not UTF-8"),
])
def test_csv_that_is_not_utf8_names_the_file_and_line(tmp_path, raw, message):
    p = tmp_path / "latin.csv"
    p.write_bytes(raw)
    with pytest.raises(DataFormatError, match=message) as info:
        load_csv(p)
    assert str(p) in str(info.value)


def test_csv_with_a_byte_order_mark_still_loads(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("a,y\n1,0\n".encode("utf-8-sig"))
    X, y = load_csv(p, target="y")
    assert X.tolist() == [[1.0]] and y.tolist() == [0]


def test_csv_cell_over_the_field_size_limit(tmp_path):
    from mnp.data import files
    p = _write(tmp_path / "wide.csv", "a,b,y\n1,2,0\n3," + "9" * 200_000 + ",1\n")
    with pytest.raises(DataFormatError, match=rf"wide.csv: line 3: a field is longer than "
                                              rf"{files.FIELD_SIZE_LIMIT} characters"):
        load_csv(p)
    ok = _write(tmp_path / "ok.csv", "a,y\n" + "1" * 1000 + ",0\n")
    assert load_csv(ok)[0][0, 0] == float("1" * 1000)


def test_csv_bad_target(tmp_path):
    p = _write(tmp_path / "d.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match="no column 'c'; columns: a, b"):
        load_csv(p, target="c")
    with pytest.raises(DataError, match="has 2 columns"):
        load_csv(p, target=5)


# -- npz --------------------------------------------------------------------------------
def test_npz_default_and_named_keys(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.arange(6, dtype=np.uint8).reshape(3, 2), y=np.array([1, 0, 1], np.int32))
    X, y = load_npz(p)
    assert X.dtype == np.float32 and X.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert y.dtype == np.int64 and y.tolist() == [1, 0, 1]
    k = tmp_path / "mnist.npz"
    np.savez_compressed(k, x_train=np.zeros((4, 2, 2), np.uint8), y_train=np.arange(4),
                        x_test=np.zeros((1, 2, 2)), y_test=np.array([0.5]))
    X, y = load_npz(k, x_key="x_train", y_key="y_train")
    assert X.shape == (4, 2, 2) and y.tolist() == [0, 1, 2, 3]
    X, y = load_npz(k, x_key="x_test", y_key="y_test")
    assert y.dtype == np.float32
    with pytest.raises(DataFormatError, match="no array named x or X; arrays: x_train"):
        load_npz(k)


def test_npz_errors_name_the_file(tmp_path):
    obj = tmp_path / "obj.npz"
    np.savez(obj, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(DataFormatError, match="obj.npz"):
        load_npz(obj)
    npy = tmp_path / "plain.npz"
    np.save(npy, np.zeros(3))
    npy.write_bytes((tmp_path / "plain.npz.npy").read_bytes())
    with pytest.raises(DataFormatError, match="plain.npz: not an .npz archive"):
        load_npz(npy)
    bad_zip = tmp_path / "trunc.npz"
    np.savez(bad_zip, x=np.zeros((100, 10)), y=np.zeros(100))
    bad_zip.write_bytes(bad_zip.read_bytes()[:300])
    with pytest.raises(DataFormatError, match="trunc.npz"):
        load_npz(bad_zip)
    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, x=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(DataFormatError, match=r"mismatch.npz: X has shape \(3, 2\) but y has shape \(4,\)"):
        load_npz(mismatch)
    other = tmp_path / "other.npz"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(DataFormatError, match="other.npz"):
        load_npz(other)


def _npy_header(shape, descr="<f8") -> bytes:
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    text += " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


def _npz(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


Y = _npy_header((1,)) + np.zeros(1).tobytes()


@pytest.mark.parametrize("shape, gigabytes", [((2**30,), 8), ((2**33,), 64),
                                              ((2**33, 2**33), 2**36 * 8), ((2**62, 4), None)])
@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_npz_declaring_a_huge_array_is_refused_before_allocating(tmp_path, shape, gigabytes,
                                                                 compression):
    path = _npz(tmp_path / "huge.npz", {"x.npy": _npy_header(shape), "y.npy": Y}, compression)
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=rf"huge.npz: array 'x' declares shape "
                                                  rf"\({shape[0]},.* but its member holds 0"):
            load_npz(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 22


@pytest.mark.parametrize("members, message", [
    ({"x.npy": b"hello, not an array", "y.npy": Y}, r"member 'x.npy' is not a .npy file"),
    ({"x": b"raw bytes", "y.npy": Y}, r"member 'x' is not a .npy file"),
    ({"x.npy": _npy_header((1,))[:9], "y.npy": Y}, r"member 'x.npy' is not a .npy file"),
    ({"x.npy": _npy_header((1,), "|O") + b"\0" * 8, "y.npy": Y}, r"array 'x' has dtype object"),
    ({"x.npy": _npy_header((1,), "<c16") + b"\0" * 16, "y.npy": Y}, r"dtype complex128"),
    ({"x.npy": _npy_header((2,)) + b"\0" * 24, "y.npy": Y}, r"\(16 bytes\) but its member holds 24"),
    ({"x.npy": _npy_header((1,)).replace(b"\x01\x00", b"\x09\x00", 1), "y.npy": Y},
     "is not a .npy file"),
])
def test_npz_members_that_are_not_npy_arrays(tmp_path, members, message):
    path = _npz(tmp_path / "odd.npz", members)
    with pytest.raises(DataFormatError, match=message) as info:
        load_npz(path)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, AttributeError)


def test_npz_with_a_real_member_named_by_key_and_fortran_order_loads(tmp_path):
    p = tmp_path / "f.npz"
    np.savez_compressed(p, x=np.asfortranarray(np.arange(6.0).reshape(2, 3)), y=np.array([0, 1]))
    X, y = load_npz(p)
    assert X.tolist() == [[0, 1, 2], [3, 4, 5]] and y.tolist() == [0, 1]
