"""The fit loop: batches, steps, stopping rules, divergence, Ctrl-C, progress and the history.

One epoch is one pass over the N samples: ⌈N / batch_size⌉ optimizer steps on mini-batches drawn
without replacement (reshuffled every epoch from a seeded generator), or a single step on all the
data when ``batch_size`` is None (full-batch gradient descent: ∇J is the average of the N
per-sample gradients). L-BFGS runs as a whole, one iteration per epoch. The model is seen only as a
`Trainable`: ``params`` (θ, moved in place by the optimizer), ``objective(X, Y, loss, check=…)``
and ``predict``; its objectives and the optimizer only through the hooks declared on
`mlpnet._types.BatchObjective` and `mlpnet.optim.base.Optimizer`. The batches are made in
`mlpnet._batches`, the epoch's bookkeeping (history, validation, callbacks) is `mlpnet._epochs`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _batches
from ._batches import rows
from ._checks import check_count, check_in_range
from ._epochs import EpochBook
from ._sampling import check_sample_weight
from ._threads import blas_threads, check_threads
from ._types import Array, BatchObjective, Trainable, as_batch_objective, model_hooks
from .callbacks import Callback, EarlyStopping
from .history import History
from .losses import get_loss
from .optim import get_optimizer
from .optim.base import Optimizer, as_optimizer

__all__ = ["fit"]


def fit(
    model: Trainable,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    loss: Any,
    optimizer: Any = "sgd",
    epochs: int = 10,
    batch_size: int | str | None = None,
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
    accuracy: bool = True,
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
    accuracy : bool, default True
        Record the training accuracy each epoch (``history.metrics["accuracy"]``, and the
        validation accuracy) for a classification loss. False skips that bookkeeping, e.g. for a
        caller that scores on its own (the scikit-learn estimators).

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
    chosen = get_optimizer(optimizer, seed=optimizer_seed)
    name, opt = type(chosen).__name__, as_optimizer(chosen)
    loss = get_loss(loss)
    hooks = model_hooks(model)
    full_objective = as_batch_objective(model.objective(X, Y, loss, check=True))
    X = X if full_objective.X is None else full_objective.X  # as checked and converted
    Y = Y if full_objective.Y is None else full_objective.Y
    n = rows(X)
    w = None if sample_weight is None else check_sample_weight(sample_weight, n)
    masks = _batches.mask_source(hooks.dropout_masks, hooks.dropout_rates, dropout, drop_rng)
    _check_combination(name, opt, full_objective, hooks.backend, w, masks)
    if w is not None:
        full_objective = _batches.objective_on(model, X, Y, loss, w)
    full = batch_size is None or batch_size >= n
    if not full and opt.full_batch:
        raise ValueError(
            f"{name} needs the objective on all the data every step: "
            f"use batch_size=None, got batch_size={batch_size}"
        )
    stoppers: list[tuple[Callback, str]] = [(cb, "callback") for cb in callbacks]
    if patience is not None:
        stoppers.insert(0, (EarlyStopping("val_loss", patience=patience), "patience"))
    if tol is not None and not full:
        stoppers.insert(0, (EarlyStopping("loss", 1, min_delta=tol, restore_best=False), "tol"))
    # mini-batch training evaluates the validation data in batches too: memory stays one batch's
    chunk = None if full else batch_size
    if not full_objective.on_host:  # an array-API backend (mlpnet.backends)
        from ._xp_training import DeviceRun

        run: FitRun = DeviceRun(
            model, X, Y, loss, validation_data, stoppers, epochs, progress, chunk, accuracy=accuracy
        )
        return run.train(opt, full_objective, chunk, shuffle, shuffle_seed, tol)
    mass = n if w is None else float(w.sum())
    run = FitRun(
        model,
        X,
        Y,
        loss,
        validation_data,
        stoppers,
        epochs,
        progress,
        chunk,
        mass,
        accuracy=accuracy,
    )
    # Overflow on the way to a non-finite loss is reported by TrainingDiverged, not by warnings.
    with (
        np.errstate(over="ignore", invalid="ignore"),
        blas_threads(threads, n if full else batch_size, hooks.n_params) as run.threads,
    ):
        if opt.owns_loop:
            return run.whole(opt, full_objective, tol)
        if full:
            batches = _batches.full_batches(full_objective, mass, model, w, masks, loss)
        elif full_objective.held_elsewhere:  # data held elsewhere stream their own batches
            batches = full_objective.mini_batches(batch_size, shuffle, shuffle_seed)
        else:
            batches = _batches.mini_batches(
                model, X, Y, loss, batch_size, shuffle, shuffle_seed, w, masks
            )
        return run.steps(opt, batches, tol if full else None)


def _check_combination(
    name: str, opt: Optimizer, full_objective: BatchObjective, backend: str, w: Any, masks: Any
) -> None:
    """Refuse what the optimizer or where the data live cannot do with weights or dropout."""
    if masks is not None and opt.owns_loop:
        raise ValueError(
            f"{name} runs on one fixed objective; dropout draws a new one every "
            "step: use another optimizer or no dropout"
        )
    if w is None and masks is None:
        return
    if not full_objective.on_host:
        raise ValueError(
            "sample_weight and dropout are not supported on the "
            f"{backend!r} backend yet: train on 'numpy'"
        )
    if full_objective.held_elsewhere:
        raise ValueError(
            "sample_weight and dropout are not supported on data held elsewhere (Dask shards) yet"
        )


Step = tuple[float, "float | None", float, "tuple[float, ...] | None", bool]
"""What one optimizer step reports to the epoch, the same from either step path (a plain tuple:
this is the hot loop): J on the batch at θ before the step; γ_k where it varies, else None; the
batch's accuracy (classification; 0 otherwise); (‖∇J‖, ‖∇_1 J‖, …) when the step reports them
(the last batch of an epoch), else None; False when ‖∇J‖ ≤ tol stopped the epoch before the
update."""


class FitRun(EpochBook):
    """The NumPy fit loop: per-step updates on batches, or an optimizer that owns its loop."""

    # -- the two loops ------------------------------------------------------------------------

    def steps(self, opt: Optimizer, batches: _batches.Batches, tol: float | None) -> History:
        """Epochs of per-step updates: θ ← opt.step(θ, J, ∇J, objective) on each batch."""
        theta, history = self.theta, self.history
        self.backup = theta.copy()  # θ of the last step with a finite J: the divergence fallback
        # Plain SGD may fuse θ ← θ − γ_k∇J into the backward pass (no ∇J written out); the last
        # batch of an epoch takes the ordinary path, which yields the gradient norms.
        fused = opt.fusable
        # the fused path alternates two buffers (one copy per step); others need only `backup`
        self.spare = theta.copy() if fused else self.backup
        self.stepping = False
        self.record_lr = opt.varying  # read once: the fused step records γ_k only if it varies
        step_loss, lrs = history.step_loss.append, history.lr.append
        fused_step, plain_step = self._fused_step, self._plain_step  # the hot loop's lookups
        self._begin()
        try:
            for epoch in range(self.epochs):
                if self.threads is not None:
                    self.threads.refresh()
                total, hits, norms, reached_tol = 0.0, 0.0, (math.nan,), False
                for objective, size, last in batches(epoch):
                    if fused and not last and objective.can_descend:
                        done = fused_step(opt, objective, epoch)
                    else:
                        done = plain_step(opt, objective, epoch, last, tol)
                    J, lr, accuracy, step_norms, stepped = done
                    hits += accuracy * size
                    if step_norms is not None:
                        norms = step_norms
                    if not stepped:  # ‖∇J‖ ≤ tol: stop before the update
                        total, reached_tol = J * size, True
                        break
                    step_loss(J)
                    if lr is not None:
                        lrs(lr)
                    total += J * size
                n = self.mass
                reason = self._end_epoch(epoch, total / n, norms, hits / n)
                if reached_tol or reason:
                    return self._end(reason or "tol")
            return self._end("epochs")
        except KeyboardInterrupt:
            if self.stepping:  # interrupted inside the update: back to the last completed step
                np.copyto(theta, self.backup)
            return self._interrupted()
        finally:
            self._close_bar()

    def _fused_step(self, opt: Optimizer, objective: BatchObjective, epoch: int) -> Step:
        """θ ← θ − γ_k ∇J inside the backward pass (`BatchObjective.descend`); no ∇J written."""
        theta = self.theta
        # the spare (θ_{k-1}) becomes the fallback if J(θ_k) fails; backup takes θ_k, restored
        # if Ctrl-C lands in the update
        self.backup, self.spare = self.spare, self.backup
        np.copyto(self.backup, theta)
        self.stepping = True
        lr = opt.advance()
        J = float(objective.descend(theta, lr))
        self.stepping = False
        if not math.isfinite(J):
            np.copyto(theta, self.spare)
            raise self._diverged(epoch, J)
        return J, lr if self.record_lr else None, self._batch_accuracy(objective), None, True

    def _plain_step(
        self, opt: Optimizer, objective: BatchObjective, epoch: int, last: bool, tol: float | None
    ) -> Step:
        """J and ∇J (or J alone for a derivative-free rule), then ``opt.step``.

        On the last batch of an epoch the gradient norms are reported, and with ``tol`` (full
        batch) the update is skipped once ‖∇J‖ ≤ tol.
        """
        theta = self.theta
        if opt.uses_gradient:
            J, grad = objective(theta)
        else:
            J, grad = objective.value(theta), None
        J = float(J)
        if not math.isfinite(J):
            np.copyto(theta, self.backup)
            raise self._diverged(epoch, J)
        accuracy = self._batch_accuracy(objective)  # before the step: line searches move it
        norms = self._grad_norms(grad) if last and grad is not None else None
        if tol is not None and norms is not None and norms[0] <= tol:
            return J, None, accuracy, norms, False
        np.copyto(self.backup, theta)
        self.stepping = True
        lr = opt.step(theta, J, grad, objective)
        self.stepping = False
        return J, None if lr is None else float(lr), accuracy, norms, True

    def whole(self, opt: Optimizer, objective: BatchObjective, tol: float | None) -> History:
        """Run an optimizer that has its own loop (L-BFGS), one epoch per iteration."""
        theta, history = self.theta, self.history
        J0 = float(objective.value(theta))
        if not math.isfinite(J0):
            raise self._diverged(0, J0)
        reason: list[str] = []

        def on_iteration(J: float, grad: Array) -> bool:
            history.step_loss.append(J)
            norms = self._grad_norms(grad)
            hits = self._batch_accuracy(objective)
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


def _check_callbacks(callbacks: Any) -> list[Callback]:
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be mlpnet.callbacks.Callback instances, got {cb!r}")
    return callbacks
