"""Optimizers: the lectures' training algorithms, each moving the flat θ in place.

One table of defaults, `DEFAULTS`, serves every place that builds an optimizer from a name:
``fit(optimizer="…")`` and `get_optimizer`, ``mlpnet train --optimizer …`` and the estimators'
extra solvers. The Python column is the constructor's own default; the command line differs in one
place, by design, and reads that from the same table:

- ``"gd"``: ``GradientDescent(lr=0.1)``; the command line the same
- ``"sgd"``: ``SGD(lr=0.01)``; the command line ``--lr 0.1`` (see below)
- ``"momentum"``: ``SGD(lr=0.01, momentum=0.9)``; the same
- ``"adam"``: ``Adam(lr=1e-3)``; the same
- ``"armijo"``: ``Armijo(lr0=1.0, beta=0.5, sigma=1e-4)`` (all data); the same
- ``"exact_line_search"``: ``ExactLineSearch(max_lr=10.0)`` (all data; SciPy); the same
- ``"lbfgs"``: ``LBFGS(history_size=10)`` (all data; SciPy); the same
- ``"random_search"``: ``RandomSearch(scale=0.1, seed=<fit's seed>)`` (values of J only); the same

Batches: ``fit`` takes the full batch by default (``batch_size=None``, the notes' gradient
method), where ``lr=0.01`` is a safe SGD step; ``mlpnet train`` takes mini-batches of
`CLI_BATCH_SIZE` = 32 by default (the full batch for armijo, exact_line_search and lbfgs), where
the step 0.1 is the usual choice (the demo's). The estimators follow scikit-learn where it has the
same parameter (``solver="sgd"``/``"adam"`` with ``learning_rate_init=0.001``, ``batch_size``
min(200, n)) and take this table's settings for the solvers scikit-learn lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .adam import Adam, AdamState, adam_update
from .base import FunctionObjective, Optimizer, as_objective
from .gd import GradientDescent
from .lbfgs import LBFGS, LBFGSState
from .line_search import Armijo, ExactLineSearch, armijo_step_size
from .random_search import RandomSearch, RandomSearchState
from .sgd import SGD, SGDState, sgd_update

__all__ = [
    "CLI_BATCH_SIZE",
    "DEFAULTS",
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


class Defaults(NamedTuple):
    """One row of `DEFAULTS`."""

    cls: type
    params: dict[str, Any]
    """Keyword arguments of ``fit(optimizer=name)`` (the constructor's own defaults)."""
    step_name: str | None
    """The keyword that ``mlpnet train --lr`` sets (None: no step size)."""
    cli_step: float | None = None
    """``mlpnet train``'s default for it where it differs from ``params``."""
    full_batch: bool = False
    """Needs J on all the data every step."""

    def step(self, cli: bool = False) -> float | None:
        """The default step size: the command line's (``cli=True``) or ``fit``'s."""
        if cli and self.cli_step is not None:
            return self.cli_step
        return self.params.get(self.step_name) if self.step_name else None


DEFAULTS: dict[str, Defaults] = {
    "gd": Defaults(GradientDescent, {"lr": 0.1}, "lr"),
    "sgd": Defaults(SGD, {"lr": 0.01}, "lr", cli_step=0.1),
    "momentum": Defaults(SGD, {"lr": 0.01, "momentum": 0.9}, "lr"),
    "adam": Defaults(Adam, {"lr": 1e-3}, "lr"),
    "armijo": Defaults(Armijo, {"lr0": 1.0, "beta": 0.5, "sigma": 1e-4}, "lr0", full_batch=True),
    "exact_line_search": Defaults(ExactLineSearch, {"max_lr": 10.0}, "max_lr", full_batch=True),
    "lbfgs": Defaults(LBFGS, {"history_size": 10}, None, full_batch=True),
    "random_search": Defaults(RandomSearch, {"scale": 0.1}, "scale"),
}
"""Name → class and default settings: the module docstring's table."""
CLI_BATCH_SIZE = 32
"""``mlpnet train``'s mini-batch size when --batch-size is not given (see the module docstring)."""


def _factory(name: str) -> Callable[[int | None], Optimizer]:
    row = DEFAULTS[name]
    if row.cls is RandomSearch:
        return lambda seed: row.cls(**row.params, seed=seed)
    return lambda seed: row.cls(**row.params)


OPTIMIZERS: dict[str, Callable[[int | None], Optimizer]] = {
    name: _factory(name) for name in DEFAULTS
}
"""Name → factory ``seed -> optimizer`` with `DEFAULTS`' settings."""


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
