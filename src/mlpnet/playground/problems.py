"""The playground's problems, its per-session limits and the checked configuration of one run.

Nothing here needs Starlette: the data sets, `Config.parse` (which turns the page's form values into
a network, a loss and an optimizer, or raises ``ValueError`` with a message the page shows) and the
script that `export_script` writes only use NumPy and mlpnet, so the exported script runs wherever
mlpnet does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from mlpnet._types import Array
from mlpnet.datasets import CURVES, curve, four_points, two_class, xor

__all__ = ["DATASETS", "OPTIMIZERS", "Config", "Limits", "circles", "dataset", "spiral"]

CLASSIFICATION = ("xor", "two_class", "four_points", "circles", "spiral")
DATASETS = CLASSIFICATION + tuple(CURVES)
"""The page's data sets: the notes' plane problems, two harder ones, Figure 5.3's four curves."""
ACTIVATIONS = ("relu", "tanh", "logistic", "softsign", "leaky_relu", "identity")
OPTIMIZERS = (
    "gd",
    "armijo",
    "exact_line_search",
    "sgd",
    "momentum",
    "adam",
    "lbfgs",
    "random_search",
)
LOSSES = {"classification": ("binary_cross_entropy", "squared_error"), "curve": ("squared_error",)}


@dataclass(frozen=True)
class Limits:
    """What one browser tab may ask for; a request beyond a limit is refused with a message."""

    max_hidden_layers: int = 6
    max_units: int = 32
    max_samples: int = 2000
    max_epochs_per_second: float = 1000.0
    max_sessions: int = 16
    frames_per_second: float = 25.0


def circles(n: int = 200, noise: float = 0.08, seed: int | None = None) -> tuple[Array, Array]:
    """A disc (class 1, radius < 0.5) inside a ring (class 0, radius 0.7 … 1), with noise."""
    rng = np.random.default_rng(seed)
    inner = n // 2
    radius = np.concatenate([rng.uniform(0.0, 0.5, inner), rng.uniform(0.7, 1.0, n - inner)])
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape)
    y = np.concatenate([np.ones(inner), np.zeros(n - inner)])
    return X, y.reshape(-1, 1)


