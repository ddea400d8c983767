"""scikit-learn's bundled 8×8 digits: a real image data set that needs no download."""

from __future__ import annotations

import numpy as np

from mlpnet._types import Array

__all__ = ["digits"]


def digits() -> tuple[Array, np.ndarray]:
    """Return the 1,797 8×8 handwritten digits that ship with scikit-learn (UCI optical digits).

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        Pixel counts 0–16 divided by 16, so in [0, 1], one row per image.
    y : ndarray of shape (1797,), int64
        The digits 0–9.

    Raises
    ------
    ImportError
        If scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "mlpnet.datasets.digits() needs scikit-learn: pip install scikit-learn"
        ) from exc
    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float64) / 16.0, np.asarray(bunch.target, np.int64)
