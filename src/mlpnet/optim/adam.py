"""Adam: Kingma & Ba (2015), Algorithm 1, as written in the paper.

::

    m_0 = 0, v_0 = 0, t = 0
    for each step:
        t ← t + 1
        g_t = ∇J(θ_{t−1})
        m_t = β_1 m_{t−1} + (1 − β_1) g_t
        v_t = β_2 v_{t−1} + (1 − β_2) g_t²
        m̂_t = m_t / (1 − β_1^t),   v̂_t = v_t / (1 − β_2^t)
        θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)

ε is added outside the square root, as in the paper and ``torch.optim.Adam`` (not the paper's
"efficient" reordering, which moves ε inside the bias correction).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_in_range, check_positive
from .._types import Array, Objective, Schedule
from ..schedules import as_schedule
from .base import Optimizer, check_state_size

__all__ = ["Adam", "AdamState", "adam_update"]


class AdamState(NamedTuple):
    """State of `Adam`: the step count t and the first and second moment estimates m, v."""

    t: int
    m: Array | None
    v: Array | None


def adam_update(
    grad: Array, state: AdamState, lr: float, beta1: float, beta2: float, eps: float
) -> tuple[Array, AdamState]:
    """Return ``(Δθ, new state)`` for one step of Algorithm 1 (pure function)."""
    m0 = np.zeros_like(grad) if state.m is None else state.m
    v0 = np.zeros_like(grad) if state.v is None else state.v
    t = state.t + 1
    m = beta1 * m0 + (1 - beta1) * grad
    v = beta2 * v0 + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return -lr * m_hat / (v_hat**0.5 + eps), AdamState(t, m, v)  # operators only: any xp


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1): steps scaled by running moments of the gradient.

    Parameters
    ----------
    lr : float or callable, default 1e-3
        α, or a schedule k ↦ α_k (k = t − 1).
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates β_1, β_2 in [0, 1) of the first and second moment estimates.
    eps : float, default 1e-8
        ε > 0 in the denominator √v̂ + ε.

    Notes
    -----
    The step runs in place with two preallocated moment buffers and one scratch buffer;
    `adam_update` is the same rule as a pure function. The state continues across ``fit`` calls
    until `reset`.

    Raises
    ------
    ValueError
        For a non-positive ``lr`` or ``eps``, or a β outside [0, 1).
    """

    def __init__(
        self,
        lr: float | Schedule = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        self._schedule = as_schedule(lr)
        self._varying = callable(lr)
        self.lr = lr
        self.beta1 = check_in_range("beta1", beta1, 0.0, 1.0)
        self.beta2 = check_in_range("beta2", beta2, 0.0, 1.0)
        self.eps = check_positive("eps", eps)
        self.reset()

    @property
    def varying(self) -> bool:
        """Whether ``lr`` is a schedule (then `step` returns γ_t)."""
        return self._varying

    def learning_rate(self, t: int) -> float:
        """The step size of step t (before the bias corrections)."""
        return float(self._schedule(t))

    def reset(self) -> None:
        """Restart at t = 0 with zero moments."""
        self.state = AdamState(0, None, None)
        self._buf: Array | None = None

    def step(
        self, theta: Array, J: float, grad: Array | None, objective: Objective
    ) -> float | None:
        """One step of Algorithm 1, in place on θ; return α_t if it varies."""
        t, m, v = self.state
        if m is None:
            m, v = np.zeros_like(theta), np.zeros_like(theta)
        buf = self._buf
        if buf is None or buf.shape != theta.shape:
            check_state_size(m, theta, "Adam")
            buf = self._buf = np.empty_like(theta)
        lr = float(self._schedule(t))
        b1, b2 = self.beta1, self.beta2
        t += 1
        m *= b1  # m_t = β1 m + (1 − β1) g
        np.multiply(grad, 1.0 - b1, out=buf)
        m += buf
        v *= b2  # v_t = β2 v + (1 − β2) g²
        np.multiply(grad, grad, out=buf)
        buf *= 1.0 - b2
        v += buf
        np.divide(v, 1.0 - b2**t, out=buf)  # √v̂ + ε
        np.sqrt(buf, out=buf)
        buf += self.eps
        np.divide(m, buf, out=buf)  # m / (√v̂ + ε), then × α / (1 − β1^t) for m̂
        buf *= lr / (1.0 - b1**t)
        theta -= buf
        self.state = AdamState(t, m, v)
        return lr if self._varying else None
