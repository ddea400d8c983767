"""Data for the command line: built-in sets, table files, targets and features to predict from."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .. import datasets
from ..datasets.files import check_cells, csv_rows, load_features

BUILTIN_DATA = ("mnist-10k", "digits", "xor")
DIGITS_TEST = 360
"""Images of scikit-learn's 1,797 digits held out (stratified, seed 0) by ``--data digits``."""


def mnist_dir(directory: str | None) -> Path:
    """The folder with MNIST's t10k files: the option, else `mlpnet.datasets.find_mnist`."""
    try:
        return datasets.find_mnist(directory)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err} with --mnist-dir DIR") from None


def load_data(
    data: str, target: str | None, mnist: str | None, part: str, dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a built-in set's `part` ("train" or "test") or of a whole table file.

    y holds int64 class labels where the targets are whole numbers, else floats (regression).
    A file's values must fit `dtype` (the network's): one beyond float32's range is named.
    """
    if data in BUILTIN_DATA:
        if target is not None:
            raise ValueError(f"--target applies to data files, not to the built-in {data!r}")
        return _builtin(data, mnist, part)
    if target is not None and target.strip() == "":
        raise ValueError("--target must name a column")
    return datasets.load_table(data, target, dtype=dtype)


def _builtin(data: str, mnist: str | None, part: str) -> tuple[np.ndarray, np.ndarray]:
    if data == "xor":
        X, Y = datasets.xor()
        return X, Y.ravel().astype(np.int64)
    if data == "digits":
        X, y = datasets.digits()
        train, test = datasets.stratified_split(y, n_test=DIGITS_TEST, seed=0)
        rows = train if part == "train" else test
        return X[rows], y[rows]
    X_train, y_train, X_test, y_test = datasets.mnist_10k(mnist_dir(mnist))
    return (X_train, y_train) if part == "train" else (X_test, y_test)


def csv_header(path: str) -> list[str]:
    """The column names of a CSV file ([] for anything else)."""
    if not path.lower().endswith(".csv") or not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        return [name.strip() for name in next(csv.reader(fh), [])]


def target_name(data: str, target: str | None) -> str | None:
    """The target column's name in a CSV (the last column by default), recorded for ``predict``."""
    header = csv_header(data)
    if not header:
        return target
    if target is None:
        return header[-1]
    if target in header:
        return target
    return header[int(target)] if target.lstrip("-").isdigit() else target


def read_features(path: str, drop: set[str], mnist: str | None = None) -> np.ndarray:
    """Features to predict from, one row per sample.

    A built-in set's test part; every column of a CSV except those named in `drop`; an .npy
    array; or the array X (or x) of an .npz.
    """
    if path in BUILTIN_DATA:
        return _builtin(path, mnist, "test")[0]
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"input file not found: {file}")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return _csv_features(file, drop)
    if suffix not in (".npy", ".npz"):
        raise ValueError(f"{file}: unsupported file type {file.suffix!r}; use .csv, .npy or .npz")
    return load_features(file)


def _csv_features(file: Path, drop: set[str]) -> np.ndarray:
    """The columns of a CSV with a header row whose names are not in `drop`, as floats."""
    rows = csv_rows(file)
    if len(rows) < 2:
        raise ValueError(f"{file}: expected a header row and at least one data row")
    header = [name.strip() for name in rows[0][1]]
    keep = [j for j, name in enumerate(header) if name not in drop]
    values = np.empty((len(rows) - 1, len(keep)))
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{file}: line {line} has {len(row)} cells, the header {len(header)}")
        for k, j in enumerate(keep):
            try:
                values[i, k] = float(row[j])
            except ValueError:
                raise ValueError(
                    f"{file}: line {line}, column {header[j]!r}: {row[j]!r} is not a number"
                ) from None

    def where(i: int, k: int) -> str:
        return f"line {rows[i + 1][0]}, column {header[keep[k]]!r}"

    check_cells(file, values, np.dtype(np.float64), where)
    return values


def targets(y: np.ndarray, loss: Any) -> tuple[np.ndarray, int]:
    """Targets in the form `loss` wants, and the number of network outputs they need."""
    if loss.name in ("softmax_cross_entropy", "cross_entropy"):
        if y.ndim != 1 or y.dtype.kind not in "iu" or y.min() < 0:
            raise ValueError(f"loss {loss.name!r} needs integer class labels 0, 1, … as targets")
        return y, max(int(y.max()) + 1, 2)
    Y = y.reshape(len(y), -1).astype(np.float64)
    if loss.name == "binary_cross_entropy" and not np.isin(Y, (0.0, 1.0)).all():
        raise ValueError("loss 'binary_cross_entropy' needs targets 0 and 1")
    return Y, Y.shape[1]


def choose(kind: str, name: str, choices: Any) -> str:
    """`name` lower-cased if it is one of `choices`, else a ValueError listing them."""
    if name.lower() not in choices:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(sorted(choices))}")
    return name.lower()


def sizes(text: str, option: str) -> list[int]:
    """Parse "784,200,10" ("" or "none" gives [])."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        numbers = [int(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise ValueError(
            f"{option} must be comma-separated positive integers such as 784,200,10, got {text!r}"
        )
    return numbers
