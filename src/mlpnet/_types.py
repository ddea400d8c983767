"""Array aliases and the protocols that users and the library's layers plug together.

The data flow follows the lecture notes: data → network(θ) → loss → backprop → optimizer → fit loop.
Each arrow is one of the protocols below, so a module only needs to know the shape of its neighbour,
never its class.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.floating[Any]]
"""A floating-point NumPy array (float32 or float64)."""

__all__ = [
    "Activation",
    "Array",
    "ArrayLike",
    "BatchObjective",
    "Loss",
    "ModelHooks",
    "Objective",
    "Schedule",
    "Trainable",
    "as_batch_objective",
    "model_hooks",
]


@runtime_checkable
class Activation(Protocol):
    """An elementwise activation ψ and derivative ψ', both functions of the pre-activation z."""

    def __call__(self, z: Array) -> Array:
        """ψ(z), elementwise."""
        ...

    def derivative(self, z: Array) -> Array:
        """ψ'(z), elementwise (for softmax: see `mlpnet.activations.Softmax`)."""
        ...


@runtime_checkable
class Loss(Protocol):
    """A per-sample loss ℓ(ŷ, y) and its derivative with respect to the network output ŷ."""

    def value(self, Yhat: Array, Y: Array) -> Array:
        """ℓ for each sample (row), shape ``(n,)``."""
        ...

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        """∂ℓ/∂ŷ for each sample, shape ``(n, n_L)``, without the 1/n of the mean."""
        ...


class Objective(Protocol):
    """J as a function of the flat parameter vector θ on fixed data: what an optimizer minimises.

    Every optimizer step receives one, like PyTorch's ``closure``; it never changes the network.
    """

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(J(θ), ∇J(θ))``; the gradient may be a buffer the next call reuses (copy to keep)."""
        ...

    def value(self, theta: Array) -> float:
        """J(θ) alone: a forward pass, no backward pass."""
        ...


class BatchObjective:
    """An `Objective` on one batch of data, as the fit loop sees it: the hooks it may call.

    Subclasses (`mlpnet.network.NetworkObjective`, the backends' and Dask's objectives, the
    estimators' penalised one) implement ``__call__`` and ``value`` and override what applies;
    the defaults describe a plain objective on host memory. An objective of another class is
    wrapped by `as_batch_objective`, so the fit loop never probes for an attribute.

    Attributes
    ----------
    X, Y : arrays or None
        The data as checked and converted (None: the caller's own).
    output : array or None
        Ŷ of the latest evaluation, to score a batch without another forward pass.
    accuracy : float
        The objective's own score of its latest evaluation, for one without ``output`` (sharded
        data); NaN when it has none.
    on_host : bool
        False for arrays of another array library (`mlpnet.backends`).
    held_elsewhere : bool
        True for data held elsewhere (Dask shards), which stream their own `mini_batches`.
    can_descend : bool
        True when `descend` fuses θ ← θ − γ ∇J into the backward pass.
    """

    X: Any = None
    Y: Any = None
    output: Any = None
    accuracy: float = float("nan")
    on_host: bool = True
    held_elsewhere: bool = False
    can_descend: bool = False

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(J(θ), ∇J(θ))``."""
        raise NotImplementedError

    def value(self, theta: Array) -> float:
        """J(θ) alone."""
        raise NotImplementedError

    def descend(self, theta: Array, lr: float) -> float:
        """J(θ), then θ ← θ − lr ∇J(θ) in place; return J (only if `can_descend`)."""
        raise TypeError(f"{type(self).__name__} cannot fuse the step into its backward pass")

    def release(self) -> None:
        """Forget what the latest evaluation kept (a forward pass): nothing by default."""

    def mini_batches(self, batch_size: int, shuffle: bool, seed: Any) -> Any:
        """``epoch ↦ iterator of (objective, mass, is_last)`` (only if `held_elsewhere`)."""
        raise TypeError(f"{type(self).__name__} holds no data of its own to stream")


class _Foreign(BatchObjective):
    """An objective of another class: the hooks it has, the defaults for those it lacks.

    Read once here, so that the fit loop itself never probes; ``output`` and ``accuracy`` are
    read at each use (they change with every evaluation).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.X, self.Y = getattr(inner, "X", None), getattr(inner, "Y", None)
        self.on_host = getattr(inner, "on_host", True) is not False
        self.held_elsewhere = bool(getattr(inner, "held_elsewhere", False))
        self.can_descend = callable(getattr(inner, "descend", None))
        for hook in ("descend", "release", "mini_batches"):
            if callable(getattr(inner, hook, None)):
                setattr(self, hook, getattr(inner, hook))

    def __call__(self, theta: Array) -> tuple[float, Array]:
        return self.inner(theta)

    def value(self, theta: Array) -> float:
        return self.inner.value(theta)

    @property  # type: ignore[override]
    def output(self) -> Any:
        return getattr(self.inner, "output", None)

    @property  # type: ignore[override]
    def accuracy(self) -> float:
        return float(getattr(self.inner, "accuracy", math.nan))


def as_batch_objective(objective: Any) -> BatchObjective:
    """``objective`` itself if it is a `BatchObjective`, else it wrapped with the defaults."""
    return objective if isinstance(objective, BatchObjective) else _Foreign(objective)


class Trainable(Protocol):
    """What the fit loop and the gradient checks need of a model (`mlpnet.Network` is one)."""

    @property
    def params(self) -> Array:
        """θ: the live, contiguous 1-D parameter vector (writing into it changes the model)."""
        ...

    def objective(self, X: Array, Y: Any, loss: Any, *, check: bool = True) -> Objective:
        """J on the data (X, Y) as a function of θ; ``check=False`` trusts already-checked data."""
        ...

    def loss_and_gradient(self, X: ArrayLike, Y: ArrayLike, loss: Any) -> tuple[float, Array]:
        """``(J, ∇θ J)`` at the current θ."""
        ...

    def predict(self, X: ArrayLike) -> Array:
        """Network outputs, one row per sample."""
        ...

    # Optional, read once per fit by `model_hooks`: ``n_params``; ``layer_slices``, slices of θ,
    # one per layer, for per-layer gradient norms in the history; ``objective(…,
    # sample_weight=w, masks=M)`` and ``dropout_rates`` / ``dropout_masks(n, rng, rate)`` for
    # weighted losses and dropout (the fit loop passes these keywords only when they are used,
    # so a model without them still trains unweighted); ``backend``, the array library's name.


class ModelHooks(NamedTuple):
    """The optional parts of a `Trainable`, with their defaults (see `model_hooks`)."""

    n_params: int
    layer_slices: tuple[slice, ...]
    dropout_rates: tuple[float, ...]
    dropout_masks: Callable[..., Any] | None
    backend: str


def model_hooks(model: Trainable) -> ModelHooks:
    """What `model` offers beyond the `Trainable` protocol, defaults filled in, read once."""
    n_params = getattr(model, "n_params", None)
    return ModelHooks(
        n_params=int(model.params.shape[0]) if n_params is None else n_params,  # array-API: no len
        layer_slices=tuple(getattr(model, "layer_slices", ())),
        dropout_rates=tuple(getattr(model, "dropout_rates", ())),
        dropout_masks=getattr(model, "dropout_masks", None),
        backend=getattr(model, "backend", "numpy"),
    )


Schedule = Callable[[int], float]
"""A step-size schedule k ↦ γ_k, k = 0, 1, … the optimizer step."""
