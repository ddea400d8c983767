"""Activation functions ψ and their derivatives ψ', each pair written side by side.

Every activation of the notes is here: Heaviside (Rosenblatt's threshold), identity, the logistic
sigmoid, tanh, softsign, ReLU and leaky ReLU, and softmax for an output layer. Each object offers

- ``act(z)``: ψ(z), elementwise (softmax: along each row),
- ``act.derivative(z)``: ψ'(z), elementwise (softmax: the Jacobian of each row),
- ``act.backprop(Z, Q, G)``: the product G ⊙ ψ'(Z) the backward recursion needs, given the cached
  pre-activations Z and outputs Q = ψ(Z) of the forward pass (some derivatives are cheaper from Q).

A user-defined activation is any object with ``__call__(z)`` and ``derivative(z)``, or a pair
``(f, df)``; `get_activation` wraps it so the network sees the same three methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._types import Array

__all__ = [
    "ACTIVATIONS",
    "Heaviside",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Softsign",
    "Tanh",
    "get_activation",
    "sigmoid",
    "softmax",
]


def sigmoid(z: Array) -> Array:
    """Logistic function σ(z) = 1 / (1 + e^{−z}).

    Written as 1 / (1 + e^{−|z|}) for z ≥ 0 and e^{−|z|} / (1 + e^{−|z|}) for z < 0: no overflow,
    and     full relative precision in both tails (½(1 + tanh(z/2)) would cancel to 0 for z ≪ 0).
    """
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def softmax(Z: Array) -> Array:
    """Row-wise softmax e^{z_k} / Σ_j e^{z_j}; the row maximum is subtracted first (no overflow)."""
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    E /= E.sum(axis=-1, keepdims=True)
    return E


class _Elementwise:
    """Base of the elementwise activations: ``backprop`` is G ⊙ ψ'(Z)."""

    name = ""

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        """G ⊙ ψ'(Z); `Q` = ψ(Z) from the forward pass may be used instead of Z.

        `G` is a temporary of the backward pass: implementations may overwrite it.
        """
        return G * self.derivative(Z)

    def derivative(self, z: Array) -> Array:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Heaviside(_Elementwise):
    """Heaviside step H(z) = 1 for z ≥ 0, else 0 (H(0) = 1, as in the notes: Rosenblatt's unit).

    Its derivative is 0 almost everywhere (and undefined at 0, where we also return 0), so no
    gradient flows through a Heaviside layer: backpropagation cannot train it. That is why the notes
    replace it by smooth sigmoids for gradient-based learning; the `Perceptron` trains it instead.
    """

    name = "heaviside"

    def __call__(self, z: Array) -> Array:
        return (np.asarray(z) >= 0).astype(np.result_type(z, np.float32))

    def derivative(self, z: Array) -> Array:
        return np.zeros_like(z)

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return np.zeros_like(G)


class Identity(_Elementwise):
    """Identity ψ(z) = z, ψ'(z) = 1: the output layer of regression and of logits."""

    name = "identity"

    def __call__(self, z: Array) -> Array:
        return z

    def derivative(self, z: Array) -> Array:
        return np.ones_like(z)

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return G


class Sigmoid(_Elementwise):
    """Logistic sigmoid σ(z) = 1 / (1 + e^{−z}),  σ'(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"

    def __call__(self, z: Array) -> Array:
        return sigmoid(z)

    def derivative(self, z: Array) -> Array:
        s = sigmoid(z)
        return s * (1.0 - s)

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return G * Q * (1.0 - Q)


class Tanh(_Elementwise):
    """Hyperbolic tangent,  tanh'(z) = 1 − tanh²(z)."""

    name = "tanh"

    def __call__(self, z: Array) -> Array:
        return np.tanh(z)

    def derivative(self, z: Array) -> Array:
        return 1.0 - np.tanh(z) ** 2

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return G * (1.0 - Q * Q)


class Softsign(_Elementwise):
    """Softsign z / (1 + |z|),  derivative 1 / (1 + |z|)²."""

    name = "softsign"

    def __call__(self, z: Array) -> Array:
        return z / (1.0 + np.abs(z))

    def derivative(self, z: Array) -> Array:
        return 1.0 / (1.0 + np.abs(z)) ** 2


class ReLU(_Elementwise):
    """Rectified linear unit max(0, z); ψ'(z) = 1 for z > 0, else 0 (we take ψ'(0) = 0)."""

    name = "relu"

    def __call__(self, z: Array) -> Array:
        return np.maximum(z, 0.0, dtype=np.result_type(z, np.float32))

    def derivative(self, z: Array) -> Array:
        return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return np.multiply(G, Z > 0, out=G)  # in place: G is the backward pass's temporary


