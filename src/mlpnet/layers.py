"""The fully-connected layer f_l(q) = ψ_l(W_l q + b_l) of the notes."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_count
from ._sampling import check_dropout
from ._types import Array
from .activations import get_activation
from .initializers import get_initializer

__all__ = ["Dense"]


class Dense:
    """A fully-connected layer q ↦ ψ(W q + b), W of shape ``(n_out, n_in)``, b ``(n_out,)``.

    On a batch whose rows are samples it computes Z = Q Wᵀ + b and ψ(Z) (Algorithm 6.1).

    Inside a `Network`, ``W`` and ``b`` are views into the network's parameter vector θ: writing
    ``layer.W[...]`` or assigning ``layer.W = A`` changes ``net.params`` and the reverse. A layer
    built on its own holds zeros until it joins a network; parameters you give it before then
    (assigned or written in place, anything not all zero) are kept, the others are initialised.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs n_{l-1} and of units n_l.
    activation : str, activation object or (f, df) pair
        ψ; see `mlpnet.activations`. Default ``"identity"``.
    init : str, callable or None
        Initialiser for W (see `mlpnet.initializers`); None lets the network choose.
    dropout : float, default 0.0
        Rate p (0 ≤ p < 1) of inverted dropout on this layer's output while training: each unit
        is kept with probability 1 − p and scaled by 1/(1 − p). Never applied by ``__call__`` or
        the network's ``predict``; refused on a network's output layer.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: Any = "identity",
        init: Any = None,
        dropout: float = 0.0,
    ):
        self.n_in, self.n_out = check_count("n_in", n_in), check_count("n_out", n_out)
        self.activation = get_activation(activation)
        if init is not None:
            get_initializer(init)  # refuse a bad name now, not when the network is built
        self.init = init
        self.dropout = check_dropout(dropout)
        own = np.zeros(self.n_out * (self.n_in + 1), dtype=np.float64)
        self._W = own[: self.n_out * self.n_in].reshape(self.n_out, self.n_in)
        self._b = own[self.n_out * self.n_in :]
        self._assigned = False

    @property
    def W(self) -> Array:
        """Weights W_l, shape ``(n_out, n_in)`` (a view into θ inside a network)."""
        return self._W

    @W.setter
    def W(self, value: ArrayLike) -> None:
        self._W[...] = _same_shape(value, self._W.shape, "W")
        self._assigned = True

    @property
    def b(self) -> Array:
        """Biases b_l, shape ``(n_out,)`` (a view into θ inside a network)."""
        return self._b

    @b.setter
    def b(self, value: ArrayLike) -> None:
        self._b[...] = _same_shape(value, self._b.shape, "b")
        self._assigned = True

    @property
    def has_parameters(self) -> bool:
        """Whether the user gave this layer parameters that a network must keep."""
        return self._assigned or bool(np.any(self._W) or np.any(self._b))

    def bind(self, W: Array, b: Array, keep: bool) -> None:
        """Make W and b views into a network's θ; copy the current values in when `keep`.

        Called by `mlpnet.Network` when it lays out θ (eq. 6.17), so that ``layer.W`` and
        ``layer.b`` stay views into ``net.params``.
        """
        if keep:
            W[...] = self._W
            b[...] = self._b
        self._W, self._b = W, b

    def __call__(self, Q: ArrayLike) -> Array:
        """ψ(Q Wᵀ + b) for a batch Q of rows (or one sample)."""
        Q = np.asarray(Q, dtype=self._W.dtype)
        return self.activation(Q @ self._W.T + self._b)

    def __repr__(self) -> str:
        act = getattr(self.activation, "name", repr(self.activation))
        drop = f", dropout={self.dropout!r}" if self.dropout else ""
        return f"Dense({self.n_in}, {self.n_out}, activation={act!r}{drop})"


def _same_shape(value: ArrayLike, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr
