"""Independent checks of the calculus: finite differences, the input Jacobian and the Hessian.

Backpropagation computes ∇θ J in O(|w|) operations per sample; central differences need two forward
passes per parameter, O(|w|²), which is why the notes use them only to verify backpropagation. Every
check here runs in float64 on a copy of the network, so the network itself is never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import backprop
from ._checks import check_X
from ._types import Array, Trainable

__all__ = [
    "finite_difference_gradient",
    "gradient_check",
    "hessian",
    "jacobian",
    "sample_coordinates",
]


def _float64_copy(net: Any) -> Any:
    return net.copy(dtype="float64")


def finite_difference_gradient(
    net: Any, X: ArrayLike, Y: ArrayLike, loss: Any, eps: float = 1e-6
) -> Array:
    """ĝ_i = (J(θ + εe_i) − J(θ − εe_i)) / 2ε for every i, in float64: 2|θ| forward passes."""
    _check_eps(eps)
    net = _float64_copy(net)
    return _differences(net.objective(X, Y, loss), net.params, np.arange(net.n_params), eps)


def gradient_check(
    net: Trainable,
    X: ArrayLike,
    Y: ArrayLike,
    loss: Any,
    eps: float = 1e-6,
    *,
    coordinates: int | ArrayLike | None = None,
    seed: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> float:
    """Relative error between backpropagation's gradient g and central differences ĝ.

    max_i |g_i − ĝ_i| / max(max_i |g_i|, max_i |ĝ_i|, 1e-12), both in float64 whatever the
    network's dtype; the network is not changed. Values near 1e-8 mean agreement; kinks of ReLU or
    Heaviside within ε of some Z_l can spoil it.

    By default every coordinate i of θ is checked (2|θ| forward passes, O(|θ|²) time). With
    ``coordinates`` only a subset S is: the maxima over i then run over S, except max |g_i|, which
    backpropagation gives for all of θ at no cost; with S = all of θ the two definitions agree.

    Parameters
    ----------
    coordinates : None, int or array of int
        None: all of θ. An int k: `sample_coordinates` (k of them, seeded by `seed`). An array:
        those indices of θ.
    seed : int, optional
        Seeds the sample when ``coordinates`` is an int.
    progress : callable, optional
        Called as ``progress(1)`` after each coordinate (e.g. a progress bar's ``update``).
    """
    _check_eps(eps)
    net = _float64_copy(net)
    g = net.loss_and_gradient(X, Y, loss)[1]
    if coordinates is None:
        index = np.arange(g.size)
    elif isinstance(coordinates, (int, np.integer)) and not isinstance(coordinates, bool):
        index = sample_coordinates(net, int(coordinates), seed)
    else:
        index = _check_indices(coordinates, g.size)
    g_hat = _differences(net.objective(X, Y, loss), net.params, index, eps, progress)
    scale = max(np.abs(g).max(initial=0.0), np.abs(g_hat).max(initial=0.0), 1e-12)
    return float(np.abs(g[index] - g_hat).max(initial=0.0) / scale)


def sample_coordinates(net: Any, count: int, seed: int | None = None) -> Array:
    """`count` distinct indices of θ (all of them if it has no more), sorted.

    Every layer's W_l and b_l block gets some (up to 10 each, fewer when `count` is small), so that
    no block goes unchecked; the rest are drawn uniformly from the remaining coordinates with
    ``np.random.default_rng(seed)``.
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"coordinates must be a positive integer, got {count!r}")
    total = int(net.n_params)
    if count >= total:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    blocks = []
    for part, layer in zip(net.layer_slices, net.layers, strict=True):
        split = part.start + layer.W.size
        blocks += [np.arange(part.start, split), np.arange(split, part.stop)]
    each = min(10, max(1, count // (2 * len(blocks))))
    chosen = np.concatenate(
        [rng.choice(b, min(each, b.size), replace=False) for b in blocks if b.size]
    )
    rest = np.setdiff1d(np.arange(total), chosen, assume_unique=True)
    more = rng.choice(rest, count - chosen.size, replace=False)
    return np.sort(np.concatenate([chosen, more]))


def _check_eps(eps: float) -> None:
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")


def _check_indices(coordinates: ArrayLike, size: int) -> Array:
    index = np.asarray(coordinates)
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError("coordinates must be None, an int or a 1-D array of integer indices")
    if index.size == 0 or index.min() < 0 or index.max() >= size:
        raise ValueError(f"coordinates must be indices of θ in [0, {size}), got {index!r}")
    return np.unique(index)


def _differences(
    objective: Any,
    theta: Array,
    index: Array,
    eps: float,
    progress: Callable[[int], Any] | None = None,
) -> Array:
    """ĝ_i for i in `index`: two forward passes each, θ restored after every coordinate."""
    theta = theta.copy()
    g = np.empty(len(index))
    for k, i in enumerate(index):
        old = theta[i]
        theta[i] = old + eps
        plus = objective.value(theta)
        theta[i] = old - eps
        minus = objective.value(theta)
        theta[i] = old
        g[k] = (plus - minus) / (2 * eps)
        if progress is not None:
            progress(1)
    return g


def jacobian(net: Any, X: ArrayLike) -> Array:
    """∂ŷ/∂x by backpropagation to the input: ``(n, n_L, n_0)``, or ``(n_L, n_0)`` for one sample.

    Row k is the backward recursion seeded with δ_L = ψ'_L(Z_L) ⊙ e_k, continued to δ_0 = δ_1 W_1
    (n_L backward passes), in float64.
    """
    net = _float64_copy(net)
    X, single = check_X(X, net.sizes[0], np.float64)
    params = [(layer.W, layer.b) for layer in net.layers]  # views into θ (eq. 6.17)
    acts = [layer.activation for layer in net.layers]
    cache = backprop.forward(params, acts, X)
    n, m = X.shape[0], net.sizes[-1]
    J = np.empty((n, m, net.sizes[0]))
    for k in range(m):
        E = np.zeros((n, m))
        E[:, k] = 1.0
        delta = acts[-1].backprop(cache.Z[-1], cache.Q[-1], E)
        J[:, k, :] = backprop.input_gradient(params, acts, cache, delta)
    return J[0] if single else J


def hessian(net: Any, X: ArrayLike, Y: ArrayLike, loss: Any, eps: float = 1e-5) -> Array:
    """∇²θ J, shape ``(n_params, n_params)``: central differences of the backprop gradient, float64.

    Column i is (∇J(θ + εe_i) − ∇J(θ − εe_i)) / 2ε; the result is symmetrised, (H + Hᵀ)/2. Costs
    2|θ| backward passes and |θ|² memory: for small networks.
    """
    _check_eps(eps)
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
