"""MNIST from its four standard IDX files, and the "mnist-10k" split of the test set.

MNIST (LeCun, Cortes and Burges) is 70,000 handwritten digits, 28×28 grey images: 60,000 for
training, 10,000 for testing. `load_mnist` reads ``train-images-idx3-ubyte`` /
``train-labels-idx1-ubyte`` (split "train") or ``t10k-images-idx3-ubyte`` /
``t10k-labels-idx1-ubyte`` (split "test"), each with or without ``.gz``, from any directory, and
with ``download=True`` fetches missing files (`mlpnet.datasets.download`); `find_mnist` looks for
them in the usual places, the download cache among them. `mnist_10k` divides the 10,000 test images
8,000 / 2,000, stratified by class, with a fixed seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mlpnet._types import Array
from mlpnet.datasets.download import download_mnist, mnist_cache
from mlpnet.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

__all__ = ["find_mnist", "load_mnist", "mnist_10k", "stratified_split"]

_PREFIXES = {"train": "train", "test": "t10k"}
_SIDE = 28
_ABOUT = (
    "MNIST is LeCun, Cortes and Burges's database of handwritten digits (60,000 training and "
    "10,000 test images, 28×28, four IDX files)"
)
"""What MNIST is, for the errors that cannot find it."""


def _how_to_get(directory: str | os.PathLike[str] | None = None) -> str:
    """How to download MNIST (into `directory`, by default the cache), for error messages."""
    if directory is None:
        return (
            f"download it with `mlpnet download mnist` or load_mnist(download=True), "
            f"which put it in {mnist_cache()}"
        )
    return (
        f"download it with `mlpnet download mnist --dir {directory}` or "
        f"load_mnist({str(directory)!r}, download=True)"
    )


def find_mnist(directory: str | os.PathLike[str] | None = None, split: str = "test") -> Path:
    """The folder holding MNIST's IDX files of `split`.

    `directory` if given; else the first of $MLPNET_MNIST_DIR, ./mnist, ./data/mnist, the
    download cache (`mlpnet.datasets.download.mnist_cache`: ``$XDG_CACHE_HOME/mlpnet/mnist`` or
    ``~/.cache/mlpnet/mnist``), ../shared/data/mnist and the ``shared/data/mnist`` beside this
    source checkout that holds the split's images file (``t10k-images-idx3-ubyte`` for "test",
    ``train-images-idx3-ubyte`` for "train"; gzipped or not).

    Raises
    ------
    FileNotFoundError
        Saying what MNIST is, the places looked at and how to download it.
    """
    if split not in _PREFIXES:
        raise ValueError(f"unknown MNIST split {split!r}; choose 'train' or 'test'")
    if directory is not None:
        return Path(directory)
    images = f"{_PREFIXES[split]}-images-idx3-ubyte"
    for candidate in _places():
        if any(Path(candidate).glob(f"{images}*")):
            return Path(candidate)
    raise FileNotFoundError(
        f"MNIST files of the {split} split ({images}) not found in $MLPNET_MNIST_DIR, ./mnist, "
        f"./data/mnist, {mnist_cache()}, ../shared/data/mnist or beside the mlpnet checkout. "
        f"{_ABOUT}; {_how_to_get()}; or pass the folder explicitly"
    )


def _places() -> list[str]:
    """Where `find_mnist` looks, in order (see there)."""
    checkout = Path(__file__).resolve().parents[3]  # src/mlpnet/datasets/mnist.py → the repository
    candidates = [
        os.environ.get("MLPNET_MNIST_DIR"),
        "mnist",
        "data/mnist",
        str(mnist_cache()),
        "../shared/data/mnist",
        str(checkout.parent / "shared" / "data" / "mnist"),
    ]
    return [c for c in candidates if c]


def load_mnist(
    directory: str | os.PathLike[str] | None = None, split: str = "train", download: bool = False
) -> tuple[Array, np.ndarray]:
    """Load one split of MNIST from the standard IDX files in `directory`.

    Parameters
    ----------
    directory : str or path-like, optional
        Folder holding ``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte``, each
        optionally gzip-compressed (``.gz``), with prefix "train" or "t10k". By default the folder
        `find_mnist` finds for the split; with `download`, the download cache
        (``$XDG_CACHE_HOME/mlpnet/mnist`` or ``~/.cache/mlpnet/mnist``) when it finds none.
    split : {"train", "test"}, default "train"
        The 60,000 training images or the 10,000 test images.
    download : bool, default False
        Fetch the split's files that the folder lacks from the public mirrors, each checked
        against its published size and SHA-256 sum (`mlpnet.datasets.download.download_mnist`;
        ``$MLPNET_MNIST_URL`` names another base URL).

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32
        Pixel intensities scaled to [0, 1], one row per image (rows of the 28×28 image in order).
    y : ndarray of shape (n_samples,), int64
        The digits 0–9.

    Raises
    ------
    FileNotFoundError
        Naming the paths looked for and how to download the files, when a file is missing.
    ValueError
        Naming the file, for a bad magic number, a size that disagrees with the header, images that
        are not 28×28, labels outside 0–9, or different numbers of images and labels; or for a
        download that no mirror delivered intact (nothing of that file is left behind).
    """
    if split not in _PREFIXES:
        raise ValueError(f"unknown MNIST split {split!r}; choose 'train' or 'test'")
    directory = _folder(directory, split, download)
    prefix = _PREFIXES[split]
    images_path = _find(Path(directory), f"{prefix}-images-idx3-ubyte", split, "images")
    labels_path = _find(Path(directory), f"{prefix}-labels-idx1-ubyte", split, "labels")
    images = read_idx(images_path, magic=IMAGES_MAGIC, noun="images")
    labels = read_idx(labels_path, magic=LABELS_MAGIC, noun="labels")
    if images.shape[1:] != (_SIDE, _SIDE):
        rows, cols = images.shape[1:]
        raise ValueError(f"{images_path}: expected 28×28 images, got {rows}×{cols}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be digits 0–9, found {labels.max()}")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    X = images.reshape(len(images), _SIDE * _SIDE).astype(np.float32)
    X /= 255.0
    return X, labels.astype(np.int64)


def mnist_10k(
    directory: str | os.PathLike[str] | None = None, seed: int = 0, *, download: bool = False
) -> tuple[Array, np.ndarray, Array, np.ndarray]:
    """Split the MNIST test set 8,000 / 2,000, stratified by class: the benchmark "mnist-10k".

    Parameters
    ----------
    directory : str or path-like, optional
        Folder with the test-set files (``t10k-*``), as for `load_mnist`; by default the one
        `find_mnist` finds (the download cache among the places it looks).
    seed : int, default 0
        Seed of `numpy.random.default_rng` choosing which images of each class are held out; the
        same seed gives the same split on every machine.
    download : bool, default False
        Download the test set when missing, as `load_mnist` does.

    Returns
    -------
    X_train : ndarray of shape (8000, 784), float32
    y_train : ndarray of shape (8000,), int64
    X_test : ndarray of shape (2000, 784), float32
    y_test : ndarray of shape (2000,), int64
        Disjoint; each keeps the images' original order; each class's share of the test part is
        within one image of 20 %.

    Raises
    ------
    FileNotFoundError, ValueError
        As `load_mnist`; also ValueError if the test set does not hold 10,000 images.
    """
    directory = _folder(directory, "test", download)
    X, y = load_mnist(directory, split="test")
    if len(y) != 10_000:
        raise ValueError(
            f"mnist_10k expects the 10,000-image MNIST test set in {directory}, "
            f"found {len(y)} images"
        )
    train, test = stratified_split(y, n_test=2000, seed=seed)
    return X[train], y[train], X[test], y[test]


def stratified_split(
    y: np.ndarray, n_test: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train and test parts that keep each class's proportion of `y`.

    Class ``c`` with ``n_c`` of the ``n`` samples sends ``⌊n_test·n_c/n⌋`` or one more to the test
    part (largest remainders first, ties to the smaller class label), so the sizes add up to exactly
    `n_test`; which samples go is drawn with ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    y : array_like of shape (n_samples,)
        Class labels.
    n_test : int
        Size of the test part, 0 ≤ n_test ≤ n_samples.
    seed : int, optional
        Seed for the draw.

    Returns
    -------
    train, test : ndarray of int64
        Sorted, disjoint indices covering ``range(n_samples)``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D class labels, got shape {y.shape}")
    if not 0 <= n_test <= len(y):
        raise ValueError(f"n_test must be between 0 and {len(y)}, got {n_test}")
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * n_test / max(len(y), 1)
    quota = np.floor(exact).astype(np.int64)
    short = n_test - int(quota.sum())
    quota[np.argsort(-(exact - quota), kind="stable")[:short]] += 1
    rng = np.random.default_rng(seed)
    test = [
        rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, quota, strict=True)
    ]
    test_idx = np.sort(np.concatenate([np.zeros(0, np.int64), *test]))
    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
    return train_idx, test_idx


def _folder(directory: str | os.PathLike[str] | None, split: str, download: bool) -> Path:
    """The folder to read `split` from, its missing files downloaded when `download` is set.

    `directory` if given, else `find_mnist`'s, else (with `download`) the cache.
    """
    if directory is None:
        try:
            directory = find_mnist(split=split)
        except FileNotFoundError:
            if not download:
                raise
            directory = mnist_cache()
    if download:
        download_mnist(directory, split)
    return Path(directory)


def _find(directory: Path, name: str, split: str, what: str) -> Path:
    """Find `name` or `name`.gz in `directory`, or raise FileNotFoundError naming both."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"MNIST {split} {what} not found: looked for {directory / name} and {directory / name}.gz. "
        f"{_ABOUT}; {_how_to_get(directory)}"
    )
