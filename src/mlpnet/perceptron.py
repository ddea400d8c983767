"""Rosenblatt's perceptron: one threshold unit ŷ = H(w·x + b) trained by the perceptron rule."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_count, check_positive, check_X
from ._types import Array

__all__ = ["Perceptron"]


class Perceptron:
    """Rosenblatt's perceptron on labels {0, 1}, with the Heaviside output H(0) = 1.

    The learning rule, for each sample in turn (an "epoch" visits every sample once)::

        ŷ = H(w·x + b),   w ← w + η (y − ŷ) x,   b ← b + η (y − ŷ)

    It changes θ = (w, b) only on mistakes and, on linearly separable data, stops making them after
    finitely many updates (Novikoff's theorem). θ starts at zero.

    Parameters
    ----------
    n_inputs : int
        Number of features.
    lr : float
        The step η > 0.
    seed : int or None
        With a seed the sample order is shuffled each epoch (a `numpy.random.Generator`); without
        one the samples are visited in the order given.

    Attributes
    ----------
    w : ndarray of shape (n_inputs,)
    b : float
    converged_ : bool
        True when the last epoch of `fit` made no mistakes.
    mistakes_ : list of int
        Number of updates in each epoch.
    """

    def __init__(self, n_inputs: int, lr: float = 1.0, seed: int | None = None) -> None:
        self.n_inputs = check_count("n_inputs", n_inputs)
        self.lr, self.seed = check_positive("lr", lr), seed
        self.w = np.zeros(self.n_inputs)
        self.b = 0.0
        self.converged_ = False
        self.mistakes_: list[int] = []

    @property
    def theta(self) -> Array:
        """θ = (w_1, …, w_n, b), the notes' parameter vector (a copy); assignable."""
        return np.append(self.w, self.b)

    @theta.setter
    def theta(self, value: ArrayLike) -> None:
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (self.n_inputs + 1,):
            raise ValueError(
                f"theta must have {self.n_inputs + 1} entries, got shape {value.shape}"
            )
        self.w, self.b = value[:-1].copy(), float(value[-1])

    def decision_function(self, X: ArrayLike) -> Array:
        """w·x + b for each sample."""
        X, one = check_X(X, self.n_inputs, np.float64)
        z = X @ self.w + self.b
        return z[0] if one else z

    def predict(self, X: ArrayLike) -> Array:
        """H(w·x + b) ∈ {0, 1} for each sample (H(0) = 1)."""
        return (np.asarray(self.decision_function(X)) >= 0).astype(np.int64)

    def fit(self, X: ArrayLike, y: ArrayLike, epochs: int = 100) -> Perceptron:
        """Apply the perceptron rule for up to `epochs` passes; stop after a pass with no mistakes.

        Warns (`RuntimeWarning`) when it has not converged: the data may not be separable.
        """
        X, _ = check_X(X, self.n_inputs, np.float64)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y must hold one label per sample: expected shape ({X.shape[0]},), got {y.shape}"
            )
        if not np.isin(y, (0, 1)).all():
            raise ValueError("perceptron labels must be 0 or 1")
        epochs = check_count("epochs", epochs)
        rng = np.random.default_rng(self.seed) if self.seed is not None else None
        self.mistakes_, self.converged_ = [], False
        for _ in range(epochs):
            order = rng.permutation(len(y)) if rng is not None else range(len(y))
            mistakes = 0
            for i in order:
                error = y[i] - (1 if X[i] @ self.w + self.b >= 0 else 0)
                if error:
                    self.w += self.lr * error * X[i]
                    self.b += self.lr * error
                    mistakes += 1
            self.mistakes_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        if not self.converged_:
            warnings.warn(
                f"perceptron did not converge in {epochs} epochs ({self.mistakes_[-1]} mistakes in "
                "the last); the data may not be linearly separable",
                RuntimeWarning,
                stacklevel=2,
            )
        return self

    def __repr__(self) -> str:
        return f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr}, seed={self.seed})"
