"""Weight initialisers: functions ``(rng, shape, dtype) -> array`` for W of shape (n_out, n_in).

``"normal"`` and ``"uniform"`` follow the notes, which draw every θ_i (biases too); the scaled
initialisers keep the variance of the pre-activations roughly constant through depth: Glorot &
Bengio (2010) for tanh/sigmoid ("xavier"), He et al. (2015) for ReLU ("he").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._types import Array

__all__ = ["INITIALIZERS", "get_initializer", "he", "normal", "small", "uniform", "xavier", "zeros"]

Initializer = Callable[[np.random.Generator, tuple[int, ...], Any], Array]


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """i.i.d. N(0, 1)."""
    return rng.standard_normal(shape).astype(dtype)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """i.i.d. U[0, 1)."""
    return rng.random(shape).astype(dtype)


def small(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """i.i.d. N(0, 0.01²)."""
    return (0.01 * rng.standard_normal(shape)).astype(dtype)


def xavier(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """U(−a, a) with a = √(6 / (n_in + n_out)) (Glorot & Bengio, 2010)."""
    n_out, n_in = shape
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, shape).astype(dtype)


def he(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """N(0, 2 / n_in) (He et al., 2015)."""
    n_in = shape[1]
    return (rng.standard_normal(shape) * np.sqrt(2.0 / n_in)).astype(dtype)


def zeros(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> Array:
    """All zeros (the units of a layer then stay identical: for tests and output layers only)."""
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "normal": normal,
    "uniform": uniform,
    "small": small,
    "xavier": xavier,
    "he": he,
    "zeros": zeros,
}
"""Name → initialiser."""

DRAWS_BIASES = frozenset({"normal", "uniform"})
"""Initialisers that also draw the biases (the notes draw every θ_i); the others start b at 0."""


def get_initializer(init: Any) -> tuple[Initializer, bool]:
    """Resolve a name or a callable to ``(initialiser, draws_biases)``.

    Raises
    ------
    ValueError
        For an unknown name (listing the choices) or a non-callable.
    """
    if isinstance(init, str):
        if init.lower() not in INITIALIZERS:
            raise ValueError(
                f"unknown init {init!r}; choose one of {sorted(INITIALIZERS)} or a callable "
                "(rng, shape, dtype) -> array"
            )
        return INITIALIZERS[init.lower()], init.lower() in DRAWS_BIASES
    if callable(init):
        return init, False
    raise ValueError(f"init must be a name from {sorted(INITIALIZERS)} or a callable; got {init!r}")
