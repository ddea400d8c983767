"""Random search: the derivative-free baseline against which the notes measure gradient methods."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._checks import check_positive
from .._types import Array, Objective
from .base import Optimizer

__all__ = ["RandomSearch", "RandomSearchState"]


class RandomSearchState(NamedTuple):
    """State of `RandomSearch`: proposals made (k) and accepted, and the seeded generator."""

    k: int
    accepted: int
    rng: np.random.Generator


class RandomSearch(Optimizer):
    """Propose θ' = θ + s·ξ, ξ ~ N(0, I); keep θ' if J(θ') < J(θ).

    Uses only values of J (a forward pass per proposal), never ∇J: ``fit`` hands it
    ``grad=None`` and skips the backward pass.

    Parameters
    ----------
    scale : float, default 0.1
        s > 0, the standard deviation of each proposal's coordinates.
    seed : int or None, default None
        Seed of its own ``np.random.default_rng``; the same seed proposes the same steps. When made
        by name in ``fit``, it gets ``fit``'s seed.
    """

    uses_gradient = False

    def __init__(self, scale: float = 0.1, seed: int | None = None) -> None:
        self.scale = check_positive("scale", scale)
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Reseed the generator and zero the counters."""
        self.state = RandomSearchState(0, 0, np.random.default_rng(self.seed))
        self._trial: Array | None = None

    def step(self, theta: Array, J: float, grad: Array | None, objective: Objective) -> None:
        """Propose one point and move θ there if it lowers J."""
        k, accepted, rng = self.state
        if self._trial is None or self._trial.shape != theta.shape:
            self._trial = np.empty_like(theta)
        trial = self._trial
        rng.standard_normal(dtype=trial.dtype, out=trial)
        trial *= self.scale
        trial += theta
        better = objective.value(trial) < J
        if better:
            np.copyto(theta, trial)
        self.state = RandomSearchState(k + 1, accepted + int(better), rng)
