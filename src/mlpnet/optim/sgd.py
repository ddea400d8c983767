"""Stochastic gradient descent, with momentum and Nesterov momentum (PyTorch's convention).

The notes' (online, mini-batch) gradient method is θ_{k+1} = θ_k − γ_k ∇J_{B_k}(θ_k) for the batch
B_k of step k: one sample (online SGD), a mini-batch, or all N samples (full-batch gradient descent,
where ∇J is the average of the N per-sample gradients). With momentum μ, as in ``torch.optim.SGD``::

    v_0 = 0
    for k = 0, 1, …:
        g_k = ∇J_{B_k}(θ_k)
        v_{k+1} = μ v_k + g_k
        d_k = g_k + μ v_{k+1}   if nesterov   else   v_{k+1}
        θ_{k+1} = θ_k − γ_k d_k

(Sutskever et al. 2013 scale v by the step instead; the two agree for a constant γ.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_in_range
from .._types import Array, Objective, Schedule
from ..schedules import as_schedule
from .base import Optimizer, check_state_size

__all__ = ["SGD", "SGDState", "sgd_update"]


class SGDState(NamedTuple):
    """State of `SGD`: the step count k (for γ_k) and the momentum buffer v (None without)."""

    k: int
    velocity: Array | None


def sgd_update(
    grad: Array, state: SGDState, lr: float, momentum: float = 0.0, nesterov: bool = False
) -> tuple[Array, SGDState]:
    """Return ``(Δθ, new state)`` for one SGD step with step size ``lr`` = γ_k (pure function).

    Δθ = −γ_k d_k with d_k = g (no momentum), v_{k+1} = μ v_k + g (momentum) or g + μ v_{k+1}
    (Nesterov); see the module docstring.
    """
    if momentum == 0.0:
        return -lr * grad, SGDState(state.k + 1, None)
    velocity = grad.copy() if state.velocity is None else momentum * state.velocity + grad
    direction = grad + momentum * velocity if nesterov else velocity
    return -lr * direction, SGDState(state.k + 1, velocity)


class SGD(Optimizer):
    """Stochastic gradient descent θ ← θ − γ_k d_k, optionally with (Nesterov) momentum.

    Parameters
    ----------
    lr : float or callable, default 0.01
        The step size γ, or a schedule k ↦ γ_k (`mlpnet.schedules`), k = 0, 1, … the optimizer step
        (counted across ``fit`` calls; `reset` restarts it).
    momentum : float, default 0.0
        μ in [0, 1): v ← μ v + ∇J, θ ← θ − γ_k v (PyTorch's convention).
    nesterov : bool, default False
        Step along ∇J + μ v instead of v; needs ``momentum > 0``.

    Notes
    -----
    The update runs in place on θ with one preallocated buffer (this is the hot loop of mini-batch
    training); `sgd_update` is the same rule as a pure function and is tested equal to it.
    ``step`` returns γ_k when ``lr`` is a schedule and None for a fixed step.

    Raises
    ------
    ValueError
        For a non-positive ``lr``, ``momentum`` outside [0, 1), or Nesterov without momentum.
    """

    def __init__(
        self, lr: float | Schedule = 0.01, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        self._schedule = as_schedule(lr)
        self._varying = callable(lr)
        self.lr = lr
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0)
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        self.reset()

    def reset(self) -> None:
        """Restart the step count at k = 0 and clear the momentum buffer."""
        self.state = SGDState(0, None)
        self._buf: Array | None = None

    @property
    def varying(self) -> bool:
        """Whether ``lr`` is a schedule (then `step` returns γ_k)."""
        return self._varying

    def learning_rate(self, k: int) -> float:
        """γ_k, the step size of step k."""
        return float(self._schedule(k))

    @property
    def fusable(self) -> bool:
        """Whether the step is plain θ ← θ − γ_k ∇J, which the fit loop may fuse into backprop.

        Not when a subclass overrides `step`: its own rule must run.
        """
        return self.momentum == 0.0 and type(self).step is SGD.step

    def advance(self) -> float:
        """γ_k for a step the caller applies itself (the fused path), counting it as step k."""
        k, velocity = self.state
        self.state = SGDState(k + 1, velocity)
        return float(self._schedule(k))

    def step(
        self, theta: Array, J: float, grad: Array | None, objective: Objective
    ) -> float | None:
        """θ ← θ − γ_k d_k in place (see the class docstring); return γ_k if it varies."""
        k, velocity = self.state
        lr = float(self._schedule(k))
        buf = self._buf
        if buf is None or buf.shape != theta.shape:
            check_state_size(velocity, theta, type(self).__name__)
            buf = self._buf = np.empty_like(theta)
        if self.momentum == 0.0:
            np.multiply(grad, lr, out=buf)
        else:
            if velocity is None:
                velocity = np.zeros_like(theta)
            velocity *= self.momentum
            velocity += grad
            if self.nesterov:
                np.multiply(velocity, self.momentum, out=buf)
                buf += grad
                buf *= lr
            else:
                np.multiply(velocity, lr, out=buf)
        theta -= buf
        self.state = SGDState(k + 1, velocity)
        return lr if self._varying else None
