"""Per-sample losses ℓ(ŷ, y), their derivatives ∂ℓ/∂ŷ, and the matched-pair output error δ_L.

The network's objective is the mean J = (1/n) Σ_i ℓ(ŷ_i, y_i) over the rows of a batch. The notes
derive the cross-entropies as maximum likelihood: Bernoulli outputs give the binary cross-entropy on
a sigmoid layer, categorical outputs the cross-entropy on a softmax layer. For these matched pairs
(and for softmax cross-entropy on identity logits) the output error collapses to

    δ_L = ∂ℓ/∂z_L = ŷ − y,

which we use directly: it is cheaper than the chain rule through ψ' and stays finite for any logits,
because the loss value itself is then computed from the logits z_L with log-sum-exp.

Targets Y are either a float matrix ``(n, n_L)`` or, for the softmax losses, integer class labels
``(n,)``: ``_onehot_dot(Z, Y)`` picks z_y for labels and forms Σ_k y_k z_k for rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._types import Array
from .activations import softmax

__all__ = [
    "LOSSES",
    "LOSS_FOR_OUTPUT",
    "OUTPUT_FOR_LOSS",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "HalfSquaredError",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "check_pairing",
    "get_loss",
    "is_matched",
]


def _logsumexp(Z: Array) -> Array:
    """Ln Σ_j e^{z_j} for each row, with the row maximum taken out (finite for any logits)."""
    m = Z.max(axis=1)
    return m + np.log(np.exp(Z - m[:, None]).sum(axis=1))


def _onehot_dot(Z: Array, Y: Array) -> Array:
    """Σ_k y_k z_k per row; for integer labels y that is z_{i, y_i}."""
    if Y.ndim == 1:
        return Z[np.arange(len(Y)), Y]
    return (Y * Z).sum(axis=1)


def _minus_targets(P: Array, Y: Array) -> Array:
    """P − Y where Y are integer labels (one-hot implied) or rows; P is overwritten."""
    if Y.ndim == 1:
        P[np.arange(len(Y)), Y] -= 1.0
    else:
        P -= Y
    return P


class _Loss:
    """Common attributes of the built-in losses."""

    name = ""
    pairs_with: str | None = None  # the output activation of the matched pair, if any
    is_classification = False
    accepts_labels = False  # integer class labels (n,) allowed as targets

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SquaredError(_Loss):
    """ℓ = Σ_k (y_k − ŷ_k)²,  ∂ℓ/∂ŷ = 2(ŷ − y). Fits any output activation."""

    name = "squared_error"

    def value(self, Yhat: Array, Y: Array) -> Array:
        return ((Yhat - Y) ** 2).sum(axis=1)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        return 2.0 * (Yhat - Y)


class HalfSquaredError(_Loss):
    """ℓ = ½‖ŷ − y‖²,  ∂ℓ/∂ŷ = ŷ − y. Fits any output activation."""

    name = "half_squared_error"

    def value(self, Yhat: Array, Y: Array) -> Array:
        return 0.5 * ((Yhat - Y) ** 2).sum(axis=1)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        return Yhat - Y


class BinaryCrossEntropy(_Loss):
    """ℓ = −Σ_k (y_k ln ŷ_k + (1 − y_k) ln(1 − ŷ_k)), on a sigmoid output layer.

    From the logits z (ŷ = σ(z)): ℓ = Σ_k ln(1 + e^{z_k}) − y_k z_k, and δ_L = σ(z) − y.
    """

    name = "binary_cross_entropy"
    pairs_with = "sigmoid"
    is_classification = True

    def value(self, Yhat: Array, Y: Array) -> Array:
        tiny = np.finfo(np.result_type(Yhat, np.float32)).tiny
        P = np.clip(Yhat, tiny, 1.0 - np.finfo(np.result_type(Yhat, np.float32)).epsneg)
        return -(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)).sum(axis=1)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        return (Yhat - Y) / (Yhat * (1.0 - Yhat))

    def value_from_logits(self, Z: Array, Y: Array) -> Array:
        return (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1)

    def output_delta(self, Z: Array, Q: Array, Y: Array) -> Array:
        return Q - Y  # σ(z) − y: the Bernoulli likelihood's matched pair


class SoftmaxCrossEntropy(_Loss):
    """ℓ = −z_y + ln Σ_j e^{z_j}, on an identity (logit) output layer; δ_L = softmax(z) − y.

    Targets: integer labels ``(n,)`` or one-hot (or probability) rows ``(n, K)``.
    """

    name = "softmax_cross_entropy"
    pairs_with = "identity"
    is_classification = True
    accepts_labels = True

    def value(self, Yhat: Array, Y: Array) -> Array:
        Y = np.asarray(Y)
        return _logsumexp(Yhat) * (1.0 if Y.ndim == 1 else Y.sum(axis=1)) - _onehot_dot(Yhat, Y)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        Y = np.asarray(Y)
        P = softmax(Yhat)
        if Y.ndim == 2:
            P *= Y.sum(axis=1, keepdims=True)
        return _minus_targets(P, Y)

    value_from_logits = value

    def output_delta(self, Z: Array, Q: Array, Y: Array) -> Array:
        return self.gradient(Z, Y)

    def value_and_delta(self, Z: Array, Q: Array, Y: Array) -> tuple[Array, Array]:
        """Per-sample ℓ and δ_L = softmax(z) − y from one exponential pass (the hot path)."""
        Y = np.asarray(Y)
        m = Z.max(axis=1, keepdims=True)
        P = np.exp(Z - m)
        s = P.sum(axis=1, keepdims=True)
        ell = (np.log(s) + m)[:, 0]
        if Y.ndim == 2:
            ell *= Y.sum(axis=1)
            P *= Y.sum(axis=1, keepdims=True) / s
        else:
            P /= s
        ell -= _onehot_dot(Z, Y)
        return ell, _minus_targets(P, Y)


class CrossEntropy(_Loss):
    """ℓ = −Σ_k y_k ln ŷ_k, on a softmax output layer; δ_L = ŷ − y (for targets summing to 1).

    Targets: integer labels ``(n,)`` or one-hot (or probability) rows ``(n, K)``.
    """

    name = "cross_entropy"
    pairs_with = "softmax"
    is_classification = True
    accepts_labels = True

    def value(self, Yhat: Array, Y: Array) -> Array:
        Y = np.asarray(Y)
        tiny = np.finfo(np.result_type(Yhat, np.float32)).tiny
        logP = np.log(np.maximum(Yhat, tiny))
        return -_onehot_dot(logP, Y)

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        Y = np.asarray(Y)
        tiny = np.finfo(np.result_type(Yhat, np.float32)).tiny
        if Y.ndim == 2:
            return -Y / np.maximum(Yhat, tiny)
        G = np.zeros_like(Yhat)
        rows = np.arange(len(Y))
        G[rows, Y] = -1.0 / np.maximum(Yhat[rows, Y], tiny)
        return G

    value_from_logits = SoftmaxCrossEntropy.value

    def output_delta(self, Z: Array, Q: Array, Y: Array) -> Array:
        return SoftmaxCrossEntropy.gradient(self, Z, Y)  # ŷ − y, ŷ = softmax(z)


class _UserLoss(_Loss):
    """Adapter for a user's loss object with ``value(Yhat, Y)`` and ``gradient(Yhat, Y)``."""

    def __init__(self, loss: Any) -> None:
        self._loss = loss
        self.name = str(getattr(loss, "name", type(loss).__name__))
        self.is_classification = bool(getattr(loss, "is_classification", False))

    def value(self, Yhat: Array, Y: Array) -> Array:
        return np.asarray(self._loss.value(Yhat, Y))

    def gradient(self, Yhat: Array, Y: Array) -> Array:
        return np.array(self._loss.gradient(Yhat, Y), dtype=Yhat.dtype)  # a copy we may overwrite

    def __repr__(self) -> str:
        return f"<user loss {self.name}>"


