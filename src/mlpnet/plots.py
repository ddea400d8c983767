"""Figures of the lecture notes: training curves, decision regions, 1-D fits, loss surfaces.

Every function draws plain arrays and callables (it imports no other mlpnet module), returns the
matplotlib `~matplotlib.figure.Figure`, and writes it to `path` when one is given (PNG unless the
suffix names another format). Figures are built on `matplotlib.figure.Figure` with the Agg canvas,
never through ``pyplot``, so nothing global changes, no window opens and no display is needed.
Pass ``ax`` (or ``axes``) to draw into a figure of your own instead.

matplotlib is optional for mlpnet: it is imported when a function is called, and an `ImportError`
says how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "plot_decision_boundary",
    "plot_function_fit",
    "plot_function_fits",
    "plot_grad_norms",
    "plot_loss_surface",
    "plot_training_curves",
]

Figure = Any  # matplotlib.figure.Figure; matplotlib is imported lazily
Axes = Any  # matplotlib.axes.Axes
PathLike = str | os.PathLike[str]
GridFunction = Callable[[np.ndarray], ArrayLike]
"""A callable on a batch of inputs, one row each, returning one row of outputs per input."""

_CURVE_KEYS = ("loss", "val_loss", "step_loss", "accuracy", "val_accuracy")


def plot_training_curves(
    history: Mapping[str, Any] | None = None,
    *,
    path: PathLike | None = None,
    axes: Sequence[Axes] | None = None,
    **series: Sequence[float],
) -> Figure:
    """Draw loss and error (1 − accuracy) over training, per step and per epoch.

    The left panel shows the training loss per optimizer step (thin line, its x scaled to epochs),
    per epoch, and the validation loss per epoch; the right one, drawn when accuracies are given,
    shows the classification error the same way, as in the notes' MNIST figures.

    Parameters
    ----------
    history : mapping, optional
        Lists by name, as ``History.as_dict()`` gives them: ``"loss"``, ``"val_loss"``,
        ``"step_loss"``, ``"accuracy"``, ``"val_accuracy"``; accuracies may also sit in nested
        ``"metrics"`` / ``"val_metrics"`` dicts. Other keys are ignored.
    path : str or path-like, optional
        Where to write the figure.
    axes : sequence of Axes, optional
        One or two axes to draw into (loss, error); by default a new figure.
    **series : sequence of float
        The same curves as keyword arguments; they override `history`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    curves = _flatten_history(history or {})
    curves.update({k: np.asarray(v, dtype=float).ravel() for k, v in series.items()})
    if not any(len(curves.get(k, ())) for k in _CURVE_KEYS):
        raise ValueError(
            f"nothing to plot: expected some of {', '.join(map(repr, _CURVE_KEYS))}; "
            f"got {', '.join(map(repr, sorted(curves))) or 'none'}"
        )
    has_accuracy = any(len(curves.get(k, ())) for k in _CURVE_KEYS[3:])
    if axes is None:
        fig, grid = _new_figure(
            1, 2 if has_accuracy else 1, size=(11.0 if has_accuracy else 6.0, 4.2)
        )
        axes = list(grid.ravel())
    else:
        axes = list(np.ravel(axes))
        fig = axes[0].figure
    n_epochs = max(len(curves.get("loss", ())), len(curves.get("val_loss", ())))
    _draw_curves(axes[0], curves, "loss", "loss", n_epochs, transform=lambda v: v)
    if has_accuracy and len(axes) > 1:
        _draw_curves(axes[1], curves, "accuracy", "error (1 − accuracy)", n_epochs, lambda v: 1 - v)
    return _finish(fig, path)


