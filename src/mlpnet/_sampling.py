"""Sample weights and dropout masks: checked at the boundary, then handed to the objectives.

Sample weights w_i ≥ 0 turn the mean loss into J = Σ_i w_i ℓ_i / Σ_i w_i; the objectives keep the
normalised ω_i = w_i / Σw (float64), which is what scales row i of δ_L (`mlpnet.backprop`). Integer
weights are the same as repeating rows: J on the repeated data has the same numerator and
denominator.

Inverted dropout with rate p keeps each hidden unit with probability 1 − p and scales what it keeps
by 1/(1 − p), so E[Q̃_l] = Q_l and nothing changes at prediction time; a mask M_l has entries 0 and
1/(1 − p) in the network's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._types import Array

__all__ = ["check_dropout", "check_sample_weight", "draw_masks", "normalized"]


def check_sample_weight(sample_weight: ArrayLike, n: int) -> Array:
    """Sample weights as float64 of shape ``(n,)``: finite, ≥ 0, not all zero.

    Raises
    ------
    ValueError
        Naming the problem: shape, non-numeric, NaN/inf, negative entries, or all zero.
    """
    w = np.asarray(sample_weight)
    if w.ndim == 0:  # a scalar weighs every row the same
        w = np.full(n, w)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per row, got {w.shape}")
    bad = int((~np.isfinite(w)).sum())
    if bad:
        raise ValueError(f"sample_weight has {bad} NaN or infinite values")
    negative = int((w < 0).sum())
    if negative:
        raise ValueError(f"sample_weight must be ≥ 0, got {negative} negative values")
    if not w.any():
        raise ValueError("sample_weight is zero for every row: the weighted mean is undefined")
    return w


def normalized(w: Array | None) -> Array | None:
    """ω = w / Σw (float64); all zeros stay zeros (a mini-batch of weightless rows: J = 0)."""
    if w is None:
        return None
    total = float(w.sum())
    return w / total if total > 0 else np.zeros(len(w))


def check_dropout(p: Any, name: str = "dropout") -> float:
    """A dropout rate p with 0 ≤ p < 1 (p = 1 would drop every unit)."""
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= float(p) < 1.0:
        raise ValueError(f"{name} must be a number with 0 <= p < 1, got {p!r}")
    return float(p)


def draw_masks(
    rates: Sequence[float], n: int, sizes: Sequence[int], dtype: Any, rng: np.random.Generator
) -> list[Array | None] | None:
    """Masks M_l of shape ``(n, n_l)`` for the layers with rate p_l > 0 (None elsewhere).

    Entries are 1/(1 − p_l) with probability 1 − p_l and 0 otherwise; None when no layer drops.
    """
    if not any(rates):
        return None
    masks: list[Array | None] = []
    for p, n_out in zip(rates, sizes, strict=True):
        if not p:
            masks.append(None)
            continue
        U = rng.random((n, n_out), dtype=np.float32)
        M = U if np.dtype(dtype) == np.float32 else np.empty((n, n_out), dtype=dtype)
        np.greater_equal(U, np.float32(p), out=M)  # 1 where kept (in place for float32)
        M *= 1.0 / (1.0 - p)
        masks.append(M)
    return masks