class LeakyReLU(_Elementwise):
    """Leaky ReLU: z for z ≥ 0, slope·z for z < 0 (slope 0.01 by default); ψ'(0) = 1."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        self.slope = float(slope)

    def __call__(self, z: Array) -> Array:
        return np.where(z >= 0, z, self.slope * z)

    def derivative(self, z: Array) -> Array:
        return np.where(np.asarray(z) >= 0, 1.0, self.slope).astype(np.result_type(z, np.float32))

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return np.where(Z >= 0, G, self.slope * G)

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"


class Softmax:
    """Softmax s_k(z) = e^{z_k} / Σ_j e^{z_j}, row by row; for an output layer only.

    Not elementwise: its derivative is the Jacobian ∂s_i/∂z_j = s_i (δ_ij − s_j) of each row, so
    ``derivative(Z)`` returns shape ``(n, K, K)`` and ``backprop`` forms the product with it
    directly: Jᵀg = s ⊙ (g − ⟨s, g⟩).
    """

    name = "softmax"

    def __call__(self, z: Array) -> Array:
        return softmax(z)

    def derivative(self, z: Array) -> Array:
        s = softmax(np.atleast_2d(z))
        jac = np.einsum("ni,ij->nij", s, np.eye(s.shape[1], dtype=s.dtype))
        jac -= s[:, :, None] * s[:, None, :]
        return jac if np.ndim(z) > 1 else jac[0]

    def backprop(self, Z: Array, Q: Array, G: Array) -> Array:
        return Q * (G - (G * Q).sum(axis=1, keepdims=True))

    def __repr__(self) -> str:
        return "Softmax()"


class _UserActivation(_Elementwise):
    """Adapter for a user's activation: an object with ``__call__``/``derivative`` or an (f, df)."""

    def __init__(self, f: Callable[[Array], Array], df: Callable[[Array], Array], name: str):
        self._f, self._df, self.name = f, df, name

    def __call__(self, z: Array) -> Array:
        return np.asarray(self._f(z))

    def derivative(self, z: Array) -> Array:
        return np.asarray(self._df(z))

    def __repr__(self) -> str:
        return f"<user activation {self.name}>"


ACTIVATIONS: dict[str, Callable[[], Any]] = {
    "heaviside": Heaviside,
    "identity": Identity,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "softsign": Softsign,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
}
"""Name → activation class. ``"logistic"`` and ``"linear"`` are aliases."""

BUILTIN_TYPES = (Heaviside, Identity, Sigmoid, Tanh, Softsign, ReLU, LeakyReLU, Softmax)


def get_activation(activation: Any) -> Any:
    """Resolve a name, an activation object or an ``(f, df)`` pair to an activation object.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the choices) or an object without ψ and ψ'.
    """
    if isinstance(activation, str):
        key = activation.lower()
        if key not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}, "
                "an object with __call__(z) and derivative(z), or an (f, df) pair"
            )
        return ACTIVATIONS[key]()
    if isinstance(activation, BUILTIN_TYPES) or isinstance(activation, _UserActivation):
        return activation
    if isinstance(activation, tuple) and len(activation) == 2 and all(map(callable, activation)):
        f, df = activation
        return _UserActivation(f, df, getattr(f, "__name__", "custom"))
    if callable(activation) and callable(getattr(activation, "derivative", None)):
        name = getattr(activation, "name", type(activation).__name__)
        return _UserActivation(activation, activation.derivative, str(name))
    raise ValueError(
        f"activation must be a name from {sorted(ACTIVATIONS)}, an object with __call__(z) and "
        f"derivative(z), or an (f, df) pair; got {activation!r}"
    )


def activation_spec(act: Any) -> dict[str, Any]:
    """JSON-able description of a built-in activation (used when saving a network)."""
    if not isinstance(act, BUILTIN_TYPES):
        raise ValueError(f"cannot save the user-defined activation {act!r}: only built-ins by name")
    spec: dict[str, Any] = {"name": act.name}
    if isinstance(act, LeakyReLU):
        spec["slope"] = act.slope
    return spec


def activation_from_spec(spec: dict[str, Any]) -> Any:
    """Inverse of `activation_spec`."""
    act = get_activation(spec["name"])
    if isinstance(act, LeakyReLU) and "slope" in spec:
        act.slope = float(spec["slope"])
    return act
