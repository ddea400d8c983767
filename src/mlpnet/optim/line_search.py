"""Gradient descent with the step chosen along the ray θ − t∇J: Armijo backtracking, exact search.

Both are the notes' full-batch methods: they compare values of the whole objective J, so they need
all N samples per step (``batch_size=None``). Trial points cost a forward pass only
(``objective.value``); θ moves to exactly the accepted trial point.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

import numpy as np

from .._checks import check_count, check_in_range, check_positive
from .._types import Array, Objective
from .base import Optimizer, scipy_optimize

__all__ = ["Armijo", "ExactLineSearch", "LineSearch", "armijo_step_size"]


def armijo_step_size(
    J: float,
    grad_norm2: float,
    value_at: Callable[[float], float],
    lr0: float,
    beta: float,
    sigma: float,
    max_backtracks: int,
) -> float:
    """Return the largest t = t_0 β^l, l = 0, 1, …, with J(θ − t∇J) ≤ J(θ) − σ t ‖∇J‖².

    ``value_at(t)`` is J(θ − t∇J). Returns 0.0 (no step) when no l ≤ ``max_backtracks`` passes, as
    happens at a stationary point in floating point.
    """
    t = lr0
    for _ in range(max_backtracks + 1):
        if value_at(t) <= J - sigma * t * grad_norm2:  # False for NaN: a NaN trial backtracks
            return t
        t *= beta
    return 0.0


class LineSearch(Optimizer):
    """θ ← θ − t∇J with t from `step_size`; holds the direction and trial-point buffers."""

    full_batch = True

    def reset(self) -> None:
        """Drop the buffers (line searches keep no state between steps)."""
        self._direction: Array | None = None
        self._trial: Array | None = None

    @abstractmethod
    def step_size(self, J: float, grad_norm2: float, value_at: Callable[[float], float]) -> float:
        """The step t > 0 along −∇J from J(θ), ‖∇J‖² and ``value_at(t)`` = J(θ − t∇J); 0: none."""

    def step(self, theta: Array, J: float, grad: Array | None, objective: Objective) -> float:
        """Move θ to θ − t∇J for the step size t of this search; return t."""
        if self._direction is None or self._direction.shape != theta.shape:
            self._direction, self._trial = np.empty_like(theta), np.empty_like(theta)
        d, trial = self._direction, self._trial
        np.copyto(d, grad)  # the objective may reuse its gradient buffer for later calls

        def point(t: float) -> Array:  # θ − t∇J, into the trial buffer
            np.multiply(d, -t, out=trial)
            return np.add(trial, theta, out=trial)

        t = float(self.step_size(J, float(np.dot(d, d)), lambda t: objective.value(point(t))))
        if t > 0.0:
            np.copyto(theta, point(t))  # bit for bit the point evaluated at t
        return t


class Armijo(LineSearch):
    """Gradient descent with Armijo backtracking.

    Each step takes the largest t = t_0 β^l (l = 0, 1, …) satisfying the sufficient-decrease
    condition J(θ − t∇J) ≤ J(θ) − σ t ‖∇J‖², then θ ← θ − t∇J (`armijo_step_size`).

    Parameters
    ----------
    lr0 : float, default 1.0
        The first trial step t_0 > 0.
    beta : float, default 0.5
        The backtracking factor β in (0, 1).
    sigma : float, default 1e-4
        The sufficient-decrease constant σ in (0, 1).
    max_backtracks : int, default 50
        At most this many reductions; if none passes, the step is 0 (θ stays).

    Notes
    -----
    Needs the full objective: ``fit`` refuses mini-batches. ``step`` returns the accepted t.
    """

    def __init__(
        self, lr0: float = 1.0, beta: float = 0.5, sigma: float = 1e-4, max_backtracks: int = 50
    ) -> None:
        self.lr0 = check_positive("lr0", lr0)
        self.beta = check_in_range("beta", beta, 0.0, 1.0, closed_low=False)
        self.sigma = check_in_range("sigma", sigma, 0.0, 1.0, closed_low=False)
        self.max_backtracks = check_count("max_backtracks", max_backtracks)
        self.reset()

    def step_size(self, J: float, grad_norm2: float, value_at: Callable[[float], float]) -> float:
        """The largest t = lr0·β^l meeting the sufficient-decrease condition (or 0)."""
        return armijo_step_size(
            J, grad_norm2, value_at, self.lr0, self.beta, self.sigma, self.max_backtracks
        )


class ExactLineSearch(LineSearch):
    """Steepest descent with the exact step t = argmin_{0 < t < max_lr} J(θ − t∇J).

    The one-dimensional minimisation is SciPy's bounded Brent method
    (``scipy.optimize.minimize_scalar(method="bounded")``) on (0, T), T = ``max_lr``. It finds a
    local minimiser along the ray, which can lie beyond a higher hill than J(θ) (on a curved valley
    such as Rosenbrock's); when the minimiser it finds does not lower J, the search is repeated on
    (0, T/10), (0, T/100), … (at most ``max_shrinks`` times), and if none lowers J, θ stays.

    Parameters
    ----------
    max_lr : float, default 10.0
        T, the upper end of the search interval for t.
    xtol : float, default 1e-8
        Tolerance on t of the one-dimensional minimiser, relative to the interval's length.
    max_shrinks : int, default 8
        How many times the interval may be divided by 10.

    Notes
    -----
    Needs the full objective (``fit`` refuses mini-batches) and SciPy. ``step`` returns t.
    """

    def __init__(self, max_lr: float = 10.0, xtol: float = 1e-8, max_shrinks: int = 8) -> None:
        self.max_lr = check_positive("max_lr", max_lr)
        self.xtol = check_in_range("xtol", xtol, 0.0, 1.0, closed_low=False)
        self.max_shrinks = check_count("max_shrinks", max_shrinks, minimum=0)
        self.reset()

    def step_size(self, J: float, grad_norm2: float, value_at: Callable[[float], float]) -> float:
        """The t in (0, max_lr] minimising J(θ − t∇J), by SciPy's bounded Brent search."""
        minimize_scalar = scipy_optimize().minimize_scalar
        upper = self.max_lr
        for _ in range(self.max_shrinks + 1):
            options = {"xatol": self.xtol * upper}
            result = minimize_scalar(
                value_at, bounds=(0.0, upper), method="bounded", options=options
            )
            if result.fun < J:
                return float(result.x)
            upper /= 10.0
        return 0.0
