"""The fit loop: batches, steps, stopping rules, divergence, Ctrl-C, progress and the history.

One epoch is one pass over the N samples: ⌈N / batch_size⌉ optimizer steps on mini-batches drawn
without replacement (reshuffled every epoch from a seeded generator), or a single step on all the
data when ``batch_size`` is None (full-batch gradient descent: ∇J is the average of the N
per-sample gradients). L-BFGS runs as a whole, one iteration per epoch. The model is seen only as a
`Trainable`: ``params`` (θ, moved in place by the optimizer), ``objective(X, Y, loss, check=…)``
and ``predict``.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_count, check_in_range
from ._sampling import check_dropout, check_sample_weight
from ._threads import blas_threads, check_threads
from ._types import Array, Objective, Trainable
from .callbacks import Callback, EarlyStopping
from .errors import TrainingDiverged
from .history import EpochLogs, History
from .losses import get_loss
from .metrics import accuracy
from .optim import get_optimizer

__all__ = ["fit"]


def fit(
    model: Trainable,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    loss: Any,
    optimizer: Any = "sgd",
    epochs: int = 10,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    tol: float | None = None,
    patience: int | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool | None = None,
    seed: int | np.random.Generator | None = None,
    sample_weight: ArrayLike | None = None,
    dropout: float | None = None,
    threads: int | str | None = "auto",
) -> History:
    """Train ``model`` from its current θ on (X, Y); return the `History`.

    Parameters
    ----------
    model : Trainable
        E.g. a `mlpnet.Network`; its ``params`` are moved in place.
    X, Y : array-like
        Inputs ``(N, n_0)`` and targets (see the losses for their forms); checked once.
    loss : str or loss object
        The per-sample loss whose mean J is minimised.
    optimizer : str or optimizer, default "sgd"
        An object from `mlpnet.optim` (its state continues across ``fit`` calls) or a name from
        `mlpnet.optim.OPTIMIZERS` with that table's defaults (``"sgd"`` is ``SGD(lr=0.01)``).
    epochs : int, default 10
        Passes over the data (for L-BFGS: iterations).
    batch_size : int, "full" or None, default None
        None or "full" (or ≥ N) for full-batch steps, 1 for online SGD, else mini-batches of this
        size (the last one of an epoch may be smaller). Armijo, exact line search and L-BFGS need
        the full batch.
    shuffle : bool, default True
        Reshuffle the samples every epoch (mini-batches only).
    validation_data : (X_val, Y_val) or (X_val, Y_val, w_val), optional
        Data to report ``val_loss`` (and ``val_accuracy``) on after every epoch; ``w_val`` weighs
        its rows as `sample_weight` does the training rows.
    tol : float, optional
        Full batch: stop once ‖∇J‖ ≤ tol (before the step). Mini-batches: stop after an epoch
        whose loss is not below the best earlier epoch loss by more than tol.
    patience : int, optional
        Stop after this many epochs without a lower ``val_loss`` and restore the θ of the best
        epoch (needs ``validation_data``; see `mlpnet.callbacks.EarlyStopping`).
    callbacks : sequence of Callback
        Hooks run at the start, after every epoch (they may stop training) and at the end.
    progress : bool or None, default None
        Show a tqdm progress bar (per epoch, with the loss and validation figures); None shows it
        only when stderr is a terminal.
    seed : int, numpy Generator or None
        Seeds the shuffling (``np.random.default_rng``), the dropout masks and a named
        ``"random_search"``; the same seed and starting θ give the same final θ bit for bit. A
        `numpy.random.Generator` is used as it is and advanced, so handing the same one to
        consecutive calls continues its sequence (two fits of k epochs = one of 2k).
    sample_weight : array-like of shape (N,), optional
        Weights w_i ≥ 0 (not all zero) of the rows: each step minimises the weighted mean
        J_B = Σ_{i∈B} w_i ℓ_i / Σ_{i∈B} w_i over its batch B (scikit-learn's convention), and the
        epoch loss is the batches' J_B weighted by Σ_{i∈B} w_i. Integer weights on full batches
        equal repeated rows.
    dropout : float or None
        Inverted dropout rate p (0 ≤ p < 1) on every hidden layer's output for this call; None
        uses the layers' own rates (``Dense.dropout``). A fresh mask is drawn for every step and
        held fixed within it (line searches see one function); not with L-BFGS.
    threads : "auto", int or None, default "auto"
        BLAS threads while training: "auto" picks one thread for batches too small to gain from
        more or when other processes keep the cores busy, else the free cores (the policy is in
        `mlpnet._threads`; ``MLPNET_THREADS`` changes it); an int fixes the count; None leaves
        the BLAS as it is. Without threadpoolctl the BLAS keeps its own setting.

    Returns
    -------
    History
        Also returned after Ctrl-C (``stop_reason="interrupted"``), with θ at the last completed
        step.

    Raises
    ------
    TrainingDiverged
        When J becomes NaN or infinite; θ is restored to the last step with a finite J, and the
        exception's ``.history`` holds what was recorded.
    ValueError
        For bad arguments or data (naming the value).
    """
    epochs = check_count("epochs", epochs)
    threads = check_threads(threads)
    if isinstance(batch_size, str) and batch_size.strip().lower() == "full":
        batch_size = None
    if batch_size is not None:
        batch_size = check_count("batch_size", batch_size)
    if tol is not None:
        tol = check_in_range("tol", tol, 0.0, math.inf)
    if patience is not None:
        patience = check_count("patience", patience)
        if validation_data is None:
            raise ValueError(f"patience={patience} needs validation_data to watch")
    callbacks = _check_callbacks(callbacks)
    if isinstance(seed, np.random.Generator):  # continued by the caller: one stream for all
        shuffle_seed = drop_rng = seed
        # a named optimizer is built afresh (random search needs a seed); an object continues
        optimizer_seed = int(seed.integers(2**63)) if isinstance(optimizer, str) else None
    else:
        shuffle_seed, optimizer_seed, drop_seed = np.random.SeedSequence(seed).spawn(3)
        drop_rng = np.random.default_rng(drop_seed)
    opt = get_optimizer(optimizer, seed=optimizer_seed)
    loss = get_loss(loss)
    data = model.objective(X, Y, loss, check=True)
    X, Y = getattr(data, "X", X), getattr(data, "Y", Y)  # as checked and converted
    n = _rows(X)
    w = None if sample_weight is None else check_sample_weight(sample_weight, n)
    masks = _mask_source(model, dropout, drop_rng)
    if masks is not None and callable(getattr(opt, "run", None)):
        raise ValueError(
            f"{type(opt).__name__} runs on one fixed objective; dropout draws a new one every "
            "step: use another optimizer or no dropout"
        )
    on_device = getattr(data, "on_host", True) is False  # an array-API backend (mlpnet.backends)
    if on_device and (w is not None or masks is not None):
        raise ValueError(
            "sample_weight and dropout are not supported on the "
            f"{getattr(model, 'backend', 'array-API')!r} backend yet: train on 'numpy'"
        )
    if (w is not None or masks is not None) and getattr(data, "held_elsewhere", False):
        raise ValueError(
            "sample_weight and dropout are not supported on data held elsewhere (Dask shards) yet"
        )
    if w is not None:
        data = _objective(model, X, Y, loss, w)
    full = batch_size is None or batch_size >= n
    if not full and getattr(opt, "full_batch", False):
        raise ValueError(
            f"{type(opt).__name__} needs the objective on all the data every step: "
            f"use batch_size=None, got batch_size={batch_size}"
        )
    stoppers: list[tuple[Callback, str]] = [(cb, "callback") for cb in callbacks]
    if patience is not None:
        stoppers.insert(0, (EarlyStopping("val_loss", patience=patience), "patience"))
    if tol is not None and not full:
        stoppers.insert(0, (EarlyStopping("loss", 1, min_delta=tol, restore_best=False), "tol"))
    # mini-batch training evaluates the validation data in batches too: memory stays one batch's
    if on_device:
        from ._xp_training import DeviceRun

        chunk = None if full else batch_size
        run: _Run = DeviceRun(model, X, Y, loss, validation_data, stoppers, epochs, progress, chunk)
        return run.train(opt, data, None if full else batch_size, shuffle, shuffle_seed, tol)
    run = _Run(
        model,
        X,
        Y,
        loss,
        validation_data,
        stoppers,
        epochs,
        progress,
        None if full else batch_size,
        n if w is None else float(w.sum()),
    )
    rows, n_params = n if full else batch_size, getattr(model, "n_params", len(model.params))
    # Overflow on the way to a non-finite loss is reported by TrainingDiverged, not by warnings.
    with (
        np.errstate(over="ignore", invalid="ignore"),
        blas_threads(threads, rows, n_params) as run.threads,
    ):
        if callable(getattr(opt, "run", None)):
            return run.whole(opt, data, tol)
        if full:
            batches = _full_batches(data, n if w is None else float(w.sum()), model, w, masks, loss)
        elif callable(getattr(data, "mini_batches", None)):  # data held elsewhere stream their own
            batches = data.mini_batches(batch_size, shuffle, shuffle_seed)
        else:
            batches = _mini_batches(model, X, Y, loss, batch_size, shuffle, shuffle_seed, w, masks)
        return run.steps(opt, batches, tol if full else None)


class _Run:
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
    ) -> None:
        self.model, self.X, self.Y, self.loss = model, X, Y, loss
        self.mass = _rows(X) if mass is None else mass  # Σ w_i, or N: what the epoch loss divides
        self.theta = model.params
        self.history = History()
        self.epochs = epochs
        self.stoppers = stoppers
        self.classification = bool(getattr(loss, "is_classification", False))
        self.slices = list(getattr(model, "layer_slices", ()))
        self.val: Objective | None = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a pair (X_val, Y_val) or (X, Y, w)")
            self.val = model.objective(*validation_data[:2], loss, check=True)
            self.val_XY = (
                getattr(self.val, "X", validation_data[0]),
                getattr(self.val, "Y", validation_data[1]),
            )
            w_val = None
            if len(validation_data) == 3 and validation_data[2] is not None:
                w_val = check_sample_weight(validation_data[2], _rows(self.val_XY[0]))
            size = chunk or _rows(self.val_XY[0])
            self.val_parts = _parts(model, *self.val_XY, loss, size, w_val)
        self.progress = progress
        self.bar: Any = None
        self.threads: Any = None  # the BLAS limit, chosen again before every epoch

    # -- the two loops ------------------------------------------------------------------------

    def steps(self, opt: Any, batches: Any, tol: float | None) -> History:
        """Epochs of per-step updates: θ ← opt.step(θ, J, ∇J, objective) on each batch."""
        theta, history = self.theta, self.history
        backup = theta.copy()  # θ of the last step with a finite J: the divergence fallback
        uses_gradient = getattr(opt, "uses_gradient", True)
        # Plain SGD may fuse θ ← θ − γ_k∇J into the backward pass (no ∇J written out); the last
        # batch of an epoch takes the ordinary path, which yields the gradient norms.
        fused = bool(getattr(opt, "fusable", False))
        # the fused path alternates two buffers (one copy per step); others need only `backup`
        spare = theta.copy() if fused else backup
        varying = bool(getattr(opt, "_varying", True))
        step_loss, lrs = history.step_loss.append, history.lr.append
        classification, stepping = self.classification, False
        self._begin()
        try:
            for epoch in range(self.epochs):
                if self.threads is not None:
                    self.threads.refresh()
                total, hits, norms, reached_tol = 0.0, 0.0, (math.nan,), False
                for objective, size, last in batches(epoch):
                    if fused and not last and hasattr(objective, "descend"):
                        backup, spare = (
                            spare,
                            backup,
                        )  # spare: θ_{k-1}, the fallback if J(θ_k) fails
                        np.copyto(backup, theta)  # θ_k, restored if Ctrl-C lands in the update
                        stepping = True
                        lr = opt.advance()
                        J = float(objective.descend(theta, lr))
                        stepping = False
                        if not math.isfinite(J):
                            np.copyto(theta, spare)
                            raise self._diverged(epoch, J)
                        if classification:
                            hits += self._batch_accuracy(objective) * size
                        step_loss(J)
                        if varying:
                            lrs(lr)
                        total += J * size
                        continue
                    if uses_gradient:
                        J, grad = objective(theta)
                    else:
                        J, grad = objective.value(theta), None
                    J = float(J)
                    if not math.isfinite(J):
                        np.copyto(theta, backup)
                        raise self._diverged(epoch, J)
                    if classification:
                        hits += self._batch_accuracy(objective) * size
                    if last and grad is not None:
                        norms = self._grad_norms(grad)
                        if tol is not None and norms[0] <= tol:
                            total, reached_tol = J * size, True
                            break
                    np.copyto(backup, theta)
                    stepping = True
                    lr = opt.step(theta, J, grad, objective)
                    stepping = False
                    step_loss(J)
                    if lr is not None:
                        lrs(float(lr))
                    total += J * size
                n = self.mass
                reason = self._end_epoch(epoch, total / n, norms, hits / n)
                if reached_tol or reason:
                    return self._end(reason or "tol")
            return self._end("epochs")
        except KeyboardInterrupt:
            if stepping:  # interrupted inside the update: back to the last completed step
                np.copyto(theta, backup)
            return self._interrupted()
        finally:
            self._close_bar()

    def whole(self, opt: Any, objective: Objective, tol: float | None) -> History:
        """Run an optimizer that has its own loop (L-BFGS), one epoch per iteration."""
        theta, history = self.theta, self.history
        J0 = float(objective.value(theta))
        if not math.isfinite(J0):
            raise self._diverged(0, J0)
        reason: list[str] = []

        def on_iteration(J: float, grad: Array) -> bool:
            history.step_loss.append(J)
            norms = self._grad_norms(grad)
            hits = self._batch_accuracy(objective) if self.classification else math.nan
            stop = self._end_epoch(history.epochs, J, norms, hits)
            if tol is not None and norms[0] <= tol:
                stop = stop or "tol"
            if stop:
                reason.append(stop)
            return bool(stop)

        self._begin()
        try:
            opt.run(theta, objective, max_iter=self.epochs, callback=on_iteration)
        except KeyboardInterrupt:
            return self._interrupted()
        finally:
            self._close_bar()
        if reason:
            return self._end(reason[0])
        return self._end("epochs" if history.epochs >= self.epochs else "converged")

    # -- per epoch -----------------------------------------------------------------------------

    def _grad_norms(self, grad: Array) -> tuple[float, ...]:
        """(‖∇J‖, ‖∇_1 J‖, …, ‖∇_L J‖): the whole gradient, then each layer's [W_l, b_l] part."""
        return (float(np.linalg.norm(grad)),) + tuple(
            float(np.linalg.norm(grad[s])) for s in self.slices
        )

    def _batch_accuracy(self, objective: Objective) -> float:
        """Accuracy on the batch just evaluated, from the objective's output (NaN if it has none).

        Summed over an epoch's steps this is the running accuracy Keras reports, at no extra
        forward pass; a full ``predict`` over the training data would cost about a quarter of
        an epoch of mini-batch SGD.
        """
        output = getattr(objective, "output", None)
        if output is None:  # one that scores its own evaluations (sharded data), or NaN
            return float(getattr(objective, "accuracy", math.nan))
        return accuracy(output, objective.Y, self.loss)  # type: ignore[attr-defined]

    def _validate(self) -> tuple[float, float]:
        """Validation loss and accuracy at the current θ, part by part (weighted by mass)."""
        total, hits, n = 0.0, 0.0, sum(size for _, size in self.val_parts)
        for part, size in self.val_parts:
            total += float(part.value(self.theta)) * size
            if self.classification:
                X, Y = getattr(part, "X", self.val_XY[0]), getattr(part, "Y", self.val_XY[1])
                hits += self._accuracy(X, Y, part) * size
            if callable(getattr(part, "release", None)):
                part.release()  # drop its kept forward pass: only one part's is alive at a time
        return total / n, hits / n

    def _accuracy(self, X: Array, Y: Any, objective: Objective | None = None) -> float:
        """Accuracy at the current θ, reusing the objective's last forward pass when it has one."""
        output = getattr(objective, "output", None)
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


# -- batches: each epoch yields (objective, batch size, is last of the epoch) --------------------


# With sample weights a batch counts by its mass Σ_{i∈B} w_i instead of its size.


def _objective(
    model: Trainable, X: Array, Y: Any, loss: Any, w: Array | None = None, masks: Any = None
) -> Objective:
    """``model.objective`` on checked data, passing weights and masks only when there are any."""
    extra: dict[str, Any] = {}
    if w is not None:
        extra["sample_weight"] = w
    if masks is not None:
        extra["masks"] = masks
    return model.objective(X, Y, loss, check=False, **extra)


def _mask_source(model: Trainable, dropout: float | None, rng: Any) -> Any:
    """``n ↦ masks`` for a batch of n rows, or None when nothing drops."""
    draw = getattr(model, "dropout_masks", None)
    if dropout is not None:
        dropout = check_dropout(dropout)
        if dropout and draw is None:
            raise ValueError(f"dropout={dropout} needs a model with dropout_masks (a Network)")
    if draw is None or (dropout == 0.0) or (dropout is None and not any(model.dropout_rates)):
        return None
    return lambda n: draw(n, rng, dropout)


def _full_batches(
    objective: Objective, mass: float, model: Trainable, w: Array | None, masks: Any, loss: Any
) -> Any:
    def epoch_batches(epoch: int) -> Iterator[tuple[Objective, float, bool]]:
        if masks is None:
            yield objective, mass, True
        else:  # a sub-network sampled afresh for each step
            X, Y = objective.X, objective.Y  # type: ignore[attr-defined]
            yield _objective(model, X, Y, loss, w, masks(len(X))), mass, True

    return epoch_batches


def _mini_batches(
    model: Trainable,
    X: Array,
    Y: Any,
    loss: Any,
    batch_size: int,
    shuffle: bool,
    seed: Any,
    w: Array | None = None,
    masks: Any = None,
) -> Any:
    """Mini-batches drawn without replacement, with objectives built by ``check=False``."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(X)
    Y = np.asarray(Y)
    X_buf = np.empty((batch_size,) + X.shape[1:], dtype=X.dtype)  # reused: no per-step allocation
    Y_buf = np.empty((batch_size,) + Y.shape[1:], dtype=Y.dtype)
    plain = w is None and masks is None  # the hot path: nothing but the slices

    def epoch_batches(epoch: int) -> Iterator[tuple[Objective, float, bool]]:
        order = rng.permutation(n) if shuffle else None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            if order is None:
                rows: Any = slice(start, stop)
                Xb, Yb = X[rows], Y[rows]
            elif stop - start == batch_size:
                rows = order[start:stop]
                Xb = np.take(X, rows, axis=0, out=X_buf)
                Yb = np.take(Y, rows, axis=0, out=Y_buf)
            else:
                rows = order[start:stop]
                Xb, Yb = X[rows], Y[rows]
            if plain:
                yield model.objective(Xb, Yb, loss, check=False), stop - start, stop == n
                continue
            wb = None if w is None else w[rows]
            mb = None if masks is None else masks(stop - start)
            mass = stop - start if wb is None else float(wb.sum())
            yield _objective(model, Xb, Yb, loss, wb, mb), mass, stop == n

    return epoch_batches


def _parts(
    model: Trainable, X: Array, Y: Any, loss: Any, size: int, w: Array | None = None
) -> list[tuple[Objective, float]]:
    """(objective, mass) on consecutive slices of at most `size` rows of already-checked data.

    The mass is the slice's Σ w_i, or its row count; slicing stays within the rows and uses only
    ``shape`` so that any array-API array (which need not have ``len``) works.
    """
    Y = Y if hasattr(Y, "shape") else np.asarray(Y)
    n = _rows(X)
    parts = []
    for i in range(0, n, size):
        stop = min(i + size, n)
        wb = None if w is None else w[i:stop]
        objective = _objective(model, X[i:stop, ...], Y[i:stop, ...], loss, wb)
        parts.append((objective, stop - i if wb is None else float(wb.sum())))
    return parts


def _rows(A: Any) -> int:
    """The number of rows of `A`: ``shape[0]`` for arrays (array-API ones need not have len)."""
    return A.shape[0] if hasattr(A, "shape") else len(A)


def _check_callbacks(callbacks: Any) -> list[Callback]:
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be mlpnet.callbacks.Callback instances, got {cb!r}")
    return callbacks


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
