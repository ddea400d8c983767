"""MNIST loading on small IDX files written here, and on the real test set when present."""

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpnet.datasets import load_mnist, mnist_10k, stratified_split, write_idx

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def fake_mnist(directory, split="test", n=20, gz=False, seed=0):
    """Write a tiny MNIST split; return its images (uint8) and labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    image_name, label_name = NAMES[split]
    write_idx(directory / f"{image_name}{suffix}", images)
    write_idx(directory / f"{label_name}{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_small_files(tmp_path, split, gz):
    images, labels = fake_mnist(tmp_path, split, gz=gz)
    X, y = load_mnist(tmp_path, split=split)
    assert X.shape == (20, 784) and X.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(X, images.reshape(20, 784) / 255.0, rtol=1e-6)
    assert X[0, 0] == 0.0 and X[0, 1] == 1.0


def test_default_split_is_train(tmp_path):
    fake_mnist(tmp_path, "train", n=3)
    assert load_mnist(tmp_path)[0].shape == (3, 784)


def test_missing_file_names_the_paths_looked_for(tmp_path):
    fake_mnist(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte") as info:
        load_mnist(tmp_path, split="train")
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in str(info.value)
    assert "handwritten digits" in str(info.value)
    assert f"`mlpnet download mnist --dir {tmp_path}`" in str(info.value)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, split="test")


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist(tmp_path, split="validation")


def test_images_and_labels_swapped(tmp_path):
    fake_mnist(tmp_path)
    images, labels = (tmp_path / name for name in NAMES["test"])
    tmp = tmp_path / "swap"
    images.rename(tmp)
    labels.rename(images)
    tmp.rename(labels)
    with pytest.raises(
        ValueError, match="bad magic number 0x00000801, expected 0x00000803"
    ) as info:
        load_mnist(tmp_path, split="test")
    assert str(images) in str(info.value)


def test_truncated_gz_images(tmp_path):
    images, _ = fake_mnist(tmp_path, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())[:-784]
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(
        ValueError, match=r"truncated: header says 20 images of 28×28 but file holds"
    ) as info:
        load_mnist(tmp_path, split="test")
    assert str(path) in str(info.value)


def test_count_mismatch(tmp_path):
    fake_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(19, np.uint8))
    with pytest.raises(ValueError, match="20 images but .* 19 labels"):
        load_mnist(tmp_path, split="test")


def test_wrong_image_size(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 20, 20), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match="expected 28×28 images, got 20×20"):
        load_mnist(tmp_path, split="test")


def test_labels_outside_digits(tmp_path):
    fake_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(20, 10, np.uint8))
    with pytest.raises(ValueError, match="labels must be digits 0–9, found 10"):
        load_mnist(tmp_path, split="test")


@given(
    y=st.lists(st.integers(0, 5), min_size=1, max_size=200),
    fraction=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_properties(y, fraction, seed):
    y = np.array(y)
    n_test = round(fraction * len(y))
    train, test = stratified_split(y, n_test, seed=seed)
    assert len(test) == n_test and len(train) == len(y) - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(y)))
    for c, count in zip(*np.unique(y, return_counts=True), strict=True):
        assert abs(np.sum(y[test] == c) - count * n_test / len(y)) < 1
    again = stratified_split(y, n_test, seed=seed)
    np.testing.assert_array_equal(again[1], test)


def test_stratified_split_refuses_bad_sizes():
    with pytest.raises(ValueError, match="n_test must be between 0 and 3"):
        stratified_split(np.array([0, 1, 1]), 4)
    with pytest.raises(ValueError, match="1-D"):
        stratified_split(np.zeros((2, 2)), 1)


def test_mnist_10k_on_written_files(tmp_path):
    _, labels = fake_mnist(tmp_path, n=10_000)
    X_train, y_train, X_test, y_test = mnist_10k(tmp_path, seed=1)
    assert X_train.shape == (8000, 784) and X_test.shape == (2000, 784)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - np.bincount(labels) * 0.2) < 1)
    np.testing.assert_array_equal(mnist_10k(tmp_path, seed=1)[3], y_test)


def test_mnist_10k_needs_the_whole_test_set(tmp_path):
    fake_mnist(tmp_path, n=200)
    with pytest.raises(ValueError, match="10,000-image MNIST test set .* found 200 images"):
        mnist_10k(tmp_path)


# --- the real MNIST test set (../shared/data/mnist); skipped with a message when absent ---


@pytest.fixture(scope="module")
def real_test_set(mnist_dir):
    return load_mnist(mnist_dir, split="test")


def test_real_test_set(real_test_set):
    X, y = real_test_set
    assert X.shape == (10_000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(y[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    np.testing.assert_array_equal(
        np.bincount(y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )


def test_real_mnist_10k(mnist_dir, real_test_set):
    X, y = real_test_set
    X_train, y_train, X_test, y_test = mnist_10k(mnist_dir, seed=0)
    assert X_train.shape == (8000, 784) and X_test.shape == (2000, 784)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    counts = np.bincount(y, minlength=10)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - counts * 0.2) < 1)
    assert np.all(np.abs(np.bincount(y_train, minlength=10) - counts * 0.8) < 1)
    # the split is the stratified_split of the labels: disjoint, covering, and fixed by the seed
    train, test = stratified_split(y, 2000, seed=0)
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == 10_000
    np.testing.assert_array_equal(X_test, X[test])
    np.testing.assert_array_equal(y_train, y[train])
    again = mnist_10k(mnist_dir, seed=0)
    np.testing.assert_array_equal(again[3], y_test)
    np.testing.assert_array_equal(again[2], X_test)
    other = mnist_10k(mnist_dir, seed=1)
    assert not np.array_equal(other[2], X_test)


def test_find_mnist_prefers_the_given_folder_then_the_environment(tmp_path, monkeypatch):
    from mlpnet.datasets import find_mnist

    assert find_mnist(tmp_path) == tmp_path
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("MLPNET_MNIST_DIR", str(tmp_path))
    assert find_mnist() == tmp_path
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("MLPNET_MNIST_DIR", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(empty))  # not the user's download cache
    monkeypatch.chdir(empty)
    monkeypatch.setattr("mlpnet.datasets.mnist.Path.resolve", lambda self: empty / "a" / "b" / "c")
    with pytest.raises(FileNotFoundError, match="MNIST files") as info:
        find_mnist()
    message = str(info.value)  # what MNIST is, where it was looked for, how to get it
    assert "handwritten digits" in message and str(empty / "mlpnet" / "mnist") in message
    assert "`mlpnet download mnist`" in message and "load_mnist(download=True)" in message
