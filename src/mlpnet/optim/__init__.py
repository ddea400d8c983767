"""Optimizers: the lectures' training algorithms, each moving the flat θ in place.

By name (``fit(optimizer="…")``, `get_optimizer`), with these defaults:

- ``"gd"``: ``GradientDescent(lr=0.1)``, the fixed-step gradient method
- ``"sgd"``: ``SGD(lr=0.01)``
- ``"momentum"``: ``SGD(lr=0.01, momentum=0.9)``
- ``"adam"``: ``Adam(lr=1e-3)``
- ``"armijo"``: ``Armijo(lr0=1.0, beta=0.5, sigma=1e-4)`` (all data)
- ``"exact_line_search"``: ``ExactLineSearch(max_lr=10.0)`` (all data; SciPy)
- ``"lbfgs"``: ``LBFGS(history_size=10)`` (all data; SciPy)
- ``"random_search"``: ``RandomSearch(scale=0.1, seed=<fit's seed>)`` (values of J only)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .adam import Adam, AdamState, adam_update
from .base import FunctionObjective, Optimizer, as_objective
from .gd import GradientDescent
from .lbfgs import LBFGS, LBFGSState
from .line_search import Armijo, ExactLineSearch, armijo_step_size
from .random_search import RandomSearch, RandomSearchState
from .sgd import SGD, SGDState, sgd_update

__all__ = [
    "LBFGS",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamState",
    "Armijo",
    "ExactLineSearch",
    "FunctionObjective",
    "GradientDescent",
    "LBFGSState",
    "Optimizer",
    "RandomSearch",
    "RandomSearchState",
    "SGDState",
    "adam_update",
    "armijo_step_size",
    "as_objective",
    "get_optimizer",
    "sgd_update",
]

OPTIMIZERS: dict[str, Callable[[int | None], Optimizer]] = {
    "gd": lambda seed: GradientDescent(lr=0.1),
    "sgd": lambda seed: SGD(lr=0.01),
    "momentum": lambda seed: SGD(lr=0.01, momentum=0.9),
    "adam": lambda seed: Adam(),
    "armijo": lambda seed: Armijo(),
    "exact_line_search": lambda seed: ExactLineSearch(),
    "lbfgs": lambda seed: LBFGS(),
    "random_search": lambda seed: RandomSearch(seed=seed),
}
"""Name → factory ``seed -> optimizer`` with the defaults of the module docstring's table."""


def get_optimizer(optimizer: Any, seed: int | None = None) -> Any:
    """Return ``optimizer`` itself if it has a ``step`` method, else the one named by it.

    Raises
    ------
    ValueError
        For an unknown name, listing the choices.
    TypeError
        For an object that is neither a name nor an optimizer.
    """
    if isinstance(optimizer, str):
        factory = OPTIMIZERS.get(optimizer.lower())
        if factory is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {list(OPTIMIZERS)}")
        return factory(seed)
    if callable(getattr(optimizer, "step", None)) or callable(getattr(optimizer, "run", None)):
        return optimizer
    raise TypeError(
        f"optimizer must be a name from {list(OPTIMIZERS)} or an object with "
        f"step(theta, J, grad, objective); got {optimizer!r}"
    )