def spiral(n: int = 200, noise: float = 0.04, seed: int | None = None) -> tuple[Array, Array]:
    """Two interleaved arms r = t, φ = 3.5πt (+π for class 1), t ∈ (0.05, 1), with noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, n)
    angle = 3.5 * np.pi * t + np.pi * labels
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape)
    return X, labels.astype(np.float64).reshape(-1, 1)


def dataset(name: str, n: int = 200, seed: int | None = 0) -> tuple[Array, Array]:
    """The data set `name` of `DATASETS` as (X, Y) with Y of shape (N, 1); n for the random ones."""
    if name == "xor":
        return xor()
    if name == "four_points":
        X, y = four_points()
        return X, y.reshape(-1, 1)
    if name == "two_class":
        X, y = two_class(n, seed=seed)
        return X, y.astype(np.float64).reshape(-1, 1)
    if name == "circles":
        return circles(n, seed=seed)
    if name == "spiral":
        return spiral(n, seed=seed)
    if name in CURVES:
        return curve(name, n=n, seed=seed)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


@dataclass(frozen=True)
class Config:
    """One run's settings, checked against the `Limits`; `parse` builds it from the page's form."""

    dataset: str = "xor"
    hidden: tuple[int, ...] = (8, 8)
    activations: tuple[str, ...] = ("tanh", "tanh")
    loss: str = "binary_cross_entropy"
    optimizer: str = "gd"
    lr: float = 0.5
    batch_size: int | None = None
    samples: int = 200
    seed: int = 0

    @property
    def kind(self) -> str:
        """``"plane"`` for the two-feature classification sets, ``"curve"`` for the 1-D curves."""
        return "plane" if self.dataset in CLASSIFICATION else "curve"

    @property
    def sizes(self) -> list[int]:
        """``[n_0, n_1, …, n_L]``."""
        return [2 if self.kind == "plane" else 1, *self.hidden, 1]

    @property
    def output_activation(self) -> str:
        """Sigmoid for the classes (ŷ is P(class 1)), identity for the curves."""
        return "sigmoid" if self.kind == "plane" else "identity"

    @classmethod
    def parse(cls, form: dict[str, Any], limits: Limits, base: Config | None = None) -> Config:
        """Check the page's values (strings or numbers; missing ones keep `base`'s) → a Config.

        ``layers`` is a comma-separated list of hidden sizes, each optionally ``size:activation``
        (``"8:relu,8:tanh"``) to give a layer its own ψ; ``activation`` is the default ψ.

        Raises
        ------
        ValueError
            Naming the field, the value and the allowed range, for the page to show.
        """
        base = base or cls()
        get = lambda key, default: form.get(key, default)  # noqa: E731
        name = str(get("dataset", base.dataset))
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
        activation = str(get("activation", base.activations[0] if base.activations else "tanh"))
        _choose("activation", activation, ACTIVATIONS)
        hidden, acts = _parse_layers(get("layers", None), activation, base, limits)
        optimizer = str(get("optimizer", base.optimizer))
        _choose("optimizer", optimizer, OPTIMIZERS)
        lr = _number("learning rate", get("lr", base.lr), float)
        if not (math.isfinite(lr) and 0.0 < lr <= 100.0):
            raise ValueError(f"learning rate must be a number in (0, 100], got {lr:g}")
        batch = get("batch_size", base.batch_size)
        batch_size = None if batch in (None, "", "full") else _number("batch size", batch, int)
        if batch_size is not None and not 1 <= batch_size <= limits.max_samples:
            raise ValueError(f"batch size must be 1 … {limits.max_samples} or empty, got {batch}")
        samples = _number("samples", get("samples", base.samples), int)
        if not 4 <= samples <= limits.max_samples:
            raise ValueError(
                f"samples must be 4 … {limits.max_samples} (the per-session limit), got {samples}"
            )
        seed = _number("seed", get("seed", base.seed), int)
        if not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer in 0 … 2**32 - 1, got {seed}")
        kind = "plane" if name in CLASSIFICATION else "curve"
        loss = str(get("loss", base.loss))
        _choose("loss", loss, LOSSES["classification"])
        if loss not in LOSSES[kind if kind == "curve" else "classification"]:
            raise ValueError(f"{loss} needs targets 0 or 1; a curve is fitted with squared_error")
        return cls(name, hidden, acts, loss, optimizer, lr, batch_size, samples, seed)

    def data(self) -> tuple[Array, Array]:
        """(X, Y) of this run, drawn with its seed."""
        return dataset(self.dataset, self.samples, self.seed)

    def network(self) -> Any:
        """A fresh `mlpnet.Network` (float64) with this architecture, θ drawn from the seed."""
        from mlpnet import Dense, Network

        sizes = self.sizes
        acts = [*self.activations, self.output_activation]
        layers = [Dense(sizes[i], sizes[i + 1], acts[i]) for i in range(len(acts))]
        return Network(layers, seed=self.seed, dtype="float64")

    def make_optimizer(self) -> Any:
        """The optimizer object for the form's name and learning rate.

        The learning rate is t₀ for Armijo and the step scale s for random search; sgd uses the
        notes' γ_k = γ₀/(k+1).
        """
        from mlpnet import optim, schedules

        lr, name = self.lr, self.optimizer
        made = {
            "gd": lambda: optim.GradientDescent(lr=lr),
            "armijo": lambda: optim.Armijo(lr0=lr),
            "exact_line_search": lambda: optim.ExactLineSearch(),
            "sgd": lambda: optim.SGD(lr=schedules.inverse_time(lr)),
            "momentum": lambda: optim.SGD(lr=lr, momentum=0.9),
            "adam": lambda: optim.Adam(lr=lr),
            "lbfgs": lambda: optim.LBFGS(),
            "random_search": lambda: optim.RandomSearch(scale=lr, seed=self.seed),
        }
        return made[name]()

    def optimizer_source(self) -> str:
        """The Python expression `make_optimizer` evaluates, for the exported script."""
        lr, name = self.lr, self.optimizer
        return {
            "gd": f"optim.GradientDescent(lr={lr!r})",
            "armijo": f"optim.Armijo(lr0={lr!r})",
            "exact_line_search": "optim.ExactLineSearch()",
            "sgd": f"optim.SGD(lr=schedules.inverse_time({lr!r}))",
            "momentum": f"optim.SGD(lr={lr!r}, momentum=0.9)",
            "adam": f"optim.Adam(lr={lr!r})",
            "lbfgs": "optim.LBFGS()",
            "random_search": f"optim.RandomSearch(scale={lr!r}, seed={self.seed})",
        }[name]

    def as_form(self) -> dict[str, Any]:
        """The values the page shows for this config (inverse of `parse`)."""
        layers = ",".join(
            f"{n}" if a == self.activations[0] else f"{n}:{a}"
            for n, a in zip(self.hidden, self.activations, strict=True)
        )
        return {
            "dataset": self.dataset,
            "layers": layers,
            "activation": self.activations[0] if self.activations else "tanh",
            "loss": self.loss,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "samples": self.samples,
            "seed": self.seed,
        }


class Segment(NamedTuple):
    """One run of the session's worker: `epochs` epochs of ``fit`` from `seed` with `optimizer`."""

    config: Config
    epochs: int
    seed: int
    optimizer: Any  # the session's optimizer object: a new one starts where the user changed it


