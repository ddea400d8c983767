"""Step-size schedules k ↦ γ_k for the stochastic gradient method.

The notes' online gradient method takes θ_{k+1} = θ_k − γ_k ∇ℓ_k(θ_k) with step sizes satisfying
Σ γ_k = ∞, Σ γ_k² < ∞ (Robbins–Monro), the classic choice being γ_k = γ_0 / (k + 1). A schedule is
any callable from the optimizer step k = 0, 1, … to γ_k; the factories below build the common ones
as picklable ``functools.partial`` objects over pure functions (optax's habit), and any other
callable works wherever a schedule is accepted (``SGD(lr=lambda k: 0.1 * 0.99**k)``).

>>> sched = inverse_time(0.5)
>>> [sched(k) for k in range(3)]
[0.5, 0.25, 0.16666666666666666]
"""

from __future__ import annotations

import math
import numbers
from functools import partial

from ._checks import check_count, check_in_range, check_positive
from ._types import Schedule

__all__ = ["as_schedule", "constant", "cosine", "invscaling", "inverse_time", "step"]


# -- the schedules: pure functions of k, and the factories fixing their parameters -----------------


def _constant(k: int, lr0: float) -> float:
    return lr0


def _inverse_time(k: int, lr0: float) -> float:
    return lr0 / (k + 1)


def _invscaling(k: int, lr0: float, power: float) -> float:
    return lr0 / (k + 1) ** power


def _step(k: int, lr0: float, factor: float, every: int) -> float:
    return lr0 * factor ** (k // every)


def _cosine(k: int, lr0: float, total_steps: int, lr_min: float) -> float:
    progress = min(k, total_steps) / total_steps
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * progress))


def constant(lr0: float) -> Schedule:
    """γ_k = γ_0 for every step: the notes' fixed step size η.

    Raises
    ------
    ValueError
        If ``lr0`` is not a positive number.
    """
    return partial(_constant, lr0=check_positive("lr0", lr0))


def inverse_time(lr0: float) -> Schedule:
    """γ_k = γ_0 / (k + 1): the Robbins–Monro step of the notes' online gradient method.

    Satisfies Σ γ_k = ∞ and Σ γ_k² < ∞, the conditions under which online SGD converges.
    """
    return partial(_inverse_time, lr0=check_positive("lr0", lr0))


def invscaling(lr0: float, power: float = 0.5) -> Schedule:
    """γ_k = γ_0 / (k + 1)^p, scikit-learn's ``learning_rate="invscaling"`` (p = ``power_t``).

    ``power`` must lie in [0, 10); p = 1 is `inverse_time`, p = 0 is `constant`.
    """
    power = check_in_range("power", power, 0.0, 10.0)
    return partial(_invscaling, lr0=check_positive("lr0", lr0), power=power)


def step(lr0: float, factor: float, every: int) -> Schedule:
    """γ_k = γ_0 · factor^⌊k / every⌋: multiply the step by ``factor`` every ``every`` steps.

    ``factor`` must lie in (0, 1], ``every`` be a positive integer.
    """
    factor = check_in_range("factor", factor, 0.0, 1.0, closed_low=False, closed_high=True)
    return partial(
        _step, lr0=check_positive("lr0", lr0), factor=factor, every=check_count("every", every)
    )


def cosine(lr0: float, total_steps: int, lr_min: float = 0.0) -> Schedule:
    """γ_k = γ_min + ½(γ_0 − γ_min)(1 + cos(π min(k, T) / T)), T = ``total_steps``.

    Cosine annealing (Loshchilov & Hutter, 2017) without restarts: γ_min from step T on.
    ``lr_min`` must lie in [0, lr0).
    """
    lr0 = check_positive("lr0", lr0)
    lr_min = check_in_range("lr_min", lr_min, 0.0, lr0)
    return partial(
        _cosine, lr0=lr0, total_steps=check_count("total_steps", total_steps), lr_min=lr_min
    )


def as_schedule(lr: float | Schedule, name: str = "lr") -> Schedule:
    """Return a schedule: `constant` for a number, a callable k ↦ γ_k as it is.

    Raises
    ------
    ValueError
        If ``lr`` is a number that is not positive, or neither a number nor callable.
    """
    if callable(lr):
        return lr
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool):
        return partial(_constant, lr0=check_positive(name, lr))
    raise ValueError(f"{name} must be a positive number or a schedule k -> lr_k, got {lr!r}")
