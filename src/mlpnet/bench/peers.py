"""The peers: one epoch of SGD in mlpnet, a bare NumPy loop, PyTorch and scikit-learn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import mlpnet

from .measure import settings

__all__ = ["mlpnet_epoch", "numpy_epoch", "sklearn_epoch", "torch_epoch", "torch_model"]


def numpy_epoch(layers: list, X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> None:
    """The bare NumPy floor: forward, backward, in-place update, nothing else."""
    (W1, b1), (W2, b2) = layers
    for i in range(0, len(X), batch):
        Xb, yb = X[i : i + batch], y[i : i + batch]
        Z1 = Xb @ W1.T
        Z1 += b1
        Q1 = np.maximum(Z1, 0)
        Z2 = Q1 @ W2.T
        Z2 += b2
        P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(yb)), yb] -= 1
        P /= len(yb)
        D = P @ W2
        D *= Z1 > 0
        W2 -= lr * (P.T @ Q1)
        b2 -= lr * P.sum(axis=0)
        W1 -= lr * (D.T @ Xb)
        b1 -= lr * D.sum(axis=0)


def mlpnet_epoch(net: mlpnet.Network, X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> None:
    """What a user runs: ``net.fit`` for one epoch (no shuffling, no progress bar)."""
    net.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.optim.SGD(lr=lr),
        batch_size=batch,
        epochs=1,
        shuffle=False,
        progress=False,
        threads=settings.fit_threads,
    ).raise_if_interrupted()


def torch_model(torch: Any, layers: list) -> Any:
    """The reference network in PyTorch, starting from the same (W, b) as the others."""
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 200), torch.nn.ReLU(), torch.nn.Linear(200, 10)
    )
    with torch.no_grad():
        for module, (W, b) in zip((model[0], model[2]), layers, strict=True):
            module.weight.copy_(torch.from_numpy(W))
            module.bias.copy_(torch.from_numpy(b))
    return model


def torch_epoch(torch: Any, model: Any, opt: Any, Xt: Any, yt: Any, batch: int) -> None:
    """PyTorch's idiom: ``nn.Sequential`` + ``torch.optim.SGD``, one epoch in order."""
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(0, len(Xt), batch):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(Xt[i : i + batch]), yt[i : i + batch]).backward()
        opt.step()


def sklearn_epoch(X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> Callable[[], None] | None:
    """One epoch of scikit-learn's MLPClassifier (partial_fit), or None without scikit-learn."""
    try:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None

    def epoch() -> None:
        clf = MLPClassifier(
            (200,),
            solver="sgd",
            momentum=0.0,
            alpha=0.0,
            batch_size=batch,
            learning_rate_init=lr,
            max_iter=1,
            shuffle=False,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    return epoch
