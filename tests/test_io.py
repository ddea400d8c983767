"""The .npz file format: round trips, corrupt and foreign files, atomic writes, no pickle."""

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlpnet.io
from mlpnet.io import FORMAT_VERSION, load_npz, read_npz, save_npz

SPEC = {"sizes": [2, 3, 1], "activations": ["tanh", "sigmoid"], "dtype": "float32"}


@pytest.fixture
def saved(tmp_path):
    """An mlpnet file holding 13 parameters."""
    path = tmp_path / "model.npz"
    save_npz(path, np.arange(13, dtype=np.float32) / 7, SPEC)
    return path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip(tmp_path, dtype):
    theta = np.random.default_rng(0).standard_normal(50).astype(dtype)
    path = tmp_path / "net.npz"
    save_npz(path, theta, SPEC)
    back, spec = load_npz(path)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, theta)
    assert spec == SPEC


@given(
    theta=st.lists(st.floats(allow_nan=False, width=64), max_size=20),
    spec=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4),
)
def test_round_trip_property(tmp_path_factory, theta, spec):
    path = tmp_path_factory.mktemp("io") / "m"
    save_npz(path, np.array(theta, dtype=np.float64), spec)
    back, spec_back = load_npz(path)
    np.testing.assert_array_equal(back, theta)
    assert spec_back == spec


def test_writes_exactly_the_path_given(tmp_path):
    path = tmp_path / "weights.bin"
    save_npz(path, np.zeros(3), {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]
    save_npz(str(tmp_path / "plain"), np.zeros(3), {})
    assert (tmp_path / "plain").is_file() and not (tmp_path / "plain.npz").exists()


def test_layout_is_plain_numpy_without_pickle(saved):
    with np.load(saved, allow_pickle=False) as data:
        assert set(data.files) == {"theta", "spec", "format_version", "library"}
        assert int(data["format_version"]) == FORMAT_VERSION == 1
        assert str(data["library"]) == "mlpnet"
        assert json.loads(str(data["spec"])) == SPEC


def test_extra_arrays_round_trip(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_npz(path, np.ones(4), {"epoch": 3}, m=np.full(4, 0.5), step=np.array(17))
    saved = read_npz(path)
    assert saved.spec == {"epoch": 3}
    assert set(saved.extra) == {"m", "step"} and int(saved.extra["step"]) == 17
    theta, spec = load_npz(path)
    np.testing.assert_array_equal(theta, np.ones(4))


def test_overwrite_replaces_and_keeps_permissions(saved):
    if os.name == "posix":
        saved.chmod(0o640)
    save_npz(saved, np.ones(2), {"new": True})
    theta, spec = load_npz(saved)
    assert spec == {"new": True} and len(theta) == 2
    if os.name == "posix":
        assert saved.stat().st_mode & 0o777 == 0o640


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        load_npz(tmp_path / "absent.npz")


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def corrupt(path, content):
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: corrupt(p, p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated"),
        (lambda p: corrupt(p, p.read_bytes()[:-30]), "truncated"),
        (lambda p: corrupt(p, np.random.default_rng(0).bytes(500)), "not a NumPy .npz archive"),
        (lambda p: corrupt(p, b""), "empty or truncated"),
        (lambda p: p.write_bytes(npy_bytes(np.zeros(3))), "not an .npz archive"),
    ],
    ids=["half", "tail-cut", "random-bytes", "empty", "npy"],
)
def test_unreadable_files_name_the_file(saved, make, message):
    make(saved)
    with pytest.raises(ValueError, match=message) as info:
        load_npz(saved)
    assert str(saved) in str(info.value)


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, theta=np.zeros(3), weights=np.ones(2))
    with pytest.raises(ValueError, match=r"not an mlpnet file .*'theta', 'weights'"):
        load_npz(path)


def rewrite(path, **changes):
    """Write the arrays of `path` again with some replaced (None removes one)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    buffer = io.BytesIO()
    np.savez(buffer, **{k: v for k, v in arrays.items() if v is not None})
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": np.array(2)}, "unknown mlpnet format version 2"),
        ({"format_version": np.array("1")}, "unknown mlpnet format version '1'"),
        ({"spec": np.array("{not json")}, "spec is not valid JSON"),
        ({"spec": np.array("[1, 2]")}, "spec must be a JSON object"),
        ({"spec": np.zeros(2)}, "spec must be a JSON object"),
        ({"theta": np.zeros((2, 2))}, "theta must be a 1-D float32 or float64 array"),
        ({"theta": np.arange(3)}, "theta must be a 1-D float32 or float64 array"),
        ({"theta": None}, "missing theta"),
        ({"spec": None, "format_version": None}, "missing spec, format_version"),
    ],
)
def test_damaged_contents(saved, changes, message):
    rewrite(saved, **changes)
    with pytest.raises(ValueError, match=message) as info:
        load_npz(saved)
    assert str(saved) in str(info.value)


def test_object_arrays_are_never_unpickled(saved):
    buffer = io.BytesIO()
    np.savez(buffer, theta=np.zeros(2), spec=np.array([{"x": 1}], dtype=object))
    saved.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="pickled data is never loaded"):
        load_npz(saved)


@pytest.mark.parametrize(
    ("theta", "spec", "extra", "message"),
    [
        (np.zeros((2, 2)), {}, {}, "theta must be a 1-D float32 or float64"),
        (np.arange(3), {}, {}, "theta must be a 1-D float32 or float64"),
        (np.zeros(2), [1, 2], {}, "spec must be a dict"),
        (np.zeros(2), {"f": object()}, {}, "spec is not JSON-serialisable"),
        (np.zeros(2), {"lr": float("nan")}, {}, "spec is not JSON-serialisable"),
        (np.zeros(2), {}, {"library": np.zeros(1)}, "extra array name 'library' is reserved"),
        (np.zeros(2), {}, {"notes": np.array(["a"])}, "extra array 'notes' must be numeric"),
    ],
)
def test_save_refuses_bad_input_and_writes_nothing(tmp_path, theta, spec, extra, message):
    with pytest.raises(ValueError, match=message):
        save_npz(tmp_path / "m.npz", theta, spec, **extra)
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_npz(tmp_path / "no" / "m.npz", np.zeros(2), {})


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failure_mid_write_leaves_old_file_and_no_part_file(saved, monkeypatch, error):
    before = saved.read_bytes()

    def half_written_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise error

    monkeypatch.setattr(np, "savez", half_written_savez)
    with pytest.raises(type(error)):
        save_npz(saved, np.ones(99), {"new": True})
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    monkeypatch.undo()
    theta, spec = load_npz(saved)
    assert spec == SPEC and len(theta) == 13


def test_failure_at_rename_leaves_no_part_file(tmp_path, monkeypatch):
    def failing_replace(src, dst):
        raise PermissionError("read-only target")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        save_npz(tmp_path / "m.npz", np.zeros(2), {})
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_is_written_beside_the_target(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spying_replace(src, dst):
        seen.append((os.fspath(src), os.fspath(dst)))
        with zipfile.ZipFile(src) as archive:  # complete before it is renamed
            assert archive.testzip() is None
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    save_npz(tmp_path / "m.npz", np.zeros(2), {})
    ((src, dst),) = seen
    assert os.path.dirname(src) == str(tmp_path) and src.endswith(".part")
    assert dst == str(tmp_path / "m.npz")


def test_io_uses_no_pickle():
    source = Path(mlpnet.io.__file__).read_text(encoding="utf-8")
    assert "import pickle" not in source and "allow_pickle=True" not in source
