"""L-BFGS: full-batch quasi-Newton descent on the flat θ, by SciPy's L-BFGS-B.

L-BFGS keeps the last m pairs s_i = θ_{i+1} − θ_i, y_i = ∇J(θ_{i+1}) − ∇J(θ_i) and applies the
inverse-Hessian approximation they define (two-loop recursion) to −∇J, with a line search meeting
the Wolfe conditions (Nocedal & Wright, Algorithm 7.4). SciPy's ``minimize(method="L-BFGS-B",
jac=True)`` runs the whole loop, so this optimizer is used through `LBFGS.run` (one iteration per
epoch of ``fit``) rather than step by step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._checks import check_count, check_in_range
from .._types import Array, Objective
from .base import Optimizer, scipy_optimize

__all__ = ["LBFGS", "LBFGSState"]

IterationCallback = Callable[[float, Array], "bool | None"]
"""Called after each iteration with (J, ∇J) at the new θ; True stops the run."""


class LBFGSState(NamedTuple):
    """State of `LBFGS`: iterations done over all runs (SciPy restarts its memory each run)."""

    k: int


class LBFGS(Optimizer):
    """Limited-memory BFGS on all the data (SciPy's L-BFGS-B, without bounds).

    Parameters
    ----------
    history_size : int, default 10
        m, the number of (s, y) pairs kept (SciPy's ``maxcor``).
    gtol : float, default 1e-5
        SciPy's own stop: max_i |∂J/∂θ_i| ≤ gtol. (``fit(tol=…)`` adds the notes' ‖∇J‖ ≤ tol.)
    ftol : float, default 2.2e-9
        SciPy's own stop on the relative decrease of J.
    max_linesearch : int, default 20
        Most function evaluations per line search (SciPy's ``maxls``).

    Notes
    -----
    SciPy works in float64; θ is copied to the model's dtype for every evaluation. θ (the live
    vector) changes only after each completed iteration, so an interruption leaves it at an
    iterate. The curvature memory starts empty on every `run`; the iteration count continues.
    """

    full_batch = True
    owns_loop = True

    def __init__(
        self,
        history_size: int = 10,
        gtol: float = 1e-5,
        ftol: float = 2.220446049250313e-09,
        max_linesearch: int = 20,
    ) -> None:
        self.history_size = check_count("history_size", history_size)
        self.gtol = check_in_range("gtol", gtol, 0.0, np.inf)
        self.ftol = check_in_range("ftol", ftol, 0.0, np.inf)
        self.max_linesearch = check_count("max_linesearch", max_linesearch)
        self.reset()

    def reset(self) -> None:
        """Restart the iteration count."""
        self.state = LBFGSState(0)

    def step(self, theta: Array, J: float, grad: Array | None, objective: Objective) -> float:
        """Not available: L-BFGS runs as a whole (`run`), with its memory across iterations."""
        raise TypeError("LBFGS runs whole: call run(theta, objective, max_iter), not step()")

    def run(
        self,
        theta: Array,
        objective: Objective,
        max_iter: int,
        callback: IterationCallback | None = None,
    ) -> Any:
        """Minimise J from θ for at most ``max_iter`` iterations; θ ends at the last iterate.

        ``callback(J, grad)`` runs after each iteration with θ already moved; returning True stops.
        Returns SciPy's ``OptimizeResult`` (``.message`` says why it stopped).
        """
        trial = np.empty_like(theta)
        last: dict[str, Any] = {}  # the latest evaluation, which is normally the accepted iterate

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            np.copyto(trial, x)
            J, grad = objective(trial)
            grad64 = np.array(grad, dtype=np.float64)
            last.update(x=x.copy(), J=float(J), grad=grad64)
            return float(J), grad64

        def on_iteration(intermediate_result: Any) -> None:
            x = intermediate_result.x
            if not np.array_equal(x, last.get("x")):
                fun(x)
            np.copyto(theta, x)
            self.state = LBFGSState(self.state.k + 1)
            if callback is not None and callback(last["J"], last["grad"]):
                raise StopIteration

        options = {
            "maxiter": max_iter,
            "maxcor": self.history_size,
            "gtol": self.gtol,
            "ftol": self.ftol,
            "maxls": self.max_linesearch,
        }
        result = scipy_optimize().minimize(
            fun,
            theta.astype(np.float64),
            jac=True,
            method="L-BFGS-B",
            callback=on_iteration,
            options=options,
        )
        np.copyto(theta, result.x)
        return result