def plot_decision_boundary(
    predict_fn: GridFunction,
    X: ArrayLike,
    y: ArrayLike,
    hidden_fn: GridFunction | None = None,
    *,
    path: PathLike | None = None,
    ax: Axes | None = None,
    resolution: int = 200,
    margin: float = 0.5,
    hidden_level: float = 0.5,
) -> Figure:
    """Draw a 2-D classifier's decision regions, its samples, and optionally its hidden units.

    Parameters
    ----------
    predict_fn : callable
        ``(m, 2) -> (m,)`` labels, ``(m,)`` or ``(m, 1)`` probabilities of class 1 (cut at 0.5,
        and the 0.5 contour drawn), or ``(m, K)`` scores (the largest wins).
    X : array_like of shape (n, 2)
        The samples.
    y : array_like of shape (n,), (n, 1) or (n, K)
        Their labels, 0/1 targets or one-hot rows.
    hidden_fn : callable, optional
        ``(m, 2) -> (m, H)``: the hidden layer's outputs; each unit's `hidden_level` contour is
        drawn dashed (the line where the unit switches, for a sigmoid or step unit).
    path : str or path-like, optional
        Where to write the figure.
    ax : Axes, optional
        Axes to draw into; by default a new figure.
    resolution : int, default 200
        Grid points per axis.
    margin : float, default 0.5
        How far the grid reaches beyond the samples.
    hidden_level : float, default 0.5
        The contour level drawn for each hidden unit (0 suits tanh units).

    Returns
    -------
    matplotlib.figure.Figure
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) for a decision boundary, got {X.shape}")
    labels = _labels(y)
    if len(labels) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(labels)}")
    fig, ax = _figure_and_axes(ax)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    g1, g2 = np.meshgrid(*(np.linspace(lo[i], hi[i], resolution) for i in range(2)))
    G = np.column_stack([g1.ravel(), g2.ravel()])
    out = np.asarray(predict_fn(G), dtype=float)
    if out.ndim == 2 and out.shape[1] > 1:
        region = out.argmax(axis=1)
    else:
        out = out.ravel()
        integral = np.all(out == np.round(out))
        region = out.astype(int) if integral else (out >= 0.5).astype(int)
        if not integral:
            _contour(ax, g1, g2, out.reshape(g1.shape), 0.5, color="k", style="-")
    n_classes = int(max(region.max(initial=0), labels.max(initial=0))) + 1
    ax.contourf(
        g1,
        g2,
        region.reshape(g1.shape),
        levels=np.arange(n_classes + 1) - 0.5,
        colors=[f"C{c}" for c in range(n_classes)],
        alpha=0.25,
    )
    for c in np.unique(labels):
        mask = labels == c
        ax.scatter(X[mask, 0], X[mask, 1], s=18, color=f"C{c}", edgecolors="k", label=f"class {c}")
    if hidden_fn is not None:
        H = np.asarray(hidden_fn(G), dtype=float).reshape(len(G), -1)
        for j in range(H.shape[1]):
            _contour(ax, g1, g2, H[:, j].reshape(g1.shape), hidden_level, color=f"C{j + 2}")
            ax.plot([], [], "--", color=f"C{j + 2}", label=f"hidden unit {j + 1}")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def plot_function_fit(
    x: ArrayLike,
    y: ArrayLike,
    predict_fn: GridFunction,
    unit_contributions: GridFunction | None = None,
    *,
    path: PathLike | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
) -> Figure:
    """Draw a 1-D fit: samples, the network's curve and, dashed, each hidden unit's contribution.

    Parameters
    ----------
    x, y : array_like of shape (n,) or (n, 1)
        The samples.
    predict_fn : callable
        ``(m, 1) -> (m, 1)`` or ``(m,)``: the network.
    unit_contributions : callable, optional
        ``(m, 1) -> (m, H)``: what each hidden unit adds to the output (e.g. its activation times
        its output weight, or the activation alone as in the notes' figure).
    path : str or path-like, optional
        Where to write the figure.
    ax : Axes, optional
        Axes to draw into; by default a new figure.
    title : str, optional
        Title of the panel.
    resolution : int, default 200
        Points on the drawn curves.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _figure_and_axes(ax)
    _draw_function_fit(ax, x, y, predict_fn, unit_contributions, title, resolution)
    return _finish(fig, path)


def plot_function_fits(
    fits: Mapping[str, Sequence[Any]],
    *,
    path: PathLike | None = None,
    ncols: int = 2,
    resolution: int = 200,
) -> Figure:
    """Draw several 1-D fits side by side, as the notes' x², sin, |x| and step figure.

    Parameters
    ----------
    fits : mapping of str to tuple
        Title → ``(x, y, predict_fn)`` or ``(x, y, predict_fn, unit_contributions)``, each as for
        `plot_function_fit`.
    path : str or path-like, optional
        Where to write the figure.
    ncols : int, default 2
        Panels per row.
    resolution : int, default 200
        Points on the drawn curves.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not fits:
        raise ValueError("fits is empty: give at least one title -> (x, y, predict_fn)")
    ncols = min(ncols, len(fits))
    nrows = -(-len(fits) // ncols)
    fig, grid = _new_figure(nrows, ncols, size=(4.5 * ncols, 3.5 * nrows))
    for ax, (title, fit) in zip(grid.ravel(), fits.items(), strict=False):
        if not 3 <= len(fit) <= 4:
            raise ValueError(
                f"fits[{title!r}] must be (x, y, predict_fn[, unit_contributions]), "
                f"got {len(fit)} items"
            )
        _draw_function_fit(ax, *fit[:3], fit[3] if len(fit) == 4 else None, title, resolution)
    for ax in grid.ravel()[len(fits) :]:
        ax.set_axis_off()
    return _finish(fig, path)


def plot_loss_surface(
    loss_fn: Callable[[float, float], float],
    w1_range: tuple[float, float],
    w2_range: tuple[float, float],
    paths: Mapping[str, ArrayLike] | None = None,
    *,
    path: PathLike | None = None,
    ax: Axes | None = None,
    resolution: int = 60,
    levels: int = 30,
    labels: tuple[str, str] = ("$w_{11}$", "$w_{12}$"),
) -> Figure:
    """Draw the contours of a loss over two weights, with optimizers' paths on it.

    Parameters
    ----------
    loss_fn : callable
        ``(w1, w2) -> float``: the loss with the two weights set (everything else fixed).
    w1_range, w2_range : (float, float)
        The window, low and high, of each weight.
    paths : mapping of str to array_like of shape (k, 2), optional
        Optimizer name → the weights it visited, in order; drawn as lines from a circle (start)
        to a star (end).
    path : str or path-like, optional
        Where to write the figure.
    ax : Axes, optional
        Axes to draw into; by default a new figure.
    resolution : int, default 60
        Grid points per axis (``loss_fn`` is called resolution² times).
    levels : int, default 30
        Number of contour levels.
    labels : (str, str)
        Axis labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _figure_and_axes(ax)
    w1 = np.linspace(*w1_range, resolution)
    w2 = np.linspace(*w2_range, resolution)
    J = np.array([[float(loss_fn(a, b)) for a in w1] for b in w2])
    filled = ax.contourf(w1, w2, J, levels=levels, cmap="viridis")
    ax.contour(w1, w2, J, levels=filled.levels, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="loss")
    for k, (name, visited) in enumerate((paths or {}).items()):
        P = np.asarray(visited, dtype=float).reshape(-1, 2)
        color = f"C{(k + 1) % 10}"
        ax.plot(P[:, 0], P[:, 1], ".-", color=color, lw=1.2, ms=3, label=name)
        ax.plot(*P[0], "o", color=color, mec="k")
        ax.plot(*P[-1], "*", color=color, mec="k", ms=12)
    ax.set(xlabel=labels[0], ylabel=labels[1], xlim=w1_range, ylim=w2_range)
    if paths:
        ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def plot_grad_norms(
    per_layer: ArrayLike,
    *,
    path: PathLike | None = None,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
) -> Figure:
    """Draw each layer's gradient norm over training on a log scale (vanishing gradients show).

    Parameters
    ----------
    per_layer : array_like of shape (n_epochs, L) or (n_epochs,)
        ‖∇_{W_l} J‖ (or any per-layer norm) for each epoch and layer l = 1 … L.
    path : str or path-like, optional
        Where to write the figure.
    ax : Axes, optional
        Axes to draw into; by default a new figure.
    labels : sequence of str, optional
        One per layer; by default "layer 1", "layer 2", ….

    Returns
    -------
    matplotlib.figure.Figure
    """
    norms = np.asarray(per_layer, dtype=float)
    norms = norms.reshape(-1, 1) if norms.ndim == 1 else norms
    if norms.ndim != 2 or norms.size == 0:
        raise ValueError(f"per_layer must be a non-empty (epochs, layers) array, got {norms.shape}")
    labels = (
        list(labels) if labels is not None else [f"layer {l + 1}" for l in range(norms.shape[1])]
    )
    if len(labels) != norms.shape[1]:
        raise ValueError(f"{len(labels)} labels for {norms.shape[1]} layers")
    fig, ax = _figure_and_axes(ax)
    epochs = np.arange(1, len(norms) + 1)
    for column, label in zip(norms.T, labels, strict=True):
        ax.plot(epochs, column, marker="." if len(epochs) < 50 else None, label=label)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="gradient norm")
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def _new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.4, 4.8)):
    """Make a Figure on the Agg canvas (no pyplot) and its grid of axes, always 2-D."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
    except ImportError as exc:
        raise ImportError("mlpnet's plots need matplotlib: pip install matplotlib") from exc
    fig = MplFigure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return the given axes with their figure, or a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig, grid = _new_figure()
    return fig, grid[0, 0]


def _finish(fig: Figure, path: PathLike | None) -> Figure:
    """Write `fig` to `path` when one is given, and return it."""
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100)
    return fig


def _flatten_history(history: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Collect numeric lists by name, lifting nested metrics: metrics["accuracy"] → "accuracy"."""
    items = []
    for key, value in history.items():
        if key in ("metrics", "val_metrics") and isinstance(value, Mapping):
            prefix = "val_" if key == "val_metrics" else ""
            items += [(prefix + name, values) for name, values in value.items()]
        else:
            items.append((key, value))
    curves: dict[str, np.ndarray] = {}
    for key, value in items:
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
            try:
                curves.setdefault(key, np.asarray(value, dtype=float).ravel())
            except (TypeError, ValueError):  # not a curve (e.g. a list of names): not drawn
                continue
    return curves


