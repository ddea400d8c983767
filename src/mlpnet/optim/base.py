"""What every optimizer shares: the step signature, and adapters for plain functions.

An optimizer sees θ, the objective J and its gradient ∇J at θ, never a network (optax's and
PyTorch's closure habit), so gradient descent, the line searches, L-BFGS and random search share one
signature::

    lr = optimizer.step(theta, J, grad, objective)   # moves theta in place

``theta`` is the model's live parameter vector (eq. 6.17); ``objective(θ) -> (J, ∇J)`` and
``objective.value(θ) -> J`` evaluate J at any vector of the same size without changing the model.
Per-step state (step count k, momentum, Adam's moments) lives on the optimizer, as a small
NamedTuple advanced by a pure function that tests call directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._types import Array, Objective

__all__ = ["FunctionObjective", "Optimizer", "as_objective", "as_optimizer"]


class Optimizer(ABC):
    """Base class: ``step`` moves θ in place by one update of the rule the subclass implements.

    Everything the fit loop (`mlpnet.training`) asks of an optimizer is declared here, with the
    default that suits a plain per-step rule:

    - ``full_batch``: the rule needs the exact objective on all the data (line searches, L-BFGS),
      so mini-batches are refused;
    - ``uses_gradient``: False for derivative-free rules (random search), which get ``grad=None``;
    - ``owns_loop`` and `run`: True for a rule that iterates by itself (L-BFGS), which the fit
      loop calls once instead of calling `step` per batch;
    - `fusable` and `advance`: a rule that is exactly θ ← θ − γ_k ∇J (plain SGD) lets the
      objective apply the step inside the backward pass, asking `advance` for γ_k;
    - `varying`: whether γ_k changes with k (then the history records it per step).
    """

    full_batch: ClassVar[bool] = False
    uses_gradient: ClassVar[bool] = True
    owns_loop: ClassVar[bool] = False

    @property
    def fusable(self) -> bool:
        """Whether the step is θ ← θ − γ_k ∇J and may be fused into backprop (here: no)."""
        return False

    @property
    def varying(self) -> bool:
        """Whether the step size γ_k changes with k (then `step` returns it)."""
        return True

    def advance(self) -> float:
        """γ_k for a step the caller applies itself, counted as step k (only if `fusable`)."""
        raise TypeError(f"{type(self).__name__} cannot hand its step to the objective")

    def run(
        self,
        theta: Array,
        objective: Objective,
        max_iter: int,
        callback: Callable[[float, Array], bool] | None = None,
    ) -> Any:
        """Minimise J from θ by at most ``max_iter`` steps on this one objective, θ in place.

        The default evaluates (J, ∇J) (J alone if not `uses_gradient`) and calls `step`, as the
        fit loop does on a full batch; ``callback(J, ∇J)`` after a step gets J and ∇J at the new
        θ, and returning True stops. An optimizer that `owns_loop` (L-BFGS) overrides this, and
        the fit loop then calls it once instead of `step` per batch.
        """
        for _ in range(max_iter):
            if self.uses_gradient:
                J, grad = objective(theta)
            else:
                J, grad = objective.value(theta), None
            self.step(theta, J, grad, objective)
            if callback is not None and callback(*objective(theta)):
                break

    @abstractmethod
    def step(
        self, theta: Array, J: float, grad: Array | None, objective: Objective
    ) -> float | None:
        """Move ``theta`` (in place) by one update; return the step size used, or None if fixed.

        Parameters
        ----------
        theta : ndarray, shape (n_params,)
            θ_k, overwritten with θ_{k+1}.
        J : float
            J(θ_k) on the current batch.
        grad : ndarray, shape (n_params,), or None
            ∇J(θ_k); may be a buffer the objective reuses, so it must not be kept.
        objective : Objective
            J on the current batch, for rules that evaluate trial points.
        """

    def reset(self) -> None:  # noqa: B027 - stateless rules keep this default
        """Forget the state (step count, moments), as for a fresh optimizer."""

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "state"
        )
        return f"{type(self).__name__}({params})"


class _Foreign(Optimizer):
    """A user's optimizer object (``step`` and/or ``run``) seen through the declared hooks."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        run, step = getattr(inner, "run", None), getattr(inner, "step", None)
        self.owns_loop = callable(run)  # type: ignore[misc]
        self.full_batch = bool(getattr(inner, "full_batch", False))  # type: ignore[misc]
        self.uses_gradient = bool(getattr(inner, "uses_gradient", True))  # type: ignore[misc]
        self._fusable = bool(getattr(inner, "fusable", False))
        self._step, self._run = step, run

    @property
    def fusable(self) -> bool:  # noqa: D102 - the base's
        return self._fusable

    def advance(self) -> float:  # noqa: D102 - the base's
        return self.inner.advance()

    def step(self, theta: Array, J: float, grad: Array | None, objective: Objective) -> Any:  # noqa: D102
        return self._step(theta, J, grad, objective)  # type: ignore[misc]

    def run(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - the base's
        return self._run(*args, **kwargs)  # type: ignore[misc]


def as_optimizer(optimizer: Any) -> Optimizer:
    """``optimizer`` itself if it is an `Optimizer`, else it seen through the declared hooks."""
    return optimizer if isinstance(optimizer, Optimizer) else _Foreign(optimizer)


class FunctionObjective:
    """An `Objective` from a function θ ↦ (J, ∇J), and optionally θ ↦ J for ``value``.

    Lets the optimizers minimise any differentiable function, not only a network's loss.

    >>> obj = as_objective(lambda th: (float(th @ th), 2 * th))
    >>> obj.value(np.array([3.0, 4.0]))
    25.0
    """

    def __init__(
        self,
        fun: Callable[[Array], tuple[float, Array]],
        value: Callable[[Array], float] | None = None,
    ) -> None:
        self._fun = fun
        self._value = value

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(J(θ), ∇J(θ))`` from ``fun``."""
        J, grad = self._fun(theta)
        return float(J), np.asarray(grad)

    def value(self, theta: Array) -> float:
        """J(θ), from ``value`` when given, else from ``fun``."""
        return float(self._value(theta) if self._value is not None else self._fun(theta)[0])


def as_objective(
    fun: Callable[[Array], tuple[float, Array]], value: Callable[[Array], float] | None = None
) -> FunctionObjective:
    """Wrap θ ↦ (J, ∇J) (and optionally θ ↦ J) as an `Objective` for the optimizers."""
    return FunctionObjective(fun, value)


def scipy_optimize() -> Any:
    """Import ``scipy.optimize`` (an optional dependency), saying what to install if missing."""
    try:
        from scipy import optimize
    except ImportError as exc:  # pragma: no cover - scipy is installed in the test environment
        raise ImportError(
            "this optimizer needs SciPy: pip install scipy (or pip install mlpnet[all])"
        ) from exc
    return optimize


def check_state_size(buffer: Array | None, theta: Array, name: str) -> None:
    """Refuse to continue state built for a θ of another size (a different network)."""
    if buffer is not None and buffer.shape != theta.shape:
        raise ValueError(
            f"{name} holds state for {buffer.size} parameters but theta has {theta.size}; "
            "call reset() or use a new optimizer for another network"
        )
