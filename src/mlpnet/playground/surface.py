"""The four-point loss surface J(w₁₁, w₁₂) and the paths of GD, Armijo and SGD across it.

One sigmoid unit ŷ = σ(w₁₁x₁ + w₁₂x₂) with its bias held at 0, squared error averaged over the
notes' four points (`mlpnet.datasets.four_points`): J depends on the two weights alone and can be
drawn.
The three methods start from the same point: gradient descent with the fixed step γ, SGD with the
same step on one randomly drawn point per step (seeded), and gradient descent with Armijo
backtracking from t₀ = 8γ (β = 0.5, σ = 10⁻⁴). All use `mlpnet.optim` on a real `Network`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlpnet
from mlpnet.datasets import four_points
from mlpnet.optim import SGD, Armijo, GradientDescent, as_objective

__all__ = ["loss_surface"]

W11, W12 = (-5.0, 3.0), (-3.0, 4.0)  # the drawn window, as in examples/loss_surface.py
SURFACE_GRID = 60
MAX_STEPS = 500


def _objective(unit: Any, X: np.ndarray, Y: np.ndarray) -> Any:
    """J on (X, Y) as a function of w = (w₁₁, w₁₂), the bias fixed at 0."""
    full = unit.objective(X, Y, "squared_error")

    def value_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        J, grad = full(np.append(w, 0.0))
        return J, grad[:2].copy()

    return as_objective(value_and_gradient, lambda w: full.value(np.append(w, 0.0)))


def loss_surface(
    lr: float = 1.0, start: tuple[float, float] = (1.0, 2.0), steps: int = 100, seed: int = 0
) -> dict[str, Any]:
    """J over a SURFACE_GRID² grid of (w₁₁, w₁₂), and the three methods' paths from `start`.

    Returns
    -------
    dict
        ``w11``, ``w12`` (the window), ``J`` (rows from w₁₂ high to low, rounded), and ``paths``:
        name → ``{"w": [[w₁₁, w₁₂], …], "J": [J, …]}`` with ``steps + 1`` points each.
    """
    if not (np.isfinite(lr) and 0.0 < lr <= 100.0):
        raise ValueError(f"learning rate must be in (0, 100], got {lr!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be 1 … {MAX_STEPS}, got {steps!r}")
    start_w = np.asarray(start, dtype=np.float64)
    if start_w.shape != (2,) or not np.all(np.isfinite(start_w)) or np.abs(start_w).max() > 10:
        raise ValueError(f"start must be two numbers in [-10, 10], got {start!r}")
    X, y = four_points()
    Y = y.reshape(-1, 1)
    unit = mlpnet.Network([2, 1], output_activation="sigmoid", dtype="float64")
    everything = _objective(unit, X, Y)
    a = np.linspace(*W11, SURFACE_GRID)
    b = np.linspace(W12[1], W12[0], SURFACE_GRID)
    # the whole grid in one forward pass: Z = w₁₁x₁ + w₁₂x₂ for every (w, sample) pair
    A, B = np.meshgrid(a, b)
    Z = A[..., None] * X[:, 0] + B[..., None] * X[:, 1]
    J = np.mean((1.0 / (1.0 + np.exp(-Z)) - Y[:, 0]) ** 2, axis=-1)
    rng = np.random.default_rng(seed)
    online = [_objective(unit, X[i : i + 1], Y[i : i + 1]) for i in range(len(X))]
    methods = {
        "GD": (GradientDescent(lr=lr), False),
        "Armijo": (Armijo(lr0=8.0 * lr, beta=0.5), False),
        "SGD": (SGD(lr=lr), True),
    }
    paths = {}
    for name, (optimizer, stochastic) in methods.items():
        w = start_w.copy()
        visited, losses = [w.copy()], [everything.value(w)]
        for _ in range(steps):
            objective = online[rng.integers(len(X))] if stochastic else everything
            value, grad = objective(w)
            optimizer.step(w, value, grad, objective)
            visited.append(w.copy())
            losses.append(everything.value(w))
        paths[name] = {"w": np.round(visited, 4).tolist(), "J": np.round(losses, 5).tolist()}
    return {"w11": W11, "w12": W12, "n": SURFACE_GRID, "J": np.round(J, 4).tolist(), "paths": paths}
