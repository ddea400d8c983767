"""``mlpnet demo``: the notes' one-hidden-layer classifier against softmax regression on digits."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import click
import numpy as np

import mlpnet

from .. import optim
from ..datasets import digits, stratified_split
from ._data import DIGITS_TEST
from ._evaluate import confusion_text
from ._options import count_option
from ._train import plot_curves


@click.command()
@click.option("--out", default="mlpnet-demo", show_default=True, help="Folder for the plots.")
@count_option("--epochs", 40, "Epochs of each model (2 for a quick look).")
@count_option("--hidden", 100, "Hidden ReLU units.")
@count_option("--seed", 0, "Seeds θ, the test split and the batches.", least=0)
@click.option("--plots/--no-plots", default=True, show_default=True, help="Write the PNG figures.")
def demo(out: str, epochs: int, hidden: int, seed: int, plots: bool) -> None:
    """Train the notes' one-hidden-layer classifier on scikit-learn's 8×8 digits.

    A 64-100-10 ReLU network and softmax regression (64-10), by mini-batch SGD (lr 0.1, batch 32)
    on 1,437 images; reports both test errors on the other 360 and writes their training curves
    to the --out folder. Needs no files; takes a few seconds. Ctrl-C stops the demo (exit status
    130) after reporting the models already trained; none is reported for the one cut short.
    """
    X, y = digits()
    train, test = stratified_split(y, n_test=DIGITS_TEST, seed=seed)
    click.echo(
        f"scikit-learn digits: {len(train)} training and {len(test)} test images "
        "of 8×8 pixels, 10 classes"
    )
    models = {
        "softmax regression": mlpnet.Network([64, 10], seed=seed),
        f"MLP 64-{hidden}-10 ReLU": mlpnet.Network([64, hidden, 10], activation="relu", seed=seed),
    }
    rows, histories = [], {}
    for name, net in models.items():
        click.echo(f"training {name} ({net.n_params} parameters), {epochs} epochs …")
        start = time.perf_counter()
        histories[name] = net.fit(
            X[train],
            y[train],
            loss="softmax_cross_entropy",
            optimizer=optim.SGD(lr=0.1),
            batch_size=32,
            epochs=epochs,
            validation_data=(X[test], y[test]),
            seed=seed,
        )
        if histories[name].interrupted:
            _report(rows)
            click.echo(
                f"error: interrupted while training {name} (after {histories[name].epochs} of "
                f"{epochs} epochs); no results for it",
                err=True,
            )
            sys.exit(130)
        seconds = time.perf_counter() - start
        errors = [np.mean(net.predict(X[part]).argmax(axis=1) != y[part]) for part in (train, test)]
        rows.append((name, net.n_params, *errors, seconds))
    _report(rows)
    mlp = models[rows[-1][0]]
    click.echo("\n" + confusion_text(y[test], mlp.predict(X[test]).argmax(axis=1), 10))
    if plots and importlib.util.find_spec("matplotlib") is None:
        click.echo("no plots: they need matplotlib (pip install matplotlib)")
    elif plots:
        for name, history in histories.items():
            path = Path(out) / f"{name.split()[0].lower()}_training_curves.png"
            plot_curves(history.as_dict(), path)
            click.echo(f"wrote {path}")


def _report(rows: list[tuple[str, int, float, float, float]]) -> None:
    """The table of the models trained to the end."""
    if not rows:
        return
    click.echo(
        f"\n{'model':<24} {'params':>7} {'train error':>12} {'test error':>11} {'seconds':>8}"
    )
    for name, n_params, train_error, test_error, seconds in rows:
        click.echo(
            f"{name:<24} {n_params:>7} {100 * train_error:>11.2f}% "
            f"{100 * test_error:>10.2f}% {seconds:>8.2f}"
        )
