"""What ``train`` builds from its options: the network, the optimizer, batches and the split."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlpnet

from .. import optim, schedules
from ..activations import ACTIVATIONS
from ..datasets import stratified_split
from ..losses import OUTPUT_FOR_LOSS  # the output activation each loss pairs with (pairs_with)
from ._data import choose, sizes

SCHEDULES = ("constant", "inverse_time", "invscaling", "step", "cosine")
FULL_BATCH = tuple(name for name, row in optim.DEFAULTS.items() if row.full_batch)
"""Optimizers that need the exact objective on all the data."""


def defaults_help() -> str:
    """--lr's help: each optimizer's default step, read from `mlpnet.optim.DEFAULTS`."""
    steps = ", ".join(
        f"{name} {row.step(cli=True):g}" for name, row in optim.DEFAULTS.items() if row.step_name
    )
    return (
        f"Step size γ (armijo: first trial; exact_line_search: largest; random_search: scale). "
        f"Defaults from mlpnet.optim.DEFAULTS: {steps}; sgd's is 0.1 here where fit's is 0.01, "
        f"by design: mini-batches of {optim.CLI_BATCH_SIZE} here, the full batch in fit."
    )


def new_network(opts: dict[str, Any], n_in: int, n_out: int, loss: Any) -> mlpnet.Network:
    """The network that --layers or --hidden, --activation, … describe, checked against the data."""
    if opts["layers"]:
        layer_sizes = sizes(opts["layers"], "--layers")
        if len(layer_sizes) < 2:
            raise ValueError(
                f"--layers needs at least an input and an output size, got {opts['layers']!r}"
            )
        if layer_sizes[0] != n_in or layer_sizes[-1] != n_out:
            raise ValueError(
                f"--layers {opts['layers']} does not fit the data: "
                f"it needs {n_in} inputs and {n_out} outputs"
            )
    else:
        layer_sizes = [n_in, *sizes(opts["hidden"], "--hidden"), n_out]
    activation = choose("activation", opts["activation"], ACTIVATIONS)
    output = choose(
        "output activation",
        opts["output_activation"] or OUTPUT_FOR_LOSS.get(loss.name, "identity"),
        ACTIVATIONS,
    )
    return mlpnet.Network(
        layer_sizes,
        activation=activation,
        output_activation=output,
        init=opts["init"],
        seed=opts["seed"],
        dtype=choose("dtype", opts["dtype"], ("float32", "float64")),
        backend=opts.get("backend", "numpy"),
        device=opts.get("device"),
    )


def batch_size(text: Any, opt_name: str) -> int | None:
    """--batch-size as ``fit`` takes it: None for the full batch."""
    if text in (None, "auto"):
        return None if opt_name in FULL_BATCH else optim.CLI_BATCH_SIZE
    if str(text).lower() == "full":
        return None
    if not str(text).isdigit() or int(text) < 1:
        raise ValueError(f"--batch-size must be a positive integer, 'full' or 'auto', got {text!r}")
    if opt_name in FULL_BATCH:
        raise ValueError(f"optimizer {opt_name} needs the full batch, not --batch-size {text}")
    return int(text)


def make_optimizer(name: str, opts: dict[str, Any], total_steps: int) -> Any:
    """The optimizer object for `name` with --lr, --schedule, --momentum, --nesterov."""
    row = optim.DEFAULTS[name]
    if opts["lr"] is not None and row.step_name is None:
        raise ValueError(f"--lr does not apply to {name}, which finds its own steps")
    lr = opts["lr"] if opts["lr"] is not None else row.step(cli=True)
    if opts["schedule"]:
        schedule = choose("schedule", opts["schedule"], SCHEDULES)
        if name not in ("gd", "sgd", "momentum", "adam"):
            raise ValueError(f"--schedule applies to gd, sgd, momentum and adam, not {name}")
        lr = {
            "constant": lambda: schedules.constant(lr),
            "inverse_time": lambda: schedules.inverse_time(lr),
            "invscaling": lambda: schedules.invscaling(lr),
            "step": lambda: schedules.step(lr, 0.5, max(1, total_steps // 3)),
            "cosine": lambda: schedules.cosine(lr, max(1, total_steps)),
        }[schedule]()
    momentum = opts["momentum"]
    if name in ("sgd", "momentum"):
        if momentum is None:
            momentum = row.params.get("momentum", 0.0)
        return optim.SGD(lr=lr, momentum=momentum, nesterov=opts["nesterov"])
    if momentum is not None or opts["nesterov"]:
        raise ValueError(f"--momentum and --nesterov apply to sgd and momentum, not {name}")
    params = dict(row.params)
    if row.step_name:
        params[row.step_name] = lr
    if row.cls is optim.RandomSearch:
        params["seed"] = opts["seed"]
    return row.cls(**params)


def split(
    X: np.ndarray, Y: np.ndarray, fraction: float, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
    """Hold out `fraction` of the rows (stratified for class labels) as validation data."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"--val-split must be in [0, 1), got {fraction}")
    n_val = round(fraction * len(X))
    if n_val == 0:
        return (X, Y), None
    if n_val >= len(X) - 1:
        raise ValueError(f"--val-split {fraction} leaves too little training data")
    if Y.ndim == 1:
        train, val = stratified_split(Y, n_test=n_val, seed=seed)
    else:
        order = np.random.default_rng(seed).permutation(len(X))
        train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    return (X[train], Y[train]), (X[val], Y[val])
