"""Independent checks of the calculus: finite differences, the input Jacobian and the Hessian.

Backpropagation computes ∇θ J in O(|w|) operations per sample; central differences need two forward
passes per parameter, O(|w|²), which is why the notes use them only to verify backpropagation. Every
check here runs in float64 on a copy of the network, so the network itself is never changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import backprop
from ._checks import check_X
from ._types import Array, Trainable

__all__ = ["finite_difference_gradient", "gradient_check", "hessian", "jacobian"]


def _float64_copy(net: Any) -> Any:
    return net.copy(dtype="float64")


def finite_difference_gradient(
    net: Any, X: ArrayLike, Y: ArrayLike, loss: Any, eps: float = 1e-6
) -> Array:
    """ĝ_i = (J(θ + εe_i) − J(θ − εe_i)) / 2ε for every i, in float64: 2|θ| forward passes."""
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    net = _float64_copy(net)
    objective = net.objective(X, Y, loss)
    theta = net.params.copy()
    g = np.empty_like(theta)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + eps
        plus = objective.value(theta)
        theta[i] = old - eps
        minus = objective.value(theta)
        theta[i] = old
        g[i] = (plus - minus) / (2 * eps)
    return g


def gradient_check(
    net: Trainable, X: ArrayLike, Y: ArrayLike, loss: Any, eps: float = 1e-6
) -> float:
    """Relative error between backpropagation's gradient g and central differences ĝ.

    max_i |g_i − ĝ_i| / max(max_i |g_i|, max_i |ĝ_i|, 1e-12), both in float64 whatever the
    network's dtype; the network is not changed. Values near 1e-8 mean agreement; kinks of ReLU or
    Heaviside within ε of some Z_l can spoil it.
    """
    g = _float64_copy(net).loss_and_gradient(X, Y, loss)[1]
    g_hat = finite_difference_gradient(net, X, Y, loss, eps)
    scale = max(np.abs(g).max(initial=0.0), np.abs(g_hat).max(initial=0.0), 1e-12)
    return float(np.abs(g - g_hat).max(initial=0.0) / scale)


def jacobian(net: Any, X: ArrayLike) -> Array:
    """∂ŷ/∂x by backpropagation to the input: ``(n, n_L, n_0)``, or ``(n_L, n_0)`` for one sample.

    Row k is the backward recursion seeded with δ_L = ψ'_L(Z_L) ⊙ e_k, continued to δ_0 = δ_1 W_1
    (n_L backward passes), in float64.
    """
    net = _float64_copy(net)
    X, one = check_X(X, net.sizes[0], np.float64)
    params, acts = net._views, net._acts
    cache = backprop.forward(params, acts, X)
    n, m = X.shape[0], net.sizes[-1]
    J = np.empty((n, m, net.sizes[0]))
    for k in range(m):
        E = np.zeros((n, m))
        E[:, k] = 1.0
        delta = acts[-1].backprop(cache.Z[-1], cache.Q[-1], E)
        J[:, k, :] = backprop.input_gradient(params, acts, cache, delta)
    return J[0] if one else J


def hessian(net: Any, X: ArrayLike, Y: ArrayLike, loss: Any, eps: float = 1e-5) -> Array:
    """∇²θ J, shape ``(n_params, n_params)``: central differences of the backprop gradient, float64.

    Column i is (∇J(θ + εe_i) − ∇J(θ − εe_i)) / 2ε; the result is symmetrised, (H + Hᵀ)/2. Costs
    2|θ| backward passes and |θ|² memory: for small networks.
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    net = _float64_copy(net)
    objective = net.objective(X, Y, loss)
    theta = net.params.copy()
    H = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + eps
        plus = objective(theta)[1].copy()
        theta[i] = old - eps
        minus = objective(theta)[1]
        theta[i] = old
        H[:, i] = (plus - minus) / (2 * eps)
    return 0.5 * (H + H.T)