def _draw_curves(
    ax: Axes,
    curves: Mapping[str, np.ndarray],
    name: str,
    ylabel: str,
    n_epochs: int,
    transform: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Draw per-step (scaled to epochs), per-epoch and validation curves of one quantity."""
    step = curves.get(f"step_{name}", np.empty(0))
    if len(step):
        scale = n_epochs / len(step) if n_epochs else 1.0
        x = np.arange(1, len(step) + 1) * scale
        ax.plot(x, transform(step), lw=0.6, alpha=0.5, color="C0", label="training (per step)")
    for key, label, color in ((name, "training", "C0"), (f"val_{name}", "validation", "C1")):
        values = curves.get(key, np.empty(0))
        if len(values):
            ax.plot(
                np.arange(1, len(values) + 1),
                transform(values),
                "o-",
                ms=3,
                color=color,
                label=label,
            )
    values = np.concatenate(
        [transform(curves.get(k, np.empty(0))) for k in (name, f"val_{name}", f"step_{name}")]
    )
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    ax.set(xlabel="epoch" if n_epochs else "step", ylabel=ylabel)
    ax.legend(loc="best", fontsize="small")


def _draw_function_fit(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    predict_fn: GridFunction,
    unit_contributions: GridFunction | None,
    title: str | None,
    resolution: int,
) -> None:
    """Draw samples, fitted curve and dashed unit contributions on one axes."""
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    grid = np.linspace(x.min(), x.max(), resolution).reshape(-1, 1)
    ax.plot(x, y, "o", ms=4, mfc="none", color="C0", label="data")
    ax.plot(
        grid[:, 0],
        np.asarray(predict_fn(grid), dtype=float).ravel(),
        "-",
        color="C3",
        label="network",
    )
    if unit_contributions is not None:
        U = np.asarray(unit_contributions(grid), dtype=float).reshape(len(grid), -1)
        palette = ["C1", "C2", "C4", "C5", "C6", "C7", "C8", "C9"]  # not the data's or fit's
        for j in range(U.shape[1]):
            color, label = palette[j % len(palette)], "hidden units" if j == 0 else None
            ax.plot(grid[:, 0], U[:, j], "--", lw=0.9, color=color, label=label)
    ax.set(xlabel="$x$", ylabel="$y$", title=title)
    ax.legend(loc="best", fontsize="small")


def _labels(y: ArrayLike) -> np.ndarray:
    """Return integer class labels from labels, 0/1 targets or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return np.rint(y.ravel()).astype(int)


def _contour(
    ax: Axes,
    g1: np.ndarray,
    g2: np.ndarray,
    F: np.ndarray,
    level: float,
    color: str,
    style: str = "--",
) -> None:
    """Draw the `level` contour of F, unless F never crosses it (matplotlib would warn)."""
    if np.nanmin(F) < level < np.nanmax(F):
        ax.contour(g1, g2, F, levels=[level], colors=[color], linestyles=style, linewidths=1.2)
