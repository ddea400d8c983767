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

    y holds int64 class labels where the targets are whole numbers, text labels (str) where a CSV's
    target column holds words such as yes/no (`encode_labels` numbers them), else floats.
    A file's values must fit `dtype` (the network's): one beyond float32's range is named.
    """
    if data in BUILTIN_DATA:
        if target is not None:
            raise ValueError(f"--target applies to data files, not to the built-in {data!r}")
        return _builtin(data, mnist, part)
    if target is not None and target.strip() == "":
        raise ValueError("--target must name a column")
    try:
        return datasets.load_table(data, target, dtype=dtype)
    except ValueError as error:
        if not str(data).lower().endswith(".csv"):
            raise
        try:
            text = _text_labels(data, target)
        except ValueError:
            raise error from None  # the table reader's message says best what is wrong
        if text is None:
            raise
        return text


def _text_labels(data: str, target: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A CSV whose target column holds text: (numeric features, labels as str); else None."""
    name = target_name(data, target)
    rows = csv_rows(Path(data))  # the checked reader: encoding and shape errors name the line
    header = [cell.strip() for cell in rows[0][1]] if rows else []
    if name not in header:
        return None
    j = header.index(name)
    labels = [row[j].strip() if j < len(row) else "" for _, row in rows[1:]]
    if all(_is_number(label) for label in labels):
        return None  # the trouble lies elsewhere: load_table's own error says where
    if "" in labels:
        line = rows[1 + labels.index("")][0]
        raise ValueError(f"{data}: line {line}, column {name!r}: empty label")
    return _csv_features(Path(data), {name}, rows), np.array(labels, dtype=str)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def encode_labels(
    y: np.ndarray, classes: list[str] | None = None
) -> tuple[np.ndarray, list | None]:
    """Text labels as class indices 0 … K−1 of `classes` (default: the sorted distinct labels).

    Anything else is returned as it is, with None. A label not among `classes` is a ValueError.
    """
    if y.dtype.kind not in "UO":
        return y, None
    if classes is None:
        classes = sorted(set(y.tolist()))
    index = {label: k for k, label in enumerate(classes)}
    unknown = sorted(set(y.tolist()) - set(index))
    if unknown:
        raise ValueError(
            f"labels {', '.join(map(repr, unknown[:5]))} are not among the model's classes "
            f"{', '.join(map(repr, classes))}"
        )
    return np.array([index[label] for label in y.tolist()], dtype=np.int64), list(classes)


def standardizer(X: np.ndarray) -> dict[str, list[float]]:
    """Column means and standard deviations of the training data (1 for constant columns)."""
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[~(std > 0)] = 1.0  # a constant column is only centred: no division by zero
    return {"mean": mean.tolist(), "std": std.tolist()}


def standardize(X: np.ndarray, stats: dict[str, Any] | None) -> np.ndarray:
    """(X − mean) / std with the statistics saved at training (X as it is without them)."""
    if not stats:
        return X
    mean, std = np.asarray(stats["mean"]), np.asarray(stats["std"])
    if X.ndim != 2 or X.shape[1] != mean.size:
        return X  # the network's own check names the feature count
    return ((X - mean) / std).astype(X.dtype, copy=False)


SCALE_RATIO = 100.0
"""Warn when the largest column scale exceeds the median one by this factor."""


def scale_warning(X: np.ndarray, names: list[str] | None = None) -> str | None:
    """A hint to use --standardize when feature scales differ by orders of magnitude, else None.

    A column's scale is its root mean square; the largest is compared with the median of the
    non-zero ones (the median, not the smallest, so that a few nearly empty columns, like MNIST's
    border pixels, do not count).
    """
    scale = np.sqrt(np.mean(np.square(X, dtype=np.float64), axis=0))
    nonzero = scale[scale > 0]
    if X.ndim != 2 or nonzero.size < 2:
        return None
    typical = float(np.median(nonzero))
    j = int(np.argmax(scale))
    if scale[j] <= SCALE_RATIO * typical:
        return None
    column = repr(names[j]) if names and j < len(names) else str(j)
    return (
        f"feature scales differ by orders of magnitude (column {column}: {scale[j]:.3g}, "
        f"typical column: {typical:.3g}); training may stall: consider --standardize"
    )


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


def _csv_features(file: Path, drop: set[str], rows: list | None = None) -> np.ndarray:
    """The columns of a CSV with a header row whose names are not in `drop`, as floats.

    `rows` are the file's ``csv_rows`` where the caller has read them already.
    """
    rows = csv_rows(file) if rows is None else rows
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


def feature_names(data: str, target: str | None) -> list[str] | None:
    """A CSV's feature column names (all but the target), for messages; None otherwise."""
    header = csv_header(data)
    name = target_name(data, target)
    return [n for n in header if n != name] or None


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
