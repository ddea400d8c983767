"""What `Network` does differently on an array-API backend: θ's home, data checks, dispatch.

`Network` keeps its NumPy fast paths; when ``net._backend`` is not NumPy (`mlpnet.backends`), its
``forward``, ``objective`` and the ``params`` setter call these functions instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _xp_engine as engine
from ._checks import check_X, check_Y
from .backends import Backend, asarray, is_backend_array, to_numpy

__all__ = ["attach", "check_data", "forward", "objective", "set_params"]


def attach(net: Any, backend: Backend) -> None:
    """Move θ (and the gradient buffer) to `backend`; layers' W, b become slices of the new θ.

    The values come from the NumPy θ the constructor drew, so every backend starts from the same
    θ for the same seed.
    """
    acts = [engine.xp_activation(a) for a in net._acts]  # refuses user-defined activations
    theta = asarray(to_numpy(net._theta), backend, net.dtype)
    xp = backend.xp
    net._backend, net._xp_acts = backend, acts
    net._theta = theta
    net._grad = xp.zeros_like(theta)
    net._views = engine.views(xp, theta, net.sizes)
    net._grad_views = engine.views(xp, net._grad, net.sizes)
    for layer, (W, b) in zip(net.layers, net._views, strict=True):
        layer.bind(W, b, False)


def set_params(net: Any, theta: Any) -> None:
    """``net.params = theta`` on a backend network: copied into θ on its device."""
    xp = net._backend.xp
    theta = asarray(theta, net._backend, net.dtype)
    if tuple(theta.shape) != tuple(net._theta.shape):
        raise ValueError(f"expected {net.n_params} parameters, got shape {tuple(theta.shape)}")
    if not bool(xp.all(xp.isfinite(theta))):
        raise ValueError("params contains NaN or infinity")
    net._theta[...] = theta


def _inputs(net: Any, X: Any) -> tuple[Any, bool]:
    """``(X on the device, was one sample)``: NumPy input checked on the host and moved once."""
    if is_backend_array(X, net._backend):
        return _check_rows(net, X)
    X, one = check_X(X, net.sizes[0], net.dtype)
    return asarray(X, net._backend), one


def _check_rows(net: Any, X: Any, name: str = "X") -> tuple[Any, bool]:
    """X already on the device: dtype, shape and finiteness checked there (one read)."""
    xp = net._backend.xp
    X = asarray(X, net._backend, net.dtype)
    one = X.ndim == 1
    if one:
        X = xp.reshape(X, (1, -1))
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] != net.sizes[0]:
        # the NumPy checks word every case; run them on a host copy of this (bad) input
        check_X(to_numpy(X), net.sizes[0], net.dtype, name)
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError(f"{name} contains NaN or infinity")
    return X, one


def check_data(net: Any, X: Any, Y: Any, loss: Any) -> tuple[Any, Any]:
    """Checked (X, Y) on the backend's device, Y as float rows (labels become one-hot rows).

    NumPy (or list) input is checked on the host by the NumPy rules and moved once; input already
    on the device is checked there.
    """
    backend = net._backend
    X, one = _inputs(net, X)
    if is_backend_array(Y, backend) and not one:
        Y = _device_targets(net, Y, X.shape[0], loss)
    else:
        Y = check_Y(to_numpy(Y), X.shape[0], net.sizes[-1], loss, net.dtype, one)
        if Y.ndim == 1:  # labels → one-hot rows: the engine's one target form
            Y = np.eye(net.sizes[-1], dtype=net.dtype)[Y]
        Y = asarray(Y, backend, net.dtype)
    return X, Y


def _device_targets(net: Any, Y: Any, n: int, loss: Any) -> Any:
    """Targets already on the device: labels → one-hot rows; shape, range and finiteness checked."""
    xp, K = net._backend.xp, net.sizes[-1]
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} samples but Y has {Y.shape[0]}")
    if Y.ndim == 1 and loss.accepts_labels:
        if xp.isdtype(Y.dtype, "real floating"):
            raise ValueError("class labels must be integers")
        lo, hi = int(xp.min(Y)), int(xp.max(Y))
        if lo < 0 or hi >= K:
            raise ValueError(f"labels must lie in 0 … {K - 1}, got {lo} … {hi}")
        classes = xp.arange(K, dtype=Y.dtype, device=Y.device)
        return xp.astype(Y[:, None] == classes[None, :], getattr(xp, net.dtype.name))
    if Y.ndim == 1 and K == 1:
        Y = xp.reshape(Y, (-1, 1))
    if Y.ndim != 2 or Y.shape[1] != K:
        raise ValueError(f"expected targets with {K} columns (one per output), got {Y.shape}")
    Y = asarray(Y, net._backend, net.dtype)
    if not bool(xp.all(xp.isfinite(Y))):
        raise ValueError("Y contains NaN or infinity")
    if loss.name == "binary_cross_entropy" and not bool(xp.all((Y >= 0) & (Y <= 1))):
        raise ValueError("binary_cross_entropy targets must lie in [0, 1]")
    return Y


def forward(net: Any, X: Any) -> Any:
    """Ŷ = f(X) on the device; NumPy input is moved first, a 1-D X gives a 1-D result."""
    X, one = _inputs(net, X)
    xp = net._backend.xp
    Qs, _ = engine.forward(xp, engine.views(xp, net._theta, net.sizes), net._xp_acts, X)
    return Qs[-1][0, ...] if one else Qs[-1]


def objective(net: Any, X: Any, Y: Any, loss: Any, check: bool) -> engine.XpObjective:
    """J on (X, Y) as a function of θ; with ``check=False`` (X, Y) are trusted as they are."""
    if check:
        X, Y = check_data(net, X, Y, loss)
    return engine.XpObjective(net, X, Y, loss)
