"""Classification accuracy for the outputs of any of the classification losses."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._types import Array

__all__ = ["accuracy", "predicted_labels"]


def predicted_labels(Yhat: Array, threshold: bool = False) -> np.ndarray:
    """Class decisions: argmax of each row, or ŷ > ½ elementwise for a sigmoid output.

    A single output column is always thresholded (ŷ > ½ for probabilities).
    """
    if threshold or Yhat.shape[1] == 1:
        return (Yhat > 0.5).astype(np.int64)
    return Yhat.argmax(axis=1)


def accuracy(Yhat: Array, Y: Any, loss: Any = None) -> float:
    """Fraction of samples classified correctly.

    ``Y`` holds integer labels ``(n,)``, one-hot rows, or 0/1 targets for sigmoid outputs. With the
    binary cross-entropy (``loss`` given, or one output column) outputs are thresholded at ½ and a
    sample counts only when all its labels are right (subset accuracy, as scikit-learn).
    """
    Yhat = np.atleast_2d(np.asarray(Yhat))
    Y = np.asarray(Y)
    if Y.ndim == 1 and Yhat.shape[1] > 1 and getattr(loss, "name", loss) != "binary_cross_entropy":
        return np.count_nonzero(Yhat.argmax(axis=1) == Y) / len(Y)  # labels: the common case
    threshold = getattr(loss, "name", loss) == "binary_cross_entropy" or Yhat.shape[1] == 1
    pred = predicted_labels(Yhat, threshold)
    if threshold:
        truth = (Y.reshape(pred.shape) > 0.5).astype(np.int64)
        return float(np.mean(np.all(pred == truth, axis=1)))
    truth = Y if Y.ndim == 1 else Y.argmax(axis=1)
    return float(np.mean(pred == truth))
