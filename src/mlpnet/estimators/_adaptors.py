"""What turns `mlpnet.training.fit` into scikit-learn's MLP training loop.

scikit-learn's ``_fit_stochastic`` differs from our fit loop in three places, each bridged here
without touching the engine:

- the objective: the mean loss of a batch of n samples plus the L2 term (α / 2n) Σ_l ‖W_l‖² over
  the weights (not the biases), recomputed per batch (`Penalized`, a `Trainable` around the
  network whose objectives add α W_l / n to the weight entries of ∇J);
- the stopping rule: ``n_iter_no_change`` epochs whose training loss (or, with early stopping,
  validation score) does not improve by ``tol``, with ``learning_rate="adaptive"`` dividing the
  step by 5 instead of stopping (`SklearnRules`, a callback that also keeps ``loss_curve_``,
  ``n_iter_`` and ``t_`` on the estimator);
- the step size of ``learning_rate="invscaling"``, γ = γ_0 / (t + 1)^p with t the samples seen,
  updated once per epoch (`StepSize`, a schedule the callback moves).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._types import Array, BatchObjective
from ..callbacks import Callback
from ..history import EpochLogs

__all__ = [
    "Exp",
    "HalfPoissonDeviance",
    "Penalized",
    "SklearnRules",
    "StepSize",
]


# -- losses ----------------------------------------------------------------------------------------
# The classifiers use the library's losses as they are; `fit(accuracy=False)` spares the fit loop
# the per-epoch training accuracy, since the estimators score on their own.


class Exp:
    """ψ(z) = e^z, ψ'(z) = e^z: the output of Poisson regression (ŷ > 0)."""

    name = "exp"

    def __call__(self, z: Array) -> Array:
        return np.exp(z)

    def derivative(self, z: Array) -> Array:
        return np.exp(z)


