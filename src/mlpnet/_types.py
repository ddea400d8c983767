"""Array aliases and the protocols that users and the library's layers plug together.

The data flow follows the lecture notes: data → network(θ) → loss → backprop → optimizer → fit loop.
Each arrow is one of the protocols below, so a module only needs to know the shape of its neighbour,
never its class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.floating[Any]]
"""A floating-point NumPy array (float32 or float64)."""

__all__ = ["Activation", "Array", "ArrayLike", "Loss", "Objective", "Schedule", "Trainable"]


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

    # Optional, read by the fit loop where present: ``X`` and ``Y`` (the data as checked and
    # converted) and ``output`` (Ŷ of the latest evaluation, to score a batch without another
    # forward pass).


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

    # Optional: ``layer_slices``, a list of slices of θ, one per layer, for per-layer gradient
    # norms in the history; ``objective(…, sample_weight=w, masks=M)`` and ``dropout_rates`` /
    # ``dropout_masks(n, rng, rate)`` for weighted losses and dropout (the fit loop passes these
    # keywords only when they are used, so a model without them still trains unweighted).


Schedule = Callable[[int], float]
"""A step-size schedule k ↦ γ_k, k = 0, 1, … the optimizer step."""