def export_script(config: Config, epochs: int, segments: Sequence[Segment] = ()) -> str:
    """A short Python script that trains the same network the same way; it reproduces θ.

    The session trains in runs (start … pause, step): each is one ``fit`` call seeded with the
    epoch it began at, continuing one optimizer until the user changes it. The script replays
    those `segments` as they ran, so a paused mini-batch run visits the same rows in the same
    order; without segments (nothing trained yet) it trains `epochs` (at least 1) epochs.
    """
    sizes = config.sizes
    acts = [*config.activations, config.output_activation]
    layers = ",\n    ".join(
        f"Dense({sizes[i]}, {sizes[i + 1]}, {acts[i]!r})" for i in range(len(acts))
    )
    if not segments:
        segments = [Segment(config, max(epochs, 1), config.seed, None)]
    runs, total, previous = [], 0, object()
    for segment in segments:  # one block per optimizer: its runs as (epochs, seed) pairs
        if segment.optimizer is not previous:  # a changed setting brings a new optimizer
            runs.append((segment.config, []))
            previous = segment.optimizer
        pairs = runs[-1][1]
        if pairs and segment.config.batch_size is None:  # full batch: the order plays no part,
            pairs[-1] = (pairs[-1][0] + segment.epochs, pairs[-1][1])  # so one call does it
        else:
            pairs.append((segment.epochs, segment.seed))
        total += segment.epochs
    blocks = []
    for c, pairs in runs:
        fit = "net.fit(\n        X, Y, loss={loss!r}, optimizer=optimizer, epochs={epochs},\n"
        fit += "        batch_size={batch!r}, seed={seed}, progress=False,\n    )"
        if len(pairs) == 1:
            call = fit.format(loss=c.loss, epochs=pairs[0][0], batch=c.batch_size,
                              seed=pairs[0][1]).replace("\n    ", "\n")  # fmt: skip
            blocks.append(f"optimizer = {c.optimizer_source()}\nhistory = {call}")
        else:
            call = fit.format(loss=c.loss, epochs="epochs", batch=c.batch_size, seed="seed")
            blocks.append(f"optimizer = {c.optimizer_source()}\n"
                          f"for epochs, seed in {pairs!r}:\n    history = {call}")  # fmt: skip
    body = "\n".join(blocks)
    return f'''"""Reproduce an mlpnet playground run: {config.dataset}, \
hidden {list(config.hidden)}, {config.optimizer}, {total} epochs."""

from mlpnet import Dense, Network, optim, schedules
from mlpnet.playground.problems import dataset

X, Y = dataset({config.dataset!r}, n={config.samples}, seed={config.seed})
net = Network([
    {layers},
], seed={config.seed}, dtype="float64")
{body}
print(f"epochs: {total}, loss: {{net.loss(X, Y, {config.loss!r}):.6g}}")
net.save("playground-model.npz")
'''


def _choose(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")


def _number(what: str, value: Any, kind: type) -> Any:
    """`value` (a number or the text of a number input) as `kind`, or a ValueError naming it."""
    try:
        number = float(value)
        if kind is int:
            if not number.is_integer():
                raise ValueError
            return int(number)
        return number
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            f"{what} must be a{'n integer' if kind is int else ' number'}, got {value!r}"
        ) from None


def _parse_layers(
    text: Any, activation: str, base: Config, limits: Limits
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Hidden sizes and per-layer activations from ``"8,8"`` or ``"8:relu,4"`` (see `Config`)."""
    if text is None:
        return base.hidden, tuple(activation for _ in base.hidden)
    parts = [p.strip() for p in str(text).replace(" ", "").split(",") if p.strip()]
    if len(parts) > limits.max_hidden_layers:
        raise ValueError(
            f"at most {limits.max_hidden_layers} hidden layers (the per-session limit), "
            f"got {len(parts)}"
        )
    sizes, acts = [], []
    for part in parts:
        size, _, act = part.partition(":")
        if not size.isdigit() or not 1 <= int(size) <= limits.max_units:
            raise ValueError(
                f"layer sizes must be integers 1 … {limits.max_units} (the per-session limit), "
                f"got {size!r} in {str(text)!r}"
            )
        act = act or activation
        _choose("activation", act, ACTIVATIONS)
        sizes.append(int(size))
        acts.append(act)
    return tuple(sizes), tuple(acts)
