"""The ``mlpnet`` command line."""

from __future__ import annotations

import click
import numpy as np

import mlpnet


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(mlpnet.__version__, prog_name="mlpnet")
def cli() -> None:
    """Multilayer perceptrons trained by exact backpropagation."""


@cli.command()
@click.option("--seed", default=0, show_default=True, help="Seed of the initial θ.")
def demo(seed: int) -> None:
    """Train the notes' XOR network (2-2-1, tanh/sigmoid) by gradient descent and show it."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    net = mlpnet.Network([2, 2, 1], activation="tanh", output_activation="sigmoid", seed=seed, dtype="float64")
    click.echo(net.summary())
    for step in range(5001):
        J, grad = net.loss_and_gradient(X, Y, "binary_cross_entropy")
        net.params -= 2.0 * grad
        if step % 1000 == 0:
            click.echo(f"step {step:5d}  J = {J:.6f}")
    for x, yhat in zip(X, net.predict(X)):
        click.echo(f"XOR{tuple(int(v) for v in x)} = {yhat[0]:.4f}")


def main() -> None:
    """Entry point of the ``mlpnet`` script."""
    cli()
