"""Users' own tables for the command line: CSV with a header row, ``.npy`` and ``.npz``.

`load_table` returns features and targets as ``(X, y)``: X float64 with one row per sample, y int64
when every target is a whole number (class labels) and float64 otherwise (regression). Every
problem with a file is a `ValueError` that names it and says where.
"""

from __future__ import annotations

import contextlib
import csv
import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from mlpnet._types import Array

__all__ = ["load_table"]

_NUMERIC_KINDS = "biuf"


def load_table(
    path: str | os.PathLike[str], target: str | int | None = None
) -> tuple[Array, np.ndarray]:
    """Read features X and targets y from a ``.csv``, ``.npy`` or ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
        - ``.csv``: a header row naming the columns, then one numeric row per sample.
        - ``.npy``: a 2-D numeric array, one row per sample.
        - ``.npz``: an array ``X`` (or ``x``) of features and an array ``y`` (or ``Y``) of targets.
    target : str or int, optional
        Which column holds the targets: a column name (CSV) or index (CSV, ``.npy``; a string of
        digits counts as an index where there are no names); for ``.npz``, the name of the target
        array. By default the last column, or the array ``y``/``Y``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        The other columns (a 1-D ``X`` in a ``.npz`` is taken as one feature).
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        int64 if all targets are whole numbers, float64 otherwise.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file: an unknown suffix, an empty file, a missing column or array (listing those
        there are), a non-numeric cell (with its line and column), rows of different lengths, or
        features and targets of different lengths.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    readers = {".csv": _read_csv, ".npy": _read_npy, ".npz": _read_npz}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv, .npy or .npz")
    X, y = reader(path, target)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if len(X) == 0:
        raise ValueError(f"{path}: no samples in the file")
    if len(X) != len(y):
        raise ValueError(f"{path}: {len(X)} rows of features but {len(y)} targets")
    y = np.asarray(y)
    if y.dtype.kind in "bu" or (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        return X.astype(np.float64), y.astype(np.int64)
    return X.astype(np.float64), y.astype(np.float64)


def _read_csv(path: Path, target: str | int | None) -> tuple[Array, Array]:
    """Parse a CSV with a header row; the target column as `_column` picks it."""
    with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: drop a spreadsheet's BOM
        reader = csv.reader(fh)
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: empty file")
    header = [name.strip() for name in rows[0][1]]
    body = rows[1:]
    if not body:
        raise ValueError(f"{path}: a header row but no data rows")
    for line, row in body:
        if len(row) != len(header):
            raise ValueError(
                f"{path}: line {line} has {len(row)} cells, the header has {len(header)}"
            )
    j = _column(path, target, len(header), names=header)
    try:
        values = np.array([row for _, row in body], dtype=np.float64)
    except ValueError:
        values = None
    if values is None:  # find the culprit only on failure: the loop is slow on large files
        for line, row in body:
            for name, cell in zip(header, row, strict=True):
                try:
                    float(cell)
                except ValueError:
                    raise ValueError(
                        f"{path}: line {line}, column {name!r}: {cell!r} is not a number"
                    ) from None
    return np.delete(values, j, axis=1), values[:, j]


def _read_npy(path: Path, target: str | int | None) -> tuple[Array, Array]:
    """Read a 2-D numeric array; the target column is picked by index."""
    with _reading(path):
        table = np.load(path, allow_pickle=False)
    if not isinstance(table, np.ndarray):
        table.close()
        raise ValueError(f"{path}: an .npz archive, not an .npy array; rename it to .npz")
    table = _numeric(path, "array", table)
    if table.ndim != 2 or table.shape[1] < 2:
        raise ValueError(
            f"{path}: expected a 2-D array with feature columns and a target column, "
            f"got shape {table.shape}"
        )
    j = _column(path, target, table.shape[1], names=None)
    return np.delete(table, j, axis=1), table[:, j]


def _read_npz(path: Path, target: str | int | None) -> tuple[Array, Array]:
    """Arrays X (or x) and y (or Y, or the one named by `target`)."""
    wanted = {"X": ["X", "x"], "y": [str(target)] if target is not None else ["y", "Y"]}
    with _reading(path):
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("an .npy array, not an .npz archive of arrays X and y")
        with archive:
            names = sorted(archive.files)
            keys = {k: next((n for n in v if n in names), None) for k, v in wanted.items()}
            arrays = {k: archive[key] for k, key in keys.items() if key is not None}
    for what, looked_for in wanted.items():
        if what not in arrays:
            raise ValueError(
                f"{path}: no array {' or '.join(map(repr, looked_for))}; "
                f"the file holds {', '.join(map(repr, names)) or 'no arrays'}"
            )
    return _numeric(path, "X", arrays["X"]), _numeric(path, "y", arrays["y"])


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn any failure to read NumPy data (corrupt, truncated, pickled) into a ValueError."""
    try:
        yield
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{path}: cannot read as NumPy data ({exc})") from exc


def _numeric(path: Path, what: str, array: np.ndarray) -> np.ndarray:
    """Refuse an array that is not of numbers or is not what `np.load` gave for an .npy/.npz."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
        kind = getattr(array, "dtype", type(array).__name__)
        raise ValueError(f"{path}: {what} must hold numbers, found {kind}")
    return array


def _column(
    path: Path, target: str | int | None, n_columns: int, names: Sequence[str] | None
) -> int:
    """Index of the target column: by name, by index (an int or a string of digits), or the last."""
    if target is None:
        return n_columns - 1
    if names is not None and str(target) in names:
        return list(names).index(str(target))
    text = str(target).strip()
    if text.lstrip("-").isdigit() and -n_columns <= int(text) < n_columns:
        return int(text) % n_columns
    available = (
        ", ".join(map(repr, names)) if names is not None else f"indices 0 to {n_columns - 1}"
    )
    raise ValueError(f"{path}: no target column {target!r}; available: {available}")
