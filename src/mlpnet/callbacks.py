"""Callbacks: code the fit loop runs at the start, after every epoch and at the end (Keras-style).

A callback subclasses `Callback` and overrides the hooks it needs; the others do nothing. It can
stop training after an epoch in either of two ways, checked after every ``on_epoch_end``:

- return True from ``on_epoch_end``, or
- set ``self.stop_training = True`` (from any hook; ``fit`` resets it to False at the start).

>>> class StopBelow(Callback):
...     def on_epoch_end(self, epoch, logs):
...         return logs.loss < 0.01
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._checks import check_count, check_in_range
from ._types import Array, Trainable
from .history import EpochLogs, History

__all__ = ["Callback", "EarlyStopping"]


class Callback:
    """Base class whose hooks do nothing; see the module docstring for how to stop training."""

    stop_training: bool = False

    def on_train_begin(self, model: Trainable) -> None:
        """Run before the first epoch; ``model.params`` is the live θ being trained."""

    def on_epoch_end(self, epoch: int, logs: EpochLogs) -> bool | None:
        """Run after every epoch with its figures; return True to stop training."""
        return None

    def on_train_end(self, history: History) -> None:
        """Run once when training ends normally (epochs, tol, patience or a callback stopped it).

        Not run after Ctrl-C or divergence: then θ stays as ``fit`` documents (the last completed
        step, the last finite θ).
        """


class EarlyStopping(Callback):
    """Stop when a monitored figure has not improved for ``patience`` epochs; keep the best θ.

    Parameters
    ----------
    monitor : str, default "val_loss"
        "loss", "val_loss", or a metric such as "accuracy" / "val_accuracy" (see `EpochLogs.get`).
    patience : int, default 5
        Epochs without improvement after which training stops.
    min_delta : float, default 0.0
        An improvement must beat the best value so far by more than this.
    mode : {"auto", "min", "max"}, default "auto"
        Whether smaller or larger is better; "auto" is "max" for accuracies, "min" otherwise.
    restore_best : bool, default True
        At the end of training (early or not), copy back the θ of the best epoch.

    Attributes
    ----------
    best : float
        Best monitored value so far.
    best_epoch, stopped_epoch : int or None
        Epoch of the best value, and the epoch at which this callback stopped training.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = check_count("patience", patience)
        self.min_delta = check_in_range("min_delta", min_delta, 0.0, math.inf)
        self.mode = mode
        self.restore_best = bool(restore_best)
        self._sign = -1.0 if mode == "max" or (mode == "auto" and "accuracy" in monitor) else 1.0
        self._theta: Array | None = None
        self._best_theta: Array | None = None

    def on_train_begin(self, model: Trainable) -> None:
        """Start counting afresh for this run."""
        self.best = math.inf * self._sign
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._theta = model.params
        self._best_theta = None

    def on_epoch_end(self, epoch: int, logs: EpochLogs) -> bool:
        """Update the best value and the count of epochs without improvement."""
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which this run does not record "
                "(val_* figures need validation_data; accuracy needs a classification loss)"
            )
        if self._sign * value < self._sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best and self._theta is not None:
                if self._best_theta is None:
                    self._best_theta = _snapshot(self._theta)
                else:
                    self._best_theta[...] = self._theta
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, history: Any) -> None:
        """Restore the θ of the best epoch (with ``restore_best``)."""
        if self._best_theta is not None and self._theta is not None:
            self._theta[...] = self._best_theta  # NumPy, torch and CuPy arrays alike


def _snapshot(theta: Array) -> Array:
    """A copy of θ in its own array library, on its device."""
    if isinstance(theta, np.ndarray):
        return theta.copy()
    from array_api_compat import array_namespace  # a backend network: the gpu extra is there

    return array_namespace(theta).asarray(theta, copy=True)
