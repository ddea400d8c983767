"""Users' own tables for the command line: CSV with a header row, ``.npy`` and ``.npz``.

`load_table` returns features and targets as ``(X, y)``: X float64 with one row per sample, y int64
when every target is a whole number (class labels) and float64 otherwise (regression). Every
problem with a file is a `ValueError` that names it and says where.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlpnet._archive import Archive, read_npy
from mlpnet._types import Array

__all__ = ["check_cells", "csv_rows", "load_features", "load_table"]

_NUMERIC_KINDS = "biuf"
MAX_RATIO = 256
"""Largest uncompressed/compressed ratio of a data file's deflated member (sparse tables compress
well, but not by more); above it the file is refused as a decompression bomb."""
MAX_MEMBERS = 1024


def load_table(
    path: str | os.PathLike[str], target: str | int | None = None, *, dtype: Any = "float64"
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
    dtype : {"float64", "float32"}
        The floating type the values will be used in: with float32, a finite value beyond its
        range (±3.4e38) is refused as an overflow, naming its cell. X is returned as float64.

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
        Naming the file: an unknown suffix, an empty file, text that is not UTF-8 (with its line),
        a missing column or array (listing those there are), no feature column, a non-numeric,
        NaN or infinite cell, or one that overflows `dtype` (with its line or row and column),
        rows of different lengths, features and targets of different lengths, or a damaged or
        hostile ``.npy``/``.npz`` (every header is checked before anything is allocated, see
        `mlpnet._archive`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    readers = {".csv": _read_csv, ".npy": _read_npy, ".npz": _read_npz}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv, .npy or .npz")
    X, y = reader(path, target, np.dtype(dtype))
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if len(X) == 0:
        raise ValueError(f"{path}: no samples in the file")
    if X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(
            f"{path}: no feature columns: the file's only column is the target; "
            "a table needs feature columns and a target column"
        )
    if len(X) != len(y):
        raise ValueError(f"{path}: {len(X)} rows of features but {len(y)} targets")
    y = np.asarray(y)
    if y.dtype.kind in "bu" or (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        return X.astype(np.float64), y.astype(np.int64)
    return X.astype(np.float64), y.astype(np.float64)


def csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a UTF-8 CSV file with their line numbers (header row first).

    Raises
    ------
    ValueError
        Naming the file and line: not UTF-8 text (a latin-1 header, say), malformed CSV, or
        an empty file.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # -sig: drop a spreadsheet's BOM
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    del raw
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValueError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise ValueError(f"{path}: empty file")
    return rows


def _read_csv(path: Path, target: str | int | None, dtype: np.dtype) -> tuple[Array, Array]:
    """Parse a CSV with a header row; the target column as `_column` picks it."""
    rows = csv_rows(path)
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
    except (ValueError, OverflowError):
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
    check_cells(path, values, dtype, lambda i, k: f"line {body[i][0]}, column {header[k]!r}")
    return np.delete(values, j, axis=1), values[:, j]


def _read_npy(path: Path, target: str | int | None, dtype: np.dtype) -> tuple[Array, Array]:
    """Read a 2-D numeric array; the target column is picked by index."""
    with _reading(path):
        table = read_npy(path)
    table = _numeric(path, "array", table)
    if table.ndim != 2 or table.shape[1] < 2:
        raise ValueError(
            f"{path}: expected a 2-D array with feature columns and a target column, "
            f"got shape {table.shape}"
        )
    check_cells(path, table, dtype, lambda i, k: f"row {i}, column {k}")
    j = _column(path, target, table.shape[1], names=None)
    return np.delete(table, j, axis=1), table[:, j]


def _read_npz(path: Path, target: str | int | None, dtype: np.dtype) -> tuple[Array, Array]:
    """Arrays X (or x) and y (or Y, or the one named by `target`)."""
    wanted = {"X": ["X", "x"], "y": [str(target)] if target is not None else ["y", "Y"]}
    with _reading(path), Archive(path, max_ratio=MAX_RATIO, max_members=MAX_MEMBERS) as archive:
        names = sorted(archive.members)
        keys = {k: next((n for n in v if n in names), None) for k, v in wanted.items()}
        for what, looked_for in wanted.items():
            if keys[what] is None:
                raise ValueError(
                    f"{path}: no array {' or '.join(map(repr, looked_for))}; "
                    f"the file holds {', '.join(map(repr, names)) or 'no arrays'}"
                )
        for what, key in keys.items():
            _numeric(path, what, archive.headers[key])
        arrays = {what: archive.read(key, _NUMERIC_KINDS) for what, key in keys.items()}
    for what, array in arrays.items():
        table = array.reshape(len(array), -1) if array.ndim else array
        check_cells(path, table, dtype, lambda i, k, w=what: f"array {w!r}, row {i}, column {k}")
    return arrays["X"], arrays["y"]


def load_features(path: str | os.PathLike[str]) -> np.ndarray:
    """Features to predict from: an ``.npy`` array, or the array ``X`` (or ``x``) of an ``.npz``.

    Returns a float64 array of shape (n_samples, n_features) (a 1-D array is one feature).

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file: damaged or hostile (see `load_table`), no ``X``, not 1-D or 2-D numbers,
        or a NaN or infinite value (with its row and column).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    with _reading(path):
        if path.suffix.lower() == ".npy":
            X = _numeric(path, "array", read_npy(path))
        else:
            with Archive(path, max_ratio=MAX_RATIO, max_members=MAX_MEMBERS) as archive:
                key = next((k for k in ("X", "x") if k in archive.members), None)
                if key is None:
                    held = ", ".join(map(repr, sorted(archive.members))) or "no arrays"
                    raise ValueError(f"{path}: no array 'X' (it holds {held})")
                _numeric(path, "X", archive.headers[key])
                X = archive.read(key, _NUMERIC_KINDS)
    if X.ndim not in (1, 2):
        raise ValueError(f"{path}: features must be a 1-D or 2-D array, got shape {X.shape}")
    X = X.reshape(len(X), -1).astype(np.float64)
    check_cells(path, X, np.dtype(np.float64), lambda i, k: f"row {i}, column {k}")
    return X


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Say "cannot read as NumPy data" before what `mlpnet._archive` found wrong with a file."""
    try:
        yield
    except ValueError as exc:
        text = str(exc)
        if text.startswith(f"{path}: ") and "cannot read as NumPy data" not in text:
            text = text[len(f"{path}: ") :]
            raise ValueError(f"{path}: cannot read as NumPy data ({text})") from None
        raise


def _numeric(path: Path, what: str, array: Any) -> Any:
    """Refuse an array (or an ``.npy`` header) whose dtype is not of numbers."""
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(f"{path}: {what} must hold numbers, found {array.dtype}")
    return array


def check_cells(
    path: Path, values: np.ndarray, dtype: np.dtype, where: Callable[[int, int], str]
) -> None:
    """Refuse NaN, infinity and values that overflow `dtype`, naming the first cell and counting.

    `where(i, k)` says where row i, column k of `values` is in the file ("line 3, column 'x'").
    """
    if values.dtype.kind != "f" or values.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(values)
        limit = np.finfo(dtype).max if dtype.kind == "f" else np.inf
        big = np.abs(values) > limit if limit < np.finfo(values.dtype).max else None
    for mask, problem in ((bad, "is not a finite number"), (big, f"overflows {dtype}")):
        if mask is None or not mask.any():
            continue
        cells = np.argwhere(mask.reshape(len(values), -1))
        i, k = (int(v) for v in cells[0])
        value = float(values.reshape(len(values), -1)[i, k])
        more = f" ({len(cells)} such cells)" if len(cells) > 1 else ""
        bound = f" (largest {dtype}: ±{limit:.3g})" if mask is big else ""
        raise ValueError(f"{path}: {where(i, k)}: {value!r} {problem}{bound}{more}")


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
