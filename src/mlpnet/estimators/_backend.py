"""The estimators' ``backend=`` and ``device=``: the network trained in another array library.

The estimator draws θ on the host as always (scikit-learn's initialisation, bit for bit), then moves
the network to the backend (`mlpnet.backends`), where `mlpnet.training.fit` runs its device loop
(`mlpnet._xp_training.DeviceRun`). What the estimator sees stays NumPy: its inputs are checked
by scikit-learn on the host and moved once per ``fit``; outputs, ``coefs_`` and ``intercepts_``
are read back. `DevicePenalized` is `Penalized` with scikit-learn's L2 term computed on the
device, so the loss of each step stays there until the epoch's one read.

Not on a backend (ValueError naming it): ``sample_weight``, ``class_weight`` and ``dropout``, which
need the NumPy engine's weighted and masked objectives, and ``loss="poisson"`` (its exp output
and deviance are the estimators' own, which the generic engine does not have). ``lbfgs`` runs:
SciPy's L-BFGS on the host, θ and ∇J crossing at every evaluation.
"""

from __future__ import annotations

from typing import Any

from ..backends import Backend, asarray, get_backend, is_backend_array
from ._adaptors import Penalized, PenalizedObjective

__all__ = ["DevicePenalized", "check_backend_options", "resolve"]


def resolve(est: Any) -> Backend:
    """The `Backend` of ``est.backend`` on ``est.device`` (ValueError/ImportError if unusable)."""
    return get_backend(est.backend, est.device)


def check_backend_options(est: Any, backend: Backend, sample_weight: Any) -> None:
    """Refuse, by name, what the NumPy engine alone can train."""
    if backend.is_numpy:
        return
    used = [
        name
        for name, value in (
            ("sample_weight", sample_weight),
            ("class_weight", getattr(est, "class_weight", None)),
            ("dropout", est.dropout or None),
            ("loss='poisson'", getattr(est, "loss", None) == "poisson" or None),
        )
        if value is not None
    ]
    if used:
        raise ValueError(
            f"{' and '.join(used)} {'needs' if len(used) == 1 else 'need'} backend='numpy'; "
            f"the {backend.name!r} backend trains "
            "unweighted objectives without dropout"
        )


class DevicePenalized(Penalized):
    """`Penalized` on a backend network: J_α and ∇J_α stay on the device (no per-step read)."""

    @property
    def backend(self) -> str:
        """The network's backend name."""
        return self.net.backend

    def objective(
        self,
        X: Any,
        Y: Any,
        loss: Any,
        check: bool = True,
        sample_weight: Any = None,
        masks: Any = None,
    ) -> DevicePenalizedObjective:
        """J_α on (X, Y) for ``X.shape[0]`` rows, as `Penalized.objective` (no weights or masks)."""
        inner = self.net.objective(
            X, Y, loss, check=check, sample_weight=sample_weight, masks=masks
        )
        n = inner.X.shape[0]
        return DevicePenalizedObjective(inner, self, self.alpha / n if n > 0 else 0.0)


class DevicePenalizedObjective(PenalizedObjective):
    """``θ ↦ (J + (c/2) Σ‖W_l‖², ∇J + c W)`` with J a 0-d device array (`XpObjective`'s)."""

    on_host = False

    @property
    def output(self) -> Any:
        """Ŷ of the latest evaluation (on the device)."""
        return self.inner.output

    def _device_theta(self, theta: Any) -> Any:
        net = self.model.net
        if is_backend_array(theta, net.array_backend):
            return theta
        return asarray(theta, net.array_backend, net.dtype)  # L-BFGS hands a host θ

    def _penalty(self, theta: Any) -> Any:
        xp = self.model.net.array_backend.xp
        return 0.5 * self.c * sum(xp.sum(theta[s] * theta[s]) for s in self.model.weight_slices)

    def __call__(self, theta: Any) -> tuple[Any, Any]:
        self.model.n_evals += 1
        J, grad = self.inner(theta)
        if self.c:
            theta = self._device_theta(theta)
            for s in self.model.weight_slices:
                grad[s] += self.c * theta[s]
            J = J + self._penalty(theta)
        return J, grad

    def value(self, theta: Any) -> Any:
        self.model.n_evals += 1
        J = self.inner.value(theta)
        return J + self._penalty(self._device_theta(theta)) if self.c else J

    def release(self) -> None:
        """Nothing is kept between calls."""
        self.inner.release()
