"""Algorithm 6.1 written against an array namespace ``xp`` only: the engine of non-NumPy backends.

The same formulas as `mlpnet.backprop` (rows are samples)::

    Z_l = Q_{l-1} W_lᵀ + b_l,  Q_l = ψ_l(Z_l),  δ_L = ∂J/∂Z_L,
    ∇W_l = δ_lᵀ Q_{l-1},  ∇b_l = Σ_rows δ_l,  δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1})

with ψ, ψ' and the (loss, δ_L) pairs re-written with array-API functions (no ``out=``, no in-place
tricks, no NumPy). θ is authoritative: (W_l, b_l) are re-sliced from it on every pass (slicing and
``reshape`` give views on PyTorch, CuPy and, in practice, array-api-strict, but the standard does
not promise views, so nothing relies on them), and ∇θ is written slot by slot into one flat buffer
laid out like θ (eq. 6.17). J comes back as a 0-d array on the device: nothing is read to the host
until a caller asks (``float(J)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from ._types import BatchObjective
from .losses import is_matched

__all__ = ["XpObjective", "backward", "forward", "loss_and_delta", "xp_activation"]


# ---------------------------------------------------------------- ψ and G ⊙ ψ'(Z), by name
def _sigmoid(xp: Any, z: Any) -> Any:
    e = xp.exp(-xp.abs(z))  # the stable form of `mlpnet.activations.sigmoid`
    return xp.where(z >= 0, xp.ones_like(e), e) / (1.0 + e)


def _softmax(xp: Any, Z: Any) -> Any:
    E = xp.exp(Z - xp.max(Z, axis=-1, keepdims=True))
    return E / xp.sum(E, axis=-1, keepdims=True)


def _where0(xp: Any, cond: Any, x: Any) -> Any:
    return xp.where(cond, x, xp.zeros_like(x))


_PSI: dict[str, Callable[..., Any]] = {
    "identity": lambda xp, z, a: z,
    "sigmoid": lambda xp, z, a: _sigmoid(xp, z),
    "tanh": lambda xp, z, a: xp.tanh(z),
    "softsign": lambda xp, z, a: z / (1.0 + xp.abs(z)),
    "relu": lambda xp, z, a: _where0(xp, z > 0, z),
    "leaky_relu": lambda xp, z, a: xp.where(z >= 0, z, a.slope * z),
    "heaviside": lambda xp, z, a: xp.astype(z >= 0, z.dtype),
    "softmax": lambda xp, z, a: _softmax(xp, z),
}
# G ⊙ ψ'(Z), from Z or from Q = ψ(Z) (whichever is cheaper, as in `mlpnet.activations`)
_BACKPROP: dict[str, Callable[..., Any]] = {
    "identity": lambda xp, Z, Q, G, a: G,
    "sigmoid": lambda xp, Z, Q, G, a: G * Q * (1.0 - Q),
    "tanh": lambda xp, Z, Q, G, a: G * (1.0 - Q * Q),
    "softsign": lambda xp, Z, Q, G, a: G / (1.0 + xp.abs(Z)) ** 2,
    "relu": lambda xp, Z, Q, G, a: _where0(xp, Z > 0, G),
    "leaky_relu": lambda xp, Z, Q, G, a: xp.where(Z >= 0, G, a.slope * G),
    "heaviside": lambda xp, Z, Q, G, a: xp.zeros_like(G),
    "softmax": lambda xp, Z, Q, G, a: Q * (G - xp.sum(G * Q, axis=1, keepdims=True)),
}


class xp_activation:  # noqa: N801 - a small adapter named like the functions it wraps
    """ψ and G ⊙ ψ' of a built-in activation object, against the namespace ``xp``."""

    def __init__(self, act: Any) -> None:
        name = getattr(act, "name", None)
        if name not in _PSI or type(act).__module__ != "mlpnet.activations":
            raise ValueError(
                f"array-API backends support the built-in activations only, got {act!r}"
            )
        self.act, self.name = act, name
        self._psi, self._backprop = _PSI[name], _BACKPROP[name]

    def __call__(self, xp: Any, Z: Any) -> Any:
        return self._psi(xp, Z, self.act)

    def backprop(self, xp: Any, Z: Any, Q: Any, G: Any) -> Any:
        return self._backprop(xp, Z, Q, G, self.act)


