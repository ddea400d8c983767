"""Forward propagation with stored intermediates and the backward recursion (Algorithm 6.1).

Rows are samples. For layers l = 1 … L with weights W_l (n_l × n_{l-1}) and biases b_l:

    forward:   Q_0 = X,   Z_l = Q_{l-1} W_lᵀ + b_l,   Q_l = ψ_l(Z_l)
    output:    δ_L = ∂J/∂Z_L  (= (Ŷ − Y)/n for the matched output/loss pairs)
    backward:  ∇W_l = δ_lᵀ Q_{l-1},   ∇b_l = Σ_rows δ_l,   δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1})

The 1/n of the mean is folded into δ_L once, so the gradient of every layer comes straight out of
one matrix product written into its slot of the flat gradient (same layout as θ, eq. 6.17).

Two training-time extensions keep that structure:

- sample weights: J = Σ_i w_i ℓ_i / Σ_i w_i, so row i of δ_L is scaled by w_i / Σw instead of 1/n
  (``weights`` below are already normalised, ω_i = w_i / Σw; the mean is ω_i = 1/n);
- inverted dropout: a hidden output is multiplied by a fixed mask M_l (entries 0 or 1/(1 − p)),
  Q̃_l = ψ_l(Z_l) ⊙ M_l, and the backward pass multiplies by the same mask,
  δ_l = (δ_{l+1} W_{l+1}) ⊙ M_l ⊙ ψ'_l(Z_l): the exact gradient of the sampled sub-network.
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
    masks : list of (array or None), or None
        With dropout, ``masks[l - 1]`` is M_l (0 or 1/(1 − p)) and ``Q[l]`` the masked output
        Q̃_l = ψ_l(Z_l) ⊙ M_l, what layer l + 1 sees; None without dropout.
    unmasked : list of arrays, or None
        With dropout, ``unmasked[l - 1]`` = ψ_l(Z_l) before the mask (for ψ' from the output).
    """

    Q: list[Array]
    Z: list[Array]
    masks: list[Array | None] | None = None
    unmasked: list[Array] | None = None

    @property
    def output(self) -> Array:
        """Ŷ = Q_L."""
        return self.Q[-1]


def forward(
    params: Params,
    activations: Sequence[Any],
    X: Array,
    masks: Sequence[Array | None] | None = None,
) -> Cache:
    """Forward pass of Algorithm 6.1 keeping every Z_l and Q_l (with dropout masks M_l if given).

    ``masks[l - 1]`` (shape ``(n, n_l)`` or None) multiplies ψ_l(Z_l): Q̃_l = ψ_l(Z_l) ⊙ M_l.
    """
    if masks is not None:
        return _forward_masked(params, activations, X, masks)
    Q, Zs, Qs = X, [], [X]
    for (W, b), act in zip(params, activations, strict=True):
        Z = Q @ W.T
        Z += b
        Q = act(Z)
        Zs.append(Z)
        Qs.append(Q)
    return Cache(Qs, Zs)


def _forward_masked(
    params: Params, activations: Sequence[Any], X: Array, masks: Sequence[Array | None]
) -> Cache:
    Q, Zs, Qs, unmasked = X, [], [X], []
    for (W, b), act, M in zip(params, activations, masks, strict=True):
        Z = Q @ W.T
        Z += b
        Q = act(Z)
        unmasked.append(Q)
        if M is not None:
            Q = Q * M  # a new array: for the identity, act(Z) is Z itself
        Zs.append(Z)
        Qs.append(Q)
    return Cache(Qs, Zs, list(masks), unmasked)


def output(params: Params, activations: Sequence[Any], X: Array) -> tuple[Array, Array]:
    """Forward pass keeping nothing but the last layer: ``(Z_L, Ŷ = Q_L)``."""
    Q = Z = X
    for (W, b), act in zip(params, activations, strict=True):
        Z = Q @ W.T
        Z += b
        Q = act(Z)
    return Z, Q


def _mean(ell: Array, weights: Array | None) -> float:
    """(1/n) Σ ℓ_i, or Σ ω_i ℓ_i with the normalised weights ω (Σ ω = 1, or all 0: then J = 0)."""
    if weights is None:
        return float(ell.mean(dtype=np.float64))
    return float(np.dot(ell.astype(np.float64, copy=False), weights))


def loss_value(
    loss: Any, output_activation: Any, Z: Array, Q: Array, Y: Array, weights: Array | None = None
) -> float:
    """J = mean of the per-sample loss (weighted by ω if given); from the logits Z when matched."""
    if is_matched(loss, output_activation):
        return _mean(loss.value_from_logits(Z, Y), weights)
    return _mean(loss.value(Q, Y), weights)


def loss_and_delta(
    loss: Any,
    output_activation: Any,
    Z: Array,
    Q: Array,
    Y: Array,
    weights: Array | None = None,
) -> tuple[float, Array]:
    """J and the output error δ_L = ∂J/∂Z_L (the 1/n of the mean, or ω_i = w_i/Σw, included).

    For sigmoid + binary cross-entropy, softmax + cross-entropy and identity + softmax
    cross-entropy the chain rule through ψ' cancels and δ_L = (Ŷ − Y)/n; otherwise
    δ_L = ψ'_L(Z_L) ⊙ ∂ℓ/∂Ŷ / n. With normalised sample weights ω, J = Σ ω_i ℓ_i and row i of δ_L
    is scaled by ω_i instead of 1/n.
    """
    if is_matched(loss, output_activation) and hasattr(loss, "value_and_delta"):
        ell, delta = loss.value_and_delta(Z, Q, Y)  # one pass for both (softmax cross-entropy)
        J = _mean(ell, weights)
    else:
        J = loss_value(loss, output_activation, Z, Q, Y, weights)
        if is_matched(loss, output_activation):
            delta = loss.output_delta(Z, Q, Y)
        else:
            delta = output_activation.backprop(Z, Q, loss.gradient(Q, Y))
    if weights is None:
        delta *= 1.0 / Z.shape[0]  # δ_L is a fresh array here: scale it in place
    else:
        delta *= weights.astype(delta.dtype, copy=False)[:, None]
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
            delta = _below(activations, cache, l, delta @ W)


def _below(activations: Sequence[Any], cache: Cache, l: int, G: Array) -> Array:
    """δ of layer l (1-based) from G = δ_{l+1} W_{l+1}: G ⊙ M_l ⊙ ψ'_l(Z_l), M_l if dropped."""
    masks = cache.masks
    if masks is None:
        return activations[l - 1].backprop(cache.Z[l - 1], cache.Q[l], G)
    M = masks[l - 1]
    if M is not None:
        G *= M
    return activations[l - 1].backprop(cache.Z[l - 1], cache.unmasked[l - 1], G)


def input_gradient(params: Params, activations: Sequence[Any], cache: Cache, delta: Array) -> Array:
    """∂/∂X of ⟨δ_L, Z_L⟩: the same recursion continued down to the input, δ_0 = δ_1 W_1."""
    for l in range(len(params) - 1, -1, -1):
        delta = delta @ params[l][0]
        if l > 0:
            delta = _below(activations, cache, l, delta)
    return delta
