"""The small problems of the lecture notes: XOR, four 1-D curves, two Gaussian classes, four points.

Every function returns NumPy arrays with one row per sample; the random ones draw from
``numpy.random.default_rng(seed)`` so a seed fixes them everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlpnet._types import Array

__all__ = ["CURVES", "curve", "four_points", "two_class", "xor"]

CURVES: dict[str, Callable[[Array], Array]] = {
    "square": np.square,
    "sin": lambda x: np.sin(np.pi * x),
    "abs": np.abs,
    "heaviside": lambda x: np.where(x >= 0.0, 1.0, 0.0),  # H(0) = 1, as in the notes
}
"""The target functions of `curve`, by name."""

# two_class: class 0 sits lower left, class 1 upper right; their covariances differ, so the Bayes
# boundary is a conic, not a line, and the clouds overlap enough that no classifier is perfect.
TWO_CLASS_MEANS = np.array([[-1.0, -0.5], [1.0, 0.5]])
TWO_CLASS_COVARIANCES = np.array([[[1.0, 0.3], [0.3, 0.6]], [[0.8, -0.3], [-0.3, 1.0]]])


def xor() -> tuple[Array, Array]:
    """Return the XOR problem: the four corners of the unit square and their exclusive or.

    Returns
    -------
    X : ndarray of shape (4, 2), float64
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.
    Y : ndarray of shape (4, 1), float64
        ``[[0], [1], [1], [0]]``.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.logical_xor(X[:, :1], X[:, 1:]).astype(np.float64)


def curve(name: str, n: int = 50, seed: int | None = None) -> tuple[Array, Array]:
    """Sample a function of one variable, for the notes' function-approximation figures.

    Parameters
    ----------
    name : {"square", "sin", "abs", "heaviside"}
        The target: x², sin(πx), |x| or H(x) (the Heaviside step with H(0) = 1).
    n : int, default 50
        Number of samples.
    seed : int, optional
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray of shape (n, 1), float64
        x drawn uniformly on (−1, 1), sorted ascending (so it plots as a line).
    Y : ndarray of shape (n, 1), float64
        The target evaluated at x.
    """
    if name not in CURVES:
        raise ValueError(f"unknown curve {name!r}; choose one of {', '.join(map(repr, CURVES))}")
    _check_count(n, "n", minimum=1)
    X = np.sort(np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 1)), axis=0)
    return X, CURVES[name](X).astype(np.float64)


def two_class(n: int = 200, seed: int | None = None) -> tuple[Array, np.ndarray]:
    """Two overlapping Gaussian classes in the plane.

    Class 0 is drawn from N(μ₀, Σ₀) with μ₀ = (−1, −0.5), Σ₀ = [[1, 0.3], [0.3, 0.6]]; class 1
    from N(μ₁, Σ₁) with μ₁ = (1, 0.5), Σ₁ = [[0.8, −0.3], [−0.3, 1]] (`TWO_CLASS_MEANS`,
    `TWO_CLASS_COVARIANCES`). The covariances differ, so the best boundary is curved.

    Parameters
    ----------
    n : int, default 200
        Number of samples, at least 2: ``n // 2`` of class 0 and the rest of class 1.
    seed : int, optional
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray of shape (n, 2), float64
        The points, classes shuffled together.
    y : ndarray of shape (n,), int64
        Labels 0 and 1.
    """
    _check_count(n, "n", minimum=2)
    rng = np.random.default_rng(seed)
    sizes = (n // 2, n - n // 2)
    X = np.concatenate(
        [
            rng.multivariate_normal(mean, cov, size=size)
            for mean, cov, size in zip(TWO_CLASS_MEANS, TWO_CLASS_COVARIANCES, sizes, strict=True)
        ]
    )
    y = np.repeat(np.array([0, 1], dtype=np.int64), sizes)
    order = rng.permutation(n)
    return X[order], y[order]


def four_points() -> tuple[Array, Array]:
    """Return the notes' four-point example D (the loss-surface figure).

    D = {((−3, −3), 1), ((−2, −2), 1), ((4, 4), 0), ((2, −5), 0)}. A single unit
    ŷ = σ(w₁₁x₁ + w₁₂x₂) without bias separates the two classes (w = (−1, 0) does), so its loss is
    a function of the two weights (w₁₁, w₁₂) alone and can be drawn as a surface.

    Returns
    -------
    X : ndarray of shape (4, 2), float64
        ``[[-3, -3], [-2, -2], [4, 4], [2, -5]]``.
    y : ndarray of shape (4,), float64
        ``[1, 1, 0, 0]``.
    """
    X = np.array([[-3.0, -3.0], [-2.0, -2.0], [4.0, 4.0], [2.0, -5.0]])
    return X, np.array([1.0, 1.0, 0.0, 0.0])


def _check_count(value: object, name: str, minimum: int) -> None:
    """Refuse a count that is not an integer ≥ `minimum`, quoting it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