class HalfPoissonDeviance:
    """ℓ = Σ_k (y_k ln(y_k / ŷ_k) − y_k + ŷ_k),  ∂ℓ/∂ŷ = 1 − y/ŷ (so δ_L = ŷ − y on `Exp`).

    scikit-learn's ``poisson`` loss (y ln y taken as 0 at y = 0), for targets y ≥ 0.
    """

    name = "half_poisson_deviance"

    def value(self, Yhat: Array, Y: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(Y > 0, Y * np.log(Y / Yhat), 0.0)
        return (ylogy - Y + Yhat).sum(axis=1)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        return 1.0 - Y / Yhat


# -- the L2 penalty ------------------------------------------------------------------------------


class Penalized:
    """A `Trainable` around a network: its objectives add scikit-learn's L2 term on the weights.

    J_α(θ) = J(θ) + (α / 2n) Σ_l ‖W_l‖²,  ∇_{W_l} J_α = ∇_{W_l} J + (α / n) W_l,  biases
    unpenalised, n the number of rows of the batch the objective is built on. The weight entries
    of θ are the first n_l n_{l-1} entries of each layer's slice (θ = [vec(W_1), b_1, …],
    eq. 6.17).

    Also counts objective evaluations (``n_evals``), for L-BFGS's ``max_fun``.
    """

    def __init__(self, net: Any, alpha: float) -> None:
        self.net = net
        self.alpha = float(alpha)
        self.layer_slices = net.layer_slices
        self.weight_slices = [
            slice(s.start, s.start + n_out * n_in)
            for s, n_in, n_out in zip(self.layer_slices, net.sizes[:-1], net.sizes[1:], strict=True)
        ]
        self.n_evals = 0

    @property
    def params(self) -> Array:
        """θ of the network (live)."""
        return self.net.params

    @property
    def array_backend(self) -> Any:
        """The network's `mlpnet.backends.Backend` (what the device fit loop asks its model for)."""
        return self.net.array_backend

    def objective(
        self,
        X: Any,
        Y: Any,
        loss: Any,
        check: bool = True,
        sample_weight: Any = None,
        masks: Any = None,
    ) -> PenalizedObjective:
        """Return J_α on (X, Y): the network's objective plus the L2 term for ``len(X)`` rows.

        With sample weights the L2 term is (α / 2 Σw) Σ_l ‖W_l‖², as scikit-learn's: integer
        weights then equal repeated rows in the penalty too.
        """
        inner = self.net.objective(
            X, Y, loss, check=check, sample_weight=sample_weight, masks=masks
        )
        mass = len(inner.X) if sample_weight is None else float(np.sum(sample_weight))
        return PenalizedObjective(inner, self, self.alpha / mass if mass > 0 else 0.0)

    @property
    def dropout_rates(self) -> list[float]:
        """The network's dropout rates."""
        return self.net.dropout_rates

    def dropout_masks(self, n: int, rng: Any, rate: float | None = None) -> Any:
        """The network's dropout masks for n rows (see `mlpnet.Network.dropout_masks`)."""
        return self.net.dropout_masks(n, rng, rate)

    def loss_and_gradient(self, X: Any, Y: Any, loss: Any) -> tuple[float, Array]:
        """``(J_α, ∇J_α)`` at the current θ."""
        J, grad = self.objective(X, Y, loss)(self.params)
        return J, grad.copy()

    def predict(self, X: Any) -> Array:
        """Return the network's outputs."""
        return self.net.predict(X)


class PenalizedObjective(BatchObjective):
    """``θ ↦ (J + (c/2) Σ‖W_l‖², ∇J + c W)``, c = α / n; the gradient is the network's buffer."""

    def __init__(self, inner: Any, model: Penalized, c: float) -> None:
        self.inner, self.model, self.c = inner, model, c
        self.X, self.Y = inner.X, inner.Y

    def _penalty(self, theta: Array) -> float:
        return (
            0.5 * self.c * sum(float(np.dot(theta[s], theta[s])) for s in self.model.weight_slices)
        )

    def __call__(self, theta: Array) -> tuple[float, Array]:
        self.model.n_evals += 1
        J, grad = self.inner(theta)
        if self.c:
            for s in self.model.weight_slices:
                grad[s] += self.c * theta[s]
            J += self._penalty(theta)
        return J, grad

    def value(self, theta: Array) -> float:
        self.model.n_evals += 1
        J = self.inner.value(theta)
        return J + self._penalty(theta) if self.c else J


# -- step size and the per-epoch rules -----------------------------------------------------------


class StepSize:
    """A schedule k ↦ γ whose value the estimator moves between epochs (invscaling, adaptive)."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def __call__(self, k: int) -> float:
        return self.lr

    def __repr__(self) -> str:
        return f"StepSize({self.lr!r})"


class SklearnRules(Callback):
    """scikit-learn's end-of-epoch bookkeeping and stopping rule, applied to the estimator.

    After every epoch: ``n_iter_ += 1``, ``t_ += n_samples``, ``loss_`` and ``loss_curve_``; then
    either the validation score (early stopping: keep the best θ) or the training loss updates the
    count of epochs without an improvement of ``tol``; past ``n_iter_no_change`` of them training
    stops, unless ``learning_rate="adaptive"`` can still divide the step by 5. ``converged`` says
    whether this rule (rather than the epoch limit) ended training.

    For L-BFGS (``stopping=False``) only the bookkeeping runs, plus the ``max_fun`` limit on
    objective evaluations.

    The rule writes the estimator's public fitted attributes and its best-θ buffer; the rest of
    what scikit-learn keeps private comes in as arguments and goes back as attributes of the rule:
    the loss, the ``validate(objective, y, w) -> (score, loss)`` routine and
    ``no_improvement_count`` (continued across ``partial_fit`` calls).
    """

    def __init__(
        self,
        est: Any,
        model: Penalized,
        n_samples: int,
        validation: tuple[Any, Any] | None,
        step_size: StepSize | None,
        stopping: bool = True,
        *,
        loss: Any = None,
        validate: Any = None,
        no_improvement_count: int = 0,
    ) -> None:
        self.est, self.model, self.n_samples = est, model, n_samples
        self.validation, self.step_size, self.stopping = validation, step_size, stopping
        self.validate = validate
        self.no_improvement_count = no_improvement_count
        self.converged = False
        self.max_fun_reached = False
        if validation is not None:  # (X_val, y_val, Y_val, w_val): one objective for every epoch
            X_val, self.y_val, Y_val, self.w_val = validation
            self.val_objective = model.net.objective(X_val, Y_val, loss, sample_weight=self.w_val)

    def on_epoch_end(self, epoch: int, logs: EpochLogs) -> bool:
        est = self.est
        est.n_iter_ += 1
        est.loss_ = float(logs.loss)
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        if not self.stopping:  # L-BFGS: SciPy's own tests, and max_fun
            est.best_loss_ = min(est.best_loss_, est.loss_)
            self.max_fun_reached = self.model.n_evals >= est.max_fun
            return self.max_fun_reached
        est.t_ += self.n_samples
        self._count_no_improvement()
        if est.learning_rate == "invscaling" and self.step_size is not None:
            self.step_size.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if self.no_improvement_count > est.n_iter_no_change:
            if (
                est.learning_rate == "adaptive"
                and self.step_size is not None
                and self.step_size.lr > 1e-6
            ):
                self.step_size.lr /= 5.0
                self.no_improvement_count = 0
                if est.verbose:
                    print(f"Setting learning rate to {self.step_size.lr:f}")
                return False
            if est.verbose:
                what = "Validation score" if self.validation is not None else "Training loss"
                print(
                    f"{what} did not improve more than tol={est.tol:f} for "
                    f"{est.n_iter_no_change} consecutive epochs. Stopping."
                )
            self.converged = True
            return True
        return False

    def _count_no_improvement(self) -> None:
        """scikit-learn's ``_update_no_improvement_count``."""
        est = self.est
        if self.validation is not None:
            score, loss = self.validate(self.val_objective, self.y_val, self.w_val)
            est.validation_scores_.append(score)
            est.validation_loss_curve_.append(loss)
            if est.verbose:
                print(f"Validation score: {score:f}, validation loss: {loss:.8f}")
            if est.early_stopping_metric == "loss":  # lower is better
                improved = loss <= est.best_validation_loss_ - est.tol
                best = loss < est.best_validation_loss_
            else:  # scikit-learn's rule on the score: higher is better
                improved = score >= est.best_validation_score_ + est.tol
                best = score > est.best_validation_score_
            # NaN compares False: it counts as no improvement
            self.no_improvement_count = 0 if improved else self.no_improvement_count + 1
            est.best_validation_score_ = max(est.best_validation_score_, score)
            est.best_validation_loss_ = min(est.best_validation_loss_, loss)
            if best:
                est._best_theta[...] = self.model.params  # also on a backend's device
        else:
            last = est.loss_curve_[-1]
            if not last <= est.best_loss_ - est.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            if last < est.best_loss_:
                est.best_loss_ = last