# ---------------------------------------------------------------- the passes
def views(xp: Any, theta: Any, sizes: Sequence[int]) -> list[tuple[Any, Any]]:
    """(W_l, b_l) sliced from θ (eq. 6.17): views where the library gives them, else copies."""
    out, at = [], 0
    for n_in, n_out in pairwise(sizes):
        W = xp.reshape(theta[at : at + n_out * n_in], (n_out, n_in))
        out.append((W, theta[at + n_out * n_in : at + n_out * (n_in + 1)]))
        at += n_out * (n_in + 1)
    return out


def forward(xp: Any, params: Sequence[tuple[Any, Any]], acts: Sequence[Any], X: Any) -> tuple:
    """``(Q, Z)``: Q_0 = X, Q_1, …, Q_L and Z_1, …, Z_L of Algorithm 6.1."""
    Q, Qs, Zs = X, [X], []
    for (W, b), act in zip(params, acts, strict=True):
        Z = Q @ W.T + b
        Q = act(xp, Z)
        Zs.append(Z)
        Qs.append(Q)
    return Qs, Zs


def _per_sample_loss(xp: Any, loss: Any, act: Any, Z: Any, Q: Any, Y: Any) -> Any:
    """ℓ for each row, from the logits for the matched pairs (log-sum-exp: finite for any Z)."""
    name = loss.name
    if name == "squared_error":
        return xp.sum((Q - Y) ** 2, axis=1)
    if name == "half_squared_error":
        return 0.5 * xp.sum((Q - Y) ** 2, axis=1)
    if name == "binary_cross_entropy":  # sigmoid output (check_pairing): Σ ln(1 + e^z) − y z
        return xp.sum(xp.logaddexp(xp.zeros_like(Z), Z) - Y * Z, axis=1)
    return _softmax_terms(xp, Z, Y)[0]  # softmax_cross_entropy and cross_entropy


def _softmax_terms(xp: Any, Z: Any, Y: Any) -> tuple[Any, Any, Any, Any]:
    """ℓ = lse(z) Σ_k y_k − Σ_k y_k z_k per row, with e^{z − m}, Σ e^{z − m} and Σ_k y_k kept.

    The softmax cross-entropies (identity logits, or a softmax output with cross_entropy), from
    the logits with the row maximum m taken out: finite for any Z. One exponential pass serves
    both ℓ and δ_L (as `SoftmaxCrossEntropy.value_and_delta`).
    """
    m = xp.max(Z, axis=1, keepdims=True)
    E = xp.exp(Z - m)
    s = xp.sum(E, axis=1, keepdims=True)
    w = xp.sum(Y, axis=1, keepdims=True)
    ell = ((xp.log(s) + m) * w - xp.sum(Y * Z, axis=1, keepdims=True))[:, 0]
    return ell, E, s, w


def loss_and_delta(xp: Any, loss: Any, act: Any, Z: Any, Q: Any, Y: Any) -> tuple[Any, Any]:
    """J (0-d, on the device) and δ_L = ∂J/∂Z_L with the 1/n of the mean (`backprop`'s rule).

    `Y` is a float matrix (n, n_L): integer labels are turned into one-hot rows when moved.
    """
    if loss.name not in _LOSSES:
        raise ValueError(f"array-API backends support the built-in losses only, got {loss!r}")
    if loss.name in ("softmax_cross_entropy", "cross_entropy"):  # matched (check_pairing)
        ell, E, s, w = _softmax_terms(xp, Z, Y)
        P = Q if act.name == "softmax" else E / s  # ŷ = softmax(z)
        delta = P * w - Y  # δ_L = ŷ Σ_k y_k − y (= ŷ − y for one-hot rows), as in losses.py
    else:
        ell = _per_sample_loss(xp, loss, act, Z, Q, Y)
        if is_matched(loss, act.act):  # sigmoid + binary cross-entropy: δ_L = ŷ − y
            delta = Q - Y
        else:
            delta = act.backprop(xp, Z, Q, _loss_gradient(xp, loss, Q, Y))
    return xp.mean(ell), delta * (1.0 / Z.shape[0])


