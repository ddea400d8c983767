"""Forward propagation with stored intermediates and the backward recursion (Algorithm 6.1).

Rows are samples. For layers l = 1 … L with weights W_l (n_l × n_{l-1}) and biases b_l:

    forward:   Q_0 = X,   Z_l = Q_{l-1} W_lᵀ + b_l,   Q_l = ψ_l(Z_l)
    output:    δ_L = ∂J/∂Z_L  (= (Ŷ − Y)/n for the matched output/loss pairs)
    backward:  ∇W_l = δ_lᵀ Q_{l-1},   ∇b_l = Σ_rows δ_l,   δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1})

The 1/n of the mean is folded into δ_L once, so the gradient of every layer comes straight out of
one matrix product written into its slot of the flat gradient (same layout as θ, eq. 6.17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._types import Array
from .losses import is_matched

__all__ = [
    "Cache",
    "backward",
    "forward",
    "input_gradient",
    "loss_and_delta",
    "loss_value",
    "output",
]

Params = Sequence[tuple[Array, Array]]


@dataclass
class Cache:
    """What the forward pass stores for the backward pass.

    Attributes
    ----------
    Q : list of arrays
        Q_0 = X, Q_1, …, Q_L: the layer outputs, each of shape ``(n, n_l)``.
    Z : list of arrays
        Z_1, …, Z_L: the pre-activations (``Z[l - 1]`` is Z_l), each of shape ``(n, n_l)``.
    """

    Q: list[Array]
    Z: list[Array]

    @property
    def output(self) -> Array:
        """Ŷ = Q_L."""
        return self.Q[-1]


def forward(params: Params, activations: Sequence[Any], X: Array) -> Cache:
    """Forward pass of Algorithm 6.1 keeping every Z_l and Q_l."""
    Q, Zs, Qs = X, [], [X]
    for (W, b), act in zip(params, activations, strict=True):
        Z = Q @ W.T
        Z += b
        Q = act(Z)
        Zs.append(Z)
        Qs.append(Q)
    return Cache(Qs, Zs)


def output(params: Params, activations: Sequence[Any], X: Array) -> tuple[Array, Array]:
    """Forward pass keeping nothing but the last layer: ``(Z_L, Ŷ = Q_L)``."""
    Q = Z = X
    for (W, b), act in zip(params, activations, strict=True):
        Z = Q @ W.T
        Z += b
        Q = act(Z)
    return Z, Q


def loss_value(loss: Any, output_activation: Any, Z: Array, Q: Array, Y: Array) -> float:
    """J = mean of the per-sample loss; from the logits Z for the matched pairs (stable)."""
    if is_matched(loss, output_activation):
        return float(loss.value_from_logits(Z, Y).mean(dtype=np.float64))
    return float(loss.value(Q, Y).mean(dtype=np.float64))


def loss_and_delta(
    loss: Any, output_activation: Any, Z: Array, Q: Array, Y: Array
) -> tuple[float, Array]:
    """J and the output error δ_L = ∂J/∂Z_L (the 1/n of the mean included).

    For sigmoid + binary cross-entropy, softmax + cross-entropy and identity + softmax
    cross-entropy the chain rule through ψ' cancels and δ_L = (Ŷ − Y)/n; otherwise
    δ_L = ψ'_L(Z_L) ⊙ ∂ℓ/∂Ŷ / n.
    """
    if is_matched(loss, output_activation) and hasattr(loss, "value_and_delta"):
        ell, delta = loss.value_and_delta(Z, Q, Y)  # one pass for both (softmax cross-entropy)
        J = float(ell.mean(dtype=np.float64))
    else:
        J = loss_value(loss, output_activation, Z, Q, Y)
        if is_matched(loss, output_activation):
            delta = loss.output_delta(Z, Q, Y)
        else:
            delta = output_activation.backprop(Z, Q, loss.gradient(Q, Y))
    delta *= 1.0 / Z.shape[0]  # δ_L is a fresh array here: scale it in place
    return J, delta


def backward(
    params: Params,
    activations: Sequence[Any],
    cache: Cache,
    delta: Array,
    grads: Sequence[tuple[Array, Array]],
) -> None:
    """Backward recursion of Algorithm 6.1 into `grads`, views laid out like θ (eq. 6.17).

    δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1}),  ∇W_l = δ_lᵀ Q_{l-1},  ∇b_l = Σ_rows δ_l,
    where `delta` is δ_L = ∂J/∂Z_L (the 1/n of the mean already in it).
    """
    for l in range(len(params) - 1, -1, -1):
        W, _ = params[l]
        gW, gb = grads[l]
        if len(delta) == 1:  # one sample: ∇W_l = δ_l q_{l-1}ᵀ, an outer product; NumPy's matmul
            np.einsum(
                "i,j->ij", delta[0], cache.Q[l][0], out=gW
            )  # skips BLAS for it, einsum is 5× faster
        else:
            np.matmul(delta.T, cache.Q[l], out=gW)
        np.sum(delta, axis=0, out=gb)
        if l > 0:
            delta = activations[l - 1].backprop(cache.Z[l - 1], cache.Q[l], delta @ W)


def input_gradient(params: Params, activations: Sequence[Any], cache: Cache, delta: Array) -> Array:
    """∂/∂X of ⟨δ_L, Z_L⟩: the same recursion continued down to the input, δ_0 = δ_1 W_1."""
    for l in range(len(params) - 1, -1, -1):
        delta = delta @ params[l][0]
        if l > 0:
            delta = activations[l - 1].backprop(cache.Z[l - 1], cache.Q[l], delta)
    return delta
