"""J(θ) of a network on fixed data: the concrete objective that optimizers and the fit loop use.

`NetworkObjective` (exported as `mlpnet.Objective`) evaluates a network's mean loss and its
gradient by backpropagation (Algorithm 6.1) at any θ of the network's layout (eq. 6.17), through
the network's public ``layer_params``, ``activations`` and ``gradient_buffer``. The protocol an
optimizer sees is `mlpnet._types.Objective`; the fit loop's hooks are
`mlpnet._types.BatchObjective`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backprop
from ._types import Array, BatchObjective

if TYPE_CHECKING:
    from .network import Network

__all__ = ["NetworkObjective"]


class NetworkObjective(BatchObjective):
    """J(θ) = mean loss of a network on fixed data, as a function of θ; never mutates the network.

    The concrete `mlpnet.Objective` (exported under that name); the protocol optimizers see is
    `mlpnet._types.Objective`, and the hooks the fit loop calls are `mlpnet._types.BatchObjective`.

    ``objective(theta)`` → ``(J, ∇J)`` (forward and backward pass; the gradient is the network's
    reused buffer), ``objective.value(theta)`` → J (forward pass only). With normalised sample
    weights ω (``weights``, Σω = 1) J = Σ ω_i ℓ_i; with dropout ``masks`` every evaluation uses the
    same masks, so J is one deterministic function of θ (the sampled sub-network), which line
    searches and finite differences can trust.

    A line search evaluates J at trial points and then asks for the gradient at the one it accepts;
    ``value`` therefore keeps its forward pass, and a following call at the same θ runs only the
    backward pass. ``output`` is Ŷ of the latest evaluation, so the fit loop can score a batch
    without a second forward pass.
    """

    can_descend = True  # `descend`: the fused SGD step

    def __init__(
        self,
        net: Network,
        X: Array,
        Y: Array,
        loss: Any,
        weights: Array | None = None,
        masks: Sequence[Array | None] | None = None,
    ) -> None:
        self.net, self.X, self.Y, self.loss = net, X, Y, loss
        self.weights, self.masks = weights, masks
        self.output: Array | None = None
        self._kept: tuple[Array, backprop.Cache] | None = None  # (θ, forward pass) of `value`

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(J(θ), ∇J(θ))``: forward and backward pass; ∇J is the network's reused buffer."""
        net = self.net
        params = net.layer_params(theta)
        cache, J, delta = self._forward_and_delta(theta, params)
        grad, grad_views = net.gradient_buffer
        backprop.backward(params, net.activations, cache, delta, grad_views)
        return J, grad

    def descend(self, theta: Array, lr: float) -> float:
        """J(θ), then the gradient step θ ← θ − lr ∇J(θ) in place; return J.

        ∇J is linear in δ_L, so the backward pass run from lr·δ_L writes lr·∇J, and the step is a
        single subtraction: no separate pass scaling a θ-sized array (the fit loop's fast path for
        plain SGD). `theta` must be the network's own ``params``; it is left unchanged if J is not
        finite.
        """
        net = self.net
        if theta is not net.params:
            raise ValueError("descend moves the network's own params only")
        params = net.layer_params(theta)
        cache, J, delta = self._forward_and_delta(theta, params)
        if np.isfinite(J):
            delta *= lr
            grad, grad_views = net.gradient_buffer
            backprop.backward(params, net.activations, cache, delta, grad_views)
            theta -= grad
        return J

    def _forward_and_delta(self, theta: Array, params: Any) -> tuple[backprop.Cache, float, Array]:
        """Forward pass (or the one `value` kept at this θ), J and δ_L; records `output`."""
        acts, kept, self._kept = self.net.activations, self._kept, None
        if kept is not None and np.array_equal(kept[0], theta):
            cache = kept[1]
        else:
            cache = backprop.forward(params, acts, self.X, self.masks)
        J, delta = backprop.loss_and_delta(
            self.loss, acts[-1], cache.Z[-1], cache.Q[-1], self.Y, self.weights
        )
        self.output = cache.output
        return cache, J, delta

    def release(self) -> None:
        """Forget the forward pass kept by `value` (its memory is freed)."""
        self._kept = None

    def value(self, theta: Array) -> float:
        """J(θ) by a forward pass, which is kept for a gradient asked at the same θ."""
        net = self.net
        cache = backprop.forward(net.layer_params(theta), net.activations, self.X, self.masks)
        self._kept = (np.array(theta, dtype=net.dtype), cache)
        self.output = cache.output
        return backprop.loss_value(
            self.loss, net.activations[-1], cache.Z[-1], cache.Q[-1], self.Y, self.weights
        )
