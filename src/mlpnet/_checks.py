"""Validation at the public boundary: every message says what was expected and what came.

Inside the library data are trusted; these checks run once, before any arithmetic.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ._types import Array

__all__ = [
    "check_X",
    "check_Y",
    "check_count",
    "check_finite",
    "check_in_range",
    "check_positive",
]


def check_finite(A: np.ndarray, name: str) -> None:
    """Refuse NaN and infinities, saying how many there are.

    A sum is a fast first pass (NaN and ±inf propagate through it); only when it is not finite do
    we count, so clean data pay one read.
    """
    if A.size == 0 or np.isfinite(A.sum()):  # overflow only costs the exact count below
        return
    n_nan = int(np.isnan(A).sum())
    n_inf = int(np.isinf(A).sum())
    parts = [f"{n_nan} NaN value{'s' * (n_nan != 1)}"] * bool(n_nan)
    parts += [f"{n_inf} infinite value{'s' * (n_inf != 1)}"] * bool(n_inf)
    if parts:
        raise ValueError(f"{name} has {' and '.join(parts)}")


def _as_float_array(A: Any, name: str, dtype: Any) -> np.ndarray:
    try:
        arr = np.asarray(A)
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise TypeError
        with np.errstate(over="ignore"):  # named below, not left to a NumPy warning
            out = arr.astype(dtype, copy=False)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be numeric (an array of numbers), got {type(A).__name__}"
        ) from None
    if out is not arr and out.dtype.kind == "f" and out.size and not np.isfinite(out.sum()):
        check_overflow(arr, out, name)
    return out


def check_overflow(before: np.ndarray, after: np.ndarray, name: str) -> None:
    """Refuse finite values that became infinite when converted (1e308 → float32 overflows)."""
    with np.errstate(invalid="ignore"):
        grew = np.isinf(after) & np.isfinite(before)
    count = int(grew.sum())
    if count:
        where = tuple(int(i) for i in np.argwhere(grew)[0])
        at = f"row {where[0]}, column {where[1]}" if len(where) == 2 else f"index {where}"
        raise ValueError(
            f"{name} has {count} value{'s' * (count != 1)} too large for {after.dtype} "
            f"(overflow: {float(before[where])!r} at {at}; {after.dtype} holds at most "
            f"±{float(np.finfo(after.dtype).max):.3g})"
        )


def check_X(X: Any, n_features: int, dtype: Any, name: str = "X") -> tuple[Array, bool]:
    """Return ``(X as a 2-D array of dtype, was_one_sample)``.

    A 1-D X of length n_features is one sample. Raises ValueError for a wrong feature count
    ("expected 784 features, got 783"), empty data, non-numeric entries, NaN or infinity.
    """
    X = _as_float_array(X, name, dtype)
    one = X.ndim == 1
    if one:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows are samples), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples)")
    if X.shape[1] != n_features:
        raise ValueError(f"expected {n_features} features, got {X.shape[1]}")
    check_finite(X, name)
    return X, one


def check_Y(Y: Any, n_rows: int, n_outputs: int, loss: Any, dtype: Any, one: bool = False) -> Array:
    """Return targets in the form the loss uses, refusing what does not fit.

    Integer class labels ``(n,)`` are kept as int64 for the losses that accept them (the softmax
    cross-entropies); a single-output network takes a 1-D Y as a column. Raises ValueError for
    mismatched lengths, a wrong number of columns, NaN or infinity, labels outside the classes and
    binary cross-entropy targets outside [0, 1].
    """
    arr = np.asarray(Y)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise ValueError(f"Y must be numeric, got an array of {arr.dtype}")
    if one:  # X was one sample: Y is its label (a scalar) or its target row
        arr = arr.reshape(1) if arr.ndim == 0 and loss.accepts_labels else arr.reshape(1, -1)
    if arr.ndim == 0:
        raise ValueError(f"Y must hold one target per sample, got a scalar {arr!r}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"X has {n_rows} samples but Y has {arr.shape[0]}")
    if arr.ndim == 1 and loss.accepts_labels:
        return _check_labels(arr, n_outputs)
    if arr.ndim == 1 and n_outputs == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != n_outputs:
        got = "a 1-D Y" if arr.ndim == 1 else f"shape {arr.shape}"
        raise ValueError(f"expected targets with {n_outputs} columns (one per output), got {got}")
    arr = _as_float_array(arr, "Y", dtype)
    check_finite(arr, "Y")
    if loss.name == "binary_cross_entropy":
        outside = int(((arr < 0) | (arr > 1)).sum())
        if outside:
            raise ValueError(f"binary_cross_entropy targets must lie in [0, 1]; {outside} do not")
    return arr


def _check_labels(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Integer labels 0 … K−1 (floats with integral values are accepted)."""
    if y.dtype.kind == "f":
        check_finite(y, "Y")
        if not np.all(y == np.round(y)):
            raise ValueError("class labels must be integers, got non-integral values in Y")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"class labels must be integers, got dtype {y.dtype}")
    labels = y.astype(np.int64, copy=False)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        first = labels[bad][0]
        more = int(bad.sum()) - 1
        raise ValueError(
            f"labels must be integers in 0..{n_classes - 1} (one per output), got {first}"
            + (f" (and {more} more outside)" if more else "")
        )
    return labels


# -- hyper-parameters, refused where they are given (PyTorch's habit: in __init__) ------------


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, refusing anything but a finite number > 0."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def check_in_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    closed_low: bool = True,
    closed_high: bool = False,
) -> float:
    """Return ``value`` as a float in the interval from ``low`` to ``high``, else refuse it."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (low <= value if closed_low else low < value)
    ok = ok and (value <= high if closed_high else value < high)
    if not ok:
        interval = f"{'[' if closed_low else '('}{low:g}, {high:g}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return float(value)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int ≥ ``minimum`` (1 or 0), refusing anything else."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")
    return int(value)
