"""Users' tables: CSV, .npy, .npz; targets by name or index; clear errors."""

import numpy as np
import pytest

from mlpnet.datasets import load_table


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_default_target_is_last_column(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,label\n1,2,0\n3.5,-4,1\n\n5,6e-1,1\n")
    X, y = load_table(path)
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -4], [5, 0.6]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_csv_named_and_indexed_target(tmp_path):
    path = write(tmp_path, "d.csv", "\ufeffy, x1 ,x2\n0.5,1,2\n1.5,3,4\n")  # BOM, spaces
    X, y = load_table(path, target="y")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0.5, 1.5])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(load_table(path, target="x1")[1], [1, 3])
    np.testing.assert_array_equal(load_table(path, target=0)[1], [0.5, 1.5])
    np.testing.assert_array_equal(load_table(path, target=-1)[1], [2, 4])


def test_csv_missing_column_lists_the_available_ones(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"no target column 'z'; available: 'a', 'b', 'c'") as info:
        load_table(path, target="z")
    assert str(path) in str(info.value)


def test_csv_non_numeric_cell_gives_line_and_column(tmp_path):
    path = write(tmp_path, "d.csv", "a,b,c\n1,2,3\n4,five,6\n")
    with pytest.raises(ValueError, match=r"line 3, column 'b': 'five' is not a number"):
        load_table(path)
    path = write(tmp_path, "e.csv", "a,b\n1,\n")
    with pytest.raises(ValueError, match=r"line 2, column 'b': '' is not a number"):
        load_table(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("\n \n", "empty file"),
        ("a,b\n", "no data rows"),
        ("a,b\n1,2\n3\n", "line 3 has 1 cells, the header has 2"),
    ],
)
def test_csv_shape_problems(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_table(write(tmp_path, "d.csv", text))


def test_npy_target_by_index(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 2.0]]))
    X, y = load_table(path)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.dtype == np.int64 and list(y) == [0, 2]
    X, y = load_table(path, target="0")  # from the command line, an index arrives as text
    np.testing.assert_array_equal(y, [1, 3])
    np.testing.assert_array_equal(X, [[2, 0], [4, 2]])
    with pytest.raises(ValueError, match="no target column 'label'; available: indices 0 to 2"):
        load_table(path, target="label")
    with pytest.raises(ValueError, match="no target column 3"):
        load_table(path, target=3)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(5), "2-D array"),
        (np.zeros((5, 1)), "2-D array"),
        (np.zeros((0, 3)), "no samples"),
        (np.array([["a", "b"]]), "must hold numbers"),
    ],
)
def test_npy_problems(tmp_path, array, message):
    path = tmp_path / "d.npy"
    np.save(path, array)
    with pytest.raises(ValueError, match=message):
        load_table(path)


def test_npy_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.array([[1, {"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="cannot read as NumPy data"):
        load_table(path)


@pytest.mark.parametrize(("x_key", "y_key"), [("X", "y"), ("x", "Y")])
def test_npz_default_keys(tmp_path, x_key, y_key):
    path = tmp_path / "d.npz"
    np.savez(path, **{x_key: np.arange(6).reshape(3, 2), y_key: np.array([0.5, 1, 2])})
    X, y = load_table(path)
    assert X.shape == (3, 2) and X.dtype == np.float64
    assert y.dtype == np.float64


def test_npz_named_target_and_1d_features(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([0.1, 0.2]), labels=np.array([[1, 0], [0, 1]]), y=np.zeros(2))
    X, y = load_table(path, target="labels")
    assert X.shape == (2, 1) and y.shape == (2, 2) and y.dtype == np.int64


def test_npz_missing_array_lists_the_keys(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, features=np.zeros((2, 2)), y=np.zeros(2))
    with pytest.raises(ValueError, match=r"no array 'X' or 'x'; the file holds 'features', 'y'"):
        load_table(path)
    np.savez(path, X=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"no array 'target'; the file holds 'X'"):
        load_table(path, target="target")


def test_npz_length_mismatch(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(ValueError, match="3 rows of features but 2 targets"):
        load_table(path)


@pytest.mark.parametrize("name", ["d.npz", "d.npy"])
def test_corrupt_numpy_files(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(ValueError, match="cannot read as NumPy data") as info:
        load_table(path)
    assert str(path) in str(info.value)


def test_npz_and_npy_swapped(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_table(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.zeros((2, 2)), y=np.zeros(2))
    (tmp_path / "b.npz").rename(tmp_path / "b.npy")
    with pytest.raises(ValueError, match="not an .npy array"):
        load_table(tmp_path / "b.npy")


def test_unsupported_suffix_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unsupported file type '.xlsx'; use .csv, .npy or .npz"):
        load_table(write(tmp_path, "d.xlsx", "a,b\n1,2\n"))
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_table(tmp_path / "nope.csv")
