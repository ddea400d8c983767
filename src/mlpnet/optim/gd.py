"""Full-batch gradient descent with a fixed step: the lectures' first training algorithm."""

from __future__ import annotations

from .._types import Schedule
from .sgd import SGD

__all__ = ["GradientDescent"]


class GradientDescent(SGD):
    """θ ← θ − η ∇J, with ∇J the average of the N per-sample gradients (``batch_size=None``).

    The notes' gradient method with a fixed step size η: `SGD` without momentum, which it is when
    the fit loop hands it the gradient on all the data. Given mini-batches it becomes SGD.

    Parameters
    ----------
    lr : float or callable, default 0.1
        The step size η (or a schedule k ↦ η_k).

    Raises
    ------
    ValueError
        If ``lr`` is not positive ("lr must be positive, got -1").
    """

    def __init__(self, lr: float | Schedule = 0.1) -> None:
        super().__init__(lr)

    def __repr__(self) -> str:
        return f"GradientDescent(lr={self.lr!r})"