_LOSSES = (
    "squared_error",
    "half_squared_error",
    "binary_cross_entropy",
    "softmax_cross_entropy",
    "cross_entropy",
)


def _loss_gradient(xp: Any, loss: Any, Q: Any, Y: Any) -> Any:
    """∂ℓ/∂ŷ of the losses that fit any output layer."""
    return 2.0 * (Q - Y) if loss.name == "squared_error" else Q - Y


def backward(
    xp: Any,
    params: Sequence[tuple[Any, Any]],
    acts: Sequence[Any],
    Qs: Sequence[Any],
    Zs: Sequence[Any],
    delta: Any,
    grad: Any,
) -> Any:
    """Backward recursion of Algorithm 6.1, each ∇W_l, ∇b_l written into its slot of `grad`."""
    ends = []
    at = 0
    for W, _ in params:
        ends.append((at, at + W.shape[0] * W.shape[1], at + W.shape[0] * (W.shape[1] + 1)))
        at = ends[-1][2]
    for l in range(len(params) - 1, -1, -1):
        a, m, e = ends[l]
        grad[a:m] = xp.reshape(delta.T @ Qs[l], (-1,))
        grad[m:e] = xp.sum(delta, axis=0)
        if l > 0:
            delta = acts[l - 1].backprop(xp, Zs[l - 1], Qs[l], delta @ params[l][0])
    return grad


# ---------------------------------------------------------------- J(θ) on fixed data
class XpObjective(BatchObjective):
    """`mlpnet.network.Objective` for a backend network: J and ∇J stay on the device.

    ``objective(θ)`` → ``(J, ∇J)`` with J a 0-d array and ∇J the network's reused buffer;
    ``objective.value(θ)`` → J (forward pass only); ``output`` is Ŷ of the latest evaluation.
    """

    on_host = False

    def __init__(self, net: Any, X: Any, Y: Any, loss: Any) -> None:
        self.net, self.X, self.Y, self.loss = net, X, Y, loss
        self.output: Any = None

    def _params(self, theta: Any) -> list[tuple[Any, Any]]:
        net = self.net
        if theta is not net.params:
            from .backends import asarray

            theta = asarray(theta, net.array_backend, net.dtype)
            if theta.shape != net.params.shape:
                raise ValueError(f"expected {net.n_params} parameters, got shape {theta.shape}")
        return views(net.array_backend.xp, theta, net.sizes)

    def __call__(self, theta: Any) -> tuple[Any, Any]:
        net = self.net
        xp, acts = net.array_backend.xp, net._xp_acts
        params = self._params(theta)
        Qs, Zs = forward(xp, params, acts, self.X)
        J, delta = loss_and_delta(xp, self.loss, acts[-1], Zs[-1], Qs[-1], self.Y)
        self.output = Qs[-1]
        return J, backward(xp, params, acts, Qs, Zs, delta, net.gradient_buffer[0])

    def value(self, theta: Any) -> Any:
        net = self.net
        xp, acts = net.array_backend.xp, net._xp_acts
        Qs, Zs = forward(xp, self._params(theta), acts, self.X)
        self.output = Qs[-1]
        return xp.mean(_per_sample_loss(xp, self.loss, acts[-1], Zs[-1], Qs[-1], self.Y))

    def release(self) -> None:
        """Nothing is kept between calls (for the fit loop's validation parts)."""
