"""The fit loop's epoch bookkeeping: history, validation, accuracy, callbacks, progress, ending.

`EpochBook` is what every run of the fit loop shares, whatever its steps: `mlpnet.training.FitRun`
(NumPy, per-step) and `mlpnet._xp_training.DeviceRun` (array-API backends, one read per epoch)
extend it with their loops. After each epoch `_end_epoch` records an `EpochLogs` in the
`History`, evaluates the validation data part by part, updates the progress bar and asks the
callbacks (early stopping, the estimators' rules) whether to stop.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _batches
from ._batches import rows
from ._sampling import check_sample_weight
from ._types import Array, BatchObjective, Trainable, as_batch_objective, model_hooks
from .callbacks import Callback
from .errors import TrainingDiverged
from .history import EpochLogs, History
from .metrics import accuracy

__all__ = ["EpochBook"]


class EpochBook:
    """One ``fit`` call's context: the model, its data, the history and the epoch-end routine."""

    def __init__(
        self,
        model: Trainable,
        X: Array,
        Y: Any,
        loss: Any,
        validation_data: tuple[ArrayLike, ArrayLike] | None,
        stoppers: list[tuple[Callback, str]],
        epochs: int,
        progress: bool | None,
        chunk: int | None = None,
        mass: float | None = None,
        *,
        accuracy: bool = True,
    ) -> None:
        self.model, self.X, self.Y, self.loss = model, X, Y, loss
        self.mass = rows(X) if mass is None else mass  # Σ w_i, or N: what the epoch loss divides
        self.theta = model.params
        self.history = History()
        self.epochs = epochs
        self.stoppers = stoppers
        # every loss from get_loss has is_classification; fit(accuracy=False) skips the metric
        self.classification = bool(loss.is_classification) and accuracy
        self.slices = list(model_hooks(model).layer_slices)
        self.val: BatchObjective | None = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a pair (X_val, Y_val) or (X, Y, w)")
            self.val = as_batch_objective(model.objective(*validation_data[:2], loss, check=True))
            self.val_XY = (
                validation_data[0] if self.val.X is None else self.val.X,
                validation_data[1] if self.val.Y is None else self.val.Y,
            )
            w_val = None
            if len(validation_data) == 3 and validation_data[2] is not None:
                w_val = check_sample_weight(validation_data[2], rows(self.val_XY[0]))
            size = chunk or rows(self.val_XY[0])
            self.val_parts = _batches.parts(model, *self.val_XY, loss, size, w_val)
        self.progress = progress
        self.bar: Any = None
        self.threads: Any = None  # the BLAS limit, chosen again before every epoch

    # -- per epoch -----------------------------------------------------------------------------

    def _grad_norms(self, grad: Array) -> tuple[float, ...]:
        """(‖∇J‖, ‖∇_1 J‖, …, ‖∇_L J‖): the whole gradient, then each layer's [W_l, b_l] part."""
        return (float(np.linalg.norm(grad)),) + tuple(
            float(np.linalg.norm(grad[s])) for s in self.slices
        )

    def _batch_accuracy(self, objective: BatchObjective) -> float:
        """Accuracy on the batch just evaluated, from the objective's output (NaN if it has none).

        Summed over an epoch's steps this is the running accuracy Keras reports, at no extra
        forward pass; a full ``predict`` over the training data would cost about a quarter of
        an epoch of mini-batch SGD.
        """
        if not self.classification:
            return 0.0
        if objective.output is None:  # one that scores its own evaluations (sharded data), or NaN
            return float(objective.accuracy)
        return accuracy(objective.output, objective.Y, self.loss)

    def _validate(self) -> tuple[float, float]:
        """Validation loss and accuracy at the current θ, part by part (weighted by mass)."""
        total, hits, n = 0.0, 0.0, sum(size for _, size in self.val_parts)
        for part, size in self.val_parts:
            total += float(part.value(self.theta)) * size
            if self.classification:
                X = self.val_XY[0] if part.X is None else part.X
                Y = self.val_XY[1] if part.Y is None else part.Y
                hits += self._accuracy(X, Y, part) * size
            part.release()  # drop its kept forward pass: only one part's is alive at a time
        return total / n, hits / n

    def _accuracy(self, X: Array, Y: Any, objective: BatchObjective | None = None) -> float:
        """Accuracy at the current θ, reusing the objective's last forward pass when it has one."""
        output = None if objective is None else objective.output
        return accuracy(self.model.predict(X) if output is None else output, Y, self.loss)

    def _end_epoch(
        self, epoch: int, loss: float, norms: tuple[float, ...], train_accuracy: float = math.nan
    ) -> str | None:
        """Record the epoch, update the progress bar, run the callbacks; return a stop reason."""
        metrics, val_metrics, val_loss = {}, {}, None
        if self.classification:
            if math.isnan(train_accuracy):
                train_accuracy = self._accuracy(self.X, self.Y)
            metrics["accuracy"] = train_accuracy
        if self.val is not None:
            val_loss, hits = self._validate()
            if self.classification:
                val_metrics["accuracy"] = hits
        logs = EpochLogs(
            epoch=epoch,
            loss=loss,
            grad_norm=norms[0],
            seconds=time.perf_counter() - self.start,
            layer_grad_norms=norms[1:],
            val_loss=val_loss,
            metrics=metrics,
            val_metrics=val_metrics,
            lr=self.history.lr[-1] if self.history.lr else None,
        )
        self.history.append(logs)
        if self.bar is not None:
            figures = {
                "loss": loss,
                "val_loss": val_loss,
                **{"val_" + k: v for k, v in val_metrics.items()},
            }
            self.bar.set_postfix(
                {k: f"{v:.4g}" for k, v in figures.items() if v is not None}, refresh=False
            )
            self.bar.update(1)
        reason = None
        for callback, why in self.stoppers:
            if callback.on_epoch_end(epoch, logs) or callback.stop_training:
                reason = reason or why
        return reason

    # -- start and end -------------------------------------------------------------------------

    def _begin(self) -> None:
        for callback, _ in self.stoppers:
            callback.stop_training = False
            callback.on_train_begin(self.model)
        self.bar = _progress_bar(self.progress, self.epochs)
        self.start = time.perf_counter()

    def _end(self, reason: str) -> History:
        self.history.stop_reason = reason
        for callback, _ in self.stoppers:
            callback.on_train_end(self.history)
        return self.history

    def _interrupted(self) -> History:
        self.history.stop_reason = "interrupted"
        return self.history

    def _diverged(self, epoch: int, J: float) -> TrainingDiverged:
        self.history.stop_reason = "diverged"
        return TrainingDiverged(
            f"training diverged in epoch {epoch} (step {len(self.history.step_loss)}): the loss "
            f"is {J}; the parameters were restored to the last step with a finite loss "
            "(try a smaller learning rate)",
            self.history,
        )

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress_bar(progress: bool | None, epochs: int) -> Any:
    """Return a tqdm bar over the epochs, or None (no tqdm, or not wanted)."""
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            warnings.warn("progress=True needs tqdm: pip install tqdm", stacklevel=4)
        return None
    return tqdm(total=epochs, unit="epoch", leave=True)
