"""IDX reading and writing: round trips, gzip, and every way a file can be wrong."""

import gzip

import numpy as np
import pytest

from mlpnet.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    ("dtype", "shape"),
    [
        (np.uint8, (5, 28, 28)),
        (np.uint8, (7,)),
        (np.int8, (3, 2)),
        (np.int16, (2, 3, 4)),
        (np.int32, (4,)),
        (np.float32, (2, 2)),
        (np.float64, (3, 1, 2, 1)),
        (np.uint8, (0, 28, 28)),
    ],
)
def test_round_trip(tmp_path, dtype, shape, suffix):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, array)
    back[...] = 0  # a writable copy, not a view of the file's bytes


def test_gzip_is_detected_by_content_not_name(tmp_path):
    raw, packed = tmp_path / "raw", tmp_path / "packed"
    write_idx(raw, np.arange(10, dtype=np.uint8))
    packed.write_bytes(gzip.compress(raw.read_bytes()))
    np.testing.assert_array_equal(read_idx(packed), np.arange(10))


def test_header_bytes_are_the_standard_ones(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((2, 28, 28), np.uint8))
    data = path.read_bytes()
    assert data[:16] == bytes.fromhex("00000803 00000002 0000001c 0000001c")
    assert len(data) == 16 + 2 * 28 * 28


def test_wrong_magic_names_file_and_both_numbers(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(3, np.uint8))
    with pytest.raises(
        ValueError, match="bad magic number 0x00000801, expected 0x00000803"
    ) as info:
        read_idx(path, magic=IMAGES_MAGIC)
    assert str(path) in str(info.value)
    assert read_idx(path, magic=LABELS_MAGIC).shape == (3,)


@pytest.mark.parametrize("head", [b"\x12\x34\x08\x01", b"\x00\x00\x07\x01"])
def test_not_an_idx_file(tmp_path, head):
    path = tmp_path / "junk"
    path.write_bytes(head + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_truncated_data_says_what_the_header_promised(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((3, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"truncated: header says 3 images of 28×28") as info:
        read_idx(path, noun="images")
    assert "2,252" in str(info.value) and str(path) in str(info.value)


def test_extra_bytes_are_refused(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="too long"):
        read_idx(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x00", b"\x00\x00\x08\x03\x00\x00\x00\x01"])
def test_truncated_header(tmp_path, content):
    path = tmp_path / "short"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, np.arange(3000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("array", [np.zeros(3, np.int64), np.array(["a"]), np.zeros(2, bool)])
def test_write_refuses_types_without_an_idx_code(tmp_path, array):
    with pytest.raises(ValueError, match="IDX cannot store dtype"):
        write_idx(tmp_path / "x", array)


def test_big_endian_on_disk(tmp_path):
    path = tmp_path / "ints"
    write_idx(path, np.array([1, 256], dtype=np.int32))
    assert path.read_bytes()[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"
