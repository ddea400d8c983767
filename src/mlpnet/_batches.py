"""The fit loop's batches: each epoch yields (objective, mass, is last of the epoch).

A batch is an objective J_B on rows B of the already-checked data, built by the model's
``objective(…, check=False)``. Its mass is |B|, or Σ_{i∈B} w_i with sample weights (what the
epoch loss weighs it by). Mini-batches are drawn without replacement, reshuffled every epoch from
one seeded generator; full batch is the whole data every step (a fresh dropout mask each step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._sampling import check_dropout
from ._types import Array, BatchObjective, Trainable, as_batch_objective

__all__ = ["full_batches", "mask_source", "mini_batches", "objective_on", "parts", "rows"]

Batches = Callable[[int], Iterator[tuple[BatchObjective, float, bool]]]
"""``epoch ↦`` the (objective, mass, is_last) of that epoch's steps."""


def objective_on(
    model: Trainable, X: Array, Y: Any, loss: Any, w: Array | None = None, masks: Any = None
) -> BatchObjective:
    """``model.objective`` on checked data, passing weights and masks only when there are any."""
    extra: dict[str, Any] = {}
    if w is not None:
        extra["sample_weight"] = w
    if masks is not None:
        extra["masks"] = masks
    return as_batch_objective(model.objective(X, Y, loss, check=False, **extra))


def mask_source(
    draw: Callable[..., Any] | None, rates: Any, dropout: float | None, rng: Any
) -> Callable[[int], Any] | None:
    """``n ↦ masks`` for a batch of n rows from the model's ``dropout_masks`` (`draw`), or None.

    None when nothing drops: ``dropout`` is 0, or None with every layer's own rate 0.
    """
    if dropout is not None:
        dropout = check_dropout(dropout)
        if dropout and draw is None:
            raise ValueError(f"dropout={dropout} needs a model with dropout_masks (a Network)")
    if draw is None or (dropout == 0.0) or (dropout is None and not any(rates)):
        return None
    return lambda n: draw(n, rng, dropout)


def full_batches(
    objective: BatchObjective,
    mass: float,
    model: Trainable,
    w: Array | None,
    masks: Any,
    loss: Any,
) -> Batches:
    """One step per epoch on all the data (with dropout: a sub-network sampled afresh)."""

    def epoch_batches(epoch: int) -> Iterator[tuple[BatchObjective, float, bool]]:
        if masks is None:
            yield objective, mass, True
        else:
            X, Y = objective.X, objective.Y
            yield objective_on(model, X, Y, loss, w, masks(len(X))), mass, True

    return epoch_batches


def mini_batches(
    model: Trainable,
    X: Array,
    Y: Any,
    loss: Any,
    batch_size: int,
    shuffle: bool,
    seed: Any,
    w: Array | None = None,
    masks: Any = None,
) -> Batches:
    """Mini-batches drawn without replacement, with objectives built by ``check=False``."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(X)
    Y = np.asarray(Y)
    X_buf = np.empty((batch_size,) + X.shape[1:], dtype=X.dtype)  # reused: no per-step allocation
    Y_buf = np.empty((batch_size,) + Y.shape[1:], dtype=Y.dtype)
    plain = w is None and masks is None  # the hot path: nothing but the slices

    def epoch_batches(epoch: int) -> Iterator[tuple[BatchObjective, float, bool]]:
        order = rng.permutation(n) if shuffle else None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            if order is None:
                B: Any = slice(start, stop)
                Xb, Yb = X[B], Y[B]
            elif stop - start == batch_size:
                B = order[start:stop]
                Xb = np.take(X, B, axis=0, out=X_buf)
                Yb = np.take(Y, B, axis=0, out=Y_buf)
            else:
                B = order[start:stop]
                Xb, Yb = X[B], Y[B]
            if plain:
                objective = model.objective(Xb, Yb, loss, check=False)
                if not isinstance(objective, BatchObjective):  # inline: the hot path
                    objective = as_batch_objective(objective)
                yield objective, stop - start, stop == n
                continue
            wb = None if w is None else w[B]
            mb = None if masks is None else masks(stop - start)
            mass = stop - start if wb is None else float(wb.sum())
            yield objective_on(model, Xb, Yb, loss, wb, mb), mass, stop == n

    return epoch_batches


def parts(
    model: Trainable, X: Array, Y: Any, loss: Any, size: int, w: Array | None = None
) -> list[tuple[BatchObjective, float]]:
    """(objective, mass) on consecutive slices of at most `size` rows of already-checked data.

    The mass is the slice's Σ w_i, or its row count; slicing stays within the rows and uses only
    ``shape`` so that any array-API array (which need not have ``len``) works.
    """
    Y = Y if hasattr(Y, "shape") else np.asarray(Y)
    n = rows(X)
    out = []
    for i in range(0, n, size):
        stop = min(i + size, n)
        wb = None if w is None else w[i:stop]
        objective = objective_on(model, X[i:stop, ...], Y[i:stop, ...], loss, wb)
        out.append((objective, stop - i if wb is None else float(wb.sum())))
    return out


def rows(A: Any) -> int:
    """The number of rows of `A`: ``shape[0]`` for arrays (array-API ones need not have len)."""
    return A.shape[0] if hasattr(A, "shape") else len(A)
