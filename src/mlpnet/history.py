"""What a training run recorded: losses, metrics, gradient norms, step sizes and wall time.

`EpochLogs` holds one epoch's figures (what callbacks receive); `History` keeps lists of them, keyed
by name like Keras' ``History.history``, plus the per-step losses and step sizes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EpochLogs", "History"]


@dataclass(frozen=True)
class EpochLogs:
    """The figures of one finished epoch, as passed to `Callback.on_epoch_end`.

    Attributes
    ----------
    epoch : int
        0-based epoch index within this ``fit`` call.
    loss : float
        Training loss of the epoch: the mean of its mini-batch losses weighted by batch size (for a
        full batch, J at the start of the step; for L-BFGS, J after the iteration).
    grad_norm : float
        ‖∇J‖ of the epoch's last step (the full gradient for full-batch methods); NaN for
        derivative-free ones.
    seconds : float
        Wall time since ``fit`` started.
    layer_grad_norms : tuple of float
        ‖∇_{W_l, b_l} J‖ per layer, from the same gradient (empty if the model has no layer slices).
    val_loss : float or None
        J on the validation data at the end of the epoch.
    metrics, val_metrics : dict
        Name → value, e.g. ``{"accuracy": 0.93}`` for classification losses. The training
        accuracy is averaged over the epoch's batches like ``loss`` (each at the θ of its step,
        Keras' running figure); the validation one is at the end of the epoch.
    lr : float or None
        The step size of the epoch's last step, where it varies.
    """

    epoch: int
    loss: float
    grad_norm: float = math.nan
    seconds: float = 0.0
    layer_grad_norms: tuple[float, ...] = ()
    val_loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    val_metrics: dict[str, float] = field(default_factory=dict)
    lr: float | None = None

    def get(self, name: str) -> float | None:
        """Return the figure called ``name``: "loss", "val_loss", a metric or "val_" + a metric."""
        if name in ("loss", "val_loss", "grad_norm"):
            return getattr(self, name)
        if name.startswith("val_"):
            return self.val_metrics.get(name[4:])
        return self.metrics.get(name)


@dataclass(repr=False)
class History:
    """Lists of what `mlpnet.training.fit` recorded, one entry per epoch unless said otherwise.

    Attributes
    ----------
    loss : list of float
        Training loss per epoch (see `EpochLogs.loss`).
    step_loss : list of float
        J on the batch of every optimizer step.
    val_loss : list of float
        Validation loss per epoch (empty without validation data).
    metrics, val_metrics : dict of str to list of float
        "accuracy" on the training and validation data for classification losses (see
        `EpochLogs.metrics`).
    grad_norm : list of float
        ‖∇J‖ per epoch (see `EpochLogs.grad_norm`).
    layer_grad_norm : list of list of float
        Per epoch, ‖∇J‖ restricted to each layer's [vec(W_l), b_l]: vanishing or exploding
        gradients show as layers whose norms fall or grow apart.
    lr : list of float
        The step size of every step, where it varies (schedules, line searches); else empty.
    seconds : list of float
        Wall time since the start of ``fit`` at the end of each epoch.
    stop_reason : str or None
        Why training stopped: "epochs", "tol", "patience", "callback", "converged" (the optimizer's
        own test, L-BFGS), "interrupted" (Ctrl-C) or "diverged".
    """

    loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norm: list[list[float]] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stop_reason: str | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.loss)

    @property
    def interrupted(self) -> bool:
        """True when Ctrl-C stopped ``fit`` (``stop_reason == "interrupted"``).

        ``fit`` then returns normally, with θ of the last completed step, so that what was
        trained can be saved; the run is not complete. A program that trains several models
        checks this flag and stops (as ``mlpnet demo`` and the example scripts do, with exit
        status 130) instead of reporting the cut-short model's results as if it were done.
        """
        return self.stop_reason == "interrupted"

    def raise_if_interrupted(self) -> History:
        """Raise KeyboardInterrupt again if Ctrl-C stopped ``fit``; else return this history.

        For programs whose result is meaningless for a cut-short run (a benchmark, say):
        ``history = net.fit(...).raise_if_interrupted()``.
        """
        if self.interrupted:
            raise KeyboardInterrupt
        return self

    def append(self, logs: EpochLogs) -> None:
        """Record one epoch's figures."""
        self.loss.append(logs.loss)
        self.grad_norm.append(logs.grad_norm)
        self.layer_grad_norm.append(list(logs.layer_grad_norms))
        self.seconds.append(logs.seconds)
        if logs.val_loss is not None:
            self.val_loss.append(logs.val_loss)
        for name, value in logs.metrics.items():
            self.metrics.setdefault(name, []).append(value)
        for name, value in logs.val_metrics.items():
            self.val_metrics.setdefault(name, []).append(value)

    def as_dict(self) -> dict[str, Any]:
        """Everything as plain lists and dicts (copies), e.g. for ``json.dump``."""
        out: dict[str, Any] = {
            name: list(getattr(self, name))
            for name in ("loss", "step_loss", "val_loss", "grad_norm", "lr", "seconds")
        }
        out["layer_grad_norm"] = [list(row) for row in self.layer_grad_norm]
        out["metrics"] = {k: list(v) for k, v in self.metrics.items()}
        out["val_metrics"] = {k: list(v) for k, v in self.val_metrics.items()}
        out["stop_reason"] = self.stop_reason
        return out

    def __repr__(self) -> str:
        last = f", loss={self.loss[-1]:.4g}" if self.loss else ""
        val = f", val_loss={self.val_loss[-1]:.4g}" if self.val_loss else ""
        return f"History(epochs={self.epochs}{last}{val}, stop_reason={self.stop_reason!r})"

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Draw the loss, accuracy, gradient-norm and step-size curves; return the figure.

        Parameters
        ----------
        path : str or path-like, optional
            Save the figure there (format from the suffix, drawn with the non-interactive Agg
            canvas, no window); without it the figure comes from ``pyplot`` for showing.

        Raises
        ------
        ImportError
            If matplotlib is not installed ("pip install matplotlib").
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from exc
        panels = ["loss"] + ["accuracy"] * bool(self.metrics or self.val_metrics)
        panels += ["grad_norm"] * any(math.isfinite(g) for g in self.grad_norm)
        panels += ["lr"] * bool(self.lr)
        size = (4.5 * len(panels), 3.5)
        if path is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=size)
        else:
            fig = Figure(figsize=size)
        for ax, panel in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
            getattr(self, f"_draw_{panel}")(ax)
        fig.tight_layout()
        if path is not None:
            fig.savefig(os.fspath(path))
        return fig

    def _draw_loss(self, ax: Any) -> None:
        if self.step_loss and len(self.step_loss) > len(self.loss):
            per_epoch = len(self.step_loss) / max(len(self.loss), 1)
            steps = [(i + 1) / per_epoch for i in range(len(self.step_loss))]
            ax.plot(steps, self.step_loss, lw=0.5, alpha=0.4, label="step loss")
        epochs = range(1, self.epochs + 1)
        ax.plot(epochs, self.loss, marker=".", label="loss")
        if self.val_loss:
            ax.plot(epochs[: len(self.val_loss)], self.val_loss, marker=".", label="val_loss")
        if self.loss and min(self.loss) > 0:
            ax.set_yscale("log")
        ax.set(xlabel="epoch", title="loss")
        ax.legend()

    def _draw_accuracy(self, ax: Any) -> None:
        for prefix, table in (("", self.metrics), ("val_", self.val_metrics)):
            for name, values in table.items():
                ax.plot(range(1, len(values) + 1), values, marker=".", label=prefix + name)
        ax.set(xlabel="epoch", title="accuracy")
        ax.legend()

    def _draw_grad_norm(self, ax: Any) -> None:
        from .plots import plot_grad_norms  # the one drawing of per-layer norms (vanishing ∇)

        layers = len(self.layer_grad_norm[0]) if self.layer_grad_norm else 0
        per_layer = self.layer_grad_norm or [[]] * self.epochs
        columns = [[g, *norms] for g, norms in zip(self.grad_norm, per_layer, strict=True)]
        labels = ["‖∇J‖"] + [f"layer {l + 1}" for l in range(layers)]
        plot_grad_norms(columns, ax=ax, labels=labels)
        ax.set(title="gradient norm")

    def _draw_lr(self, ax: Any) -> None:
        ax.plot(range(len(self.lr)), self.lr)
        ax.set(xlabel="step k", title="step size γ_k")