LOSSES = {
    cls.name: cls
    for cls in (
        SquaredError,
        HalfSquaredError,
        BinaryCrossEntropy,
        SoftmaxCrossEntropy,
        CrossEntropy,
    )
}
"""Name → loss class."""

OUTPUT_FOR_LOSS = {name: cls.pairs_with or "identity" for name, cls in LOSSES.items()}
"""Loss name → the output activation it is trained with: its ``pairs_with``, else identity."""

LOSS_FOR_OUTPUT = {
    cls.pairs_with: name for name, cls in LOSSES.items() if cls.pairs_with not in (None, "identity")
}
"""Output activation → the loss it pairs with, where that is unambiguous (sigmoid, softmax)."""


def get_loss(loss: Any) -> Any:
    """Resolve a loss name or a user's loss object (``value`` and ``gradient`` methods).

    Raises
    ------
    ValueError
        For an unknown name (listing the choices) or an object lacking ``value``/``gradient``.
    """
    if isinstance(loss, str):
        if loss.lower() not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
        return LOSSES[loss.lower()]()
    if isinstance(loss, _Loss):
        return loss
    if callable(getattr(loss, "value", None)) and callable(getattr(loss, "gradient", None)):
        return _UserLoss(loss)
    raise ValueError(
        f"loss must be a name from {sorted(LOSSES)} or an object with value(Yhat, Y) and "
        f"gradient(Yhat, Y); got {loss!r}"
    )


def check_pairing(loss: Any, output_activation: Any) -> None:
    """Refuse a cross-entropy on an output layer it does not fit, naming both.

    Raises
    ------
    ValueError
        E.g. "loss 'cross_entropy' needs a 'softmax' output layer, but the output activation is
        'sigmoid'".
    """
    want = getattr(loss, "pairs_with", None)
    have = getattr(output_activation, "name", repr(output_activation))
    if want is not None and want != have:
        raise ValueError(
            f"loss {loss.name!r} needs a {want!r} output layer, but the output activation is "
            f"{have!r}"
        )


def is_matched(loss: Any, output_activation: Any) -> bool:
    """Whether (output activation, loss) is a matched pair using δ_L = ŷ − y."""
    want = getattr(loss, "pairs_with", None)
    return want is not None and want == getattr(output_activation, "name", None)
