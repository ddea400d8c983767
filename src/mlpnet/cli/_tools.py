"""``mlpnet gradcheck`` and ``mlpnet bench``: check backpropagation, time it beside its peers."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import click
import numpy as np

import mlpnet

from ..activations import ACTIVATIONS
from ..gradcheck import sample_coordinates
from ..losses import LOSSES, get_loss
from ._build import OUTPUT_FOR_LOSS
from ._data import choose, sizes
from ._evaluate import load_model
from ._options import count_option


@click.command()
@click.argument("model", required=False)
@click.option(
    "--layers", default="3,5,4", show_default=True, help="Sizes of the network to build (no MODEL)."
)
@click.option("--activation", default="tanh", show_default=True, help="ψ of its hidden layers.")
@click.option(
    "--loss",
    default="softmax_cross_entropy",
    show_default=True,
    help="The loss whose gradient is checked (a MODEL's own by default).",
)
@count_option("--samples", 5, "Random samples in the batch.")
@count_option("--seed", 0, "Seeds θ and the random batch.", least=0)
@click.option(
    "--eps", type=float, default=1e-6, show_default=True, help="Finite-difference step ε."
)
@click.option(
    "--tol", type=float, default=1e-5, show_default=True, help="Largest relative error accepted."
)
@count_option(
    "--coordinates", 1000, "Coordinates of θ checked, drawn at random (seeded by --seed)."
)
@click.option(
    "--full", is_flag=True, help="Check every coordinate (prints an estimate of the time first)."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: if stderr is a tty)."
)
@click.pass_context
def gradcheck(
    ctx: click.Context,
    model: str | None,
    layers: str,
    activation: str,
    loss: str,
    samples: int,
    seed: int,
    eps: float,
    tol: float,
    coordinates: int,
    full: bool,
    progress: bool | None,
) -> None:
    """Compare backpropagation's gradient with central differences (relative error, float64).

    Checks MODEL if given, else a fresh network of --layers; exits with status 1 when the relative
    error exceeds --tol. Each coordinate costs two forward passes, so a large network's full check
    takes minutes (784-200-10: 159,010 coordinates): by default a seeded random sample of
    --coordinates is checked, every layer's W and b among them; --full checks them all.
    """
    if not eps > 0:
        raise ValueError(f"--eps must be positive, got {eps}")
    loss_obj = get_loss(choose("loss", loss, LOSSES))
    if model:
        net, meta = load_model(model)
        if ctx.get_parameter_source("loss") == click.core.ParameterSource.DEFAULT:
            loss_obj = get_loss(choose("loss", str(meta.get("loss", loss)), LOSSES))
    else:
        layer_sizes = sizes(layers, "--layers")
        if len(layer_sizes) < 2:
            raise ValueError(f"--layers needs at least two sizes, got {layers!r}")
        net = mlpnet.Network(
            layer_sizes,
            activation=choose("activation", activation, ACTIVATIONS),
            output_activation=OUTPUT_FOR_LOSS[loss_obj.name],
            seed=seed,
            dtype="float64",
        )
    rng = np.random.default_rng(seed)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    X = rng.standard_normal((samples, n_in))
    if loss_obj.accepts_labels:
        Y: np.ndarray = rng.integers(0, n_out, samples)
    elif loss_obj.name == "binary_cross_entropy":
        Y = rng.integers(0, 2, (samples, n_out)).astype(np.float64)
    else:
        Y = rng.standard_normal((samples, n_out))
    click.echo(
        f"network {'-'.join(map(str, net.sizes))}, {net.n_params:,} parameters, "
        f"loss {loss_obj.name}, {samples} samples"
    )
    index = np.arange(net.n_params) if full else sample_coordinates(net, coordinates, seed)
    if full:
        click.echo(f"full check: {_estimate(net, X, Y, loss_obj)}")
    start = time.perf_counter()
    with _bar(progress, len(index)) as bar:
        error = mlpnet.gradient_check(
            net, X, Y, loss_obj, eps=eps, coordinates=index, progress=bar.update
        )
    seconds = time.perf_counter() - start
    if len(index) == net.n_params:
        click.echo(f"checked all {net.n_params:,} coordinates")
    else:
        click.echo(f"checked {len(index):,} of {net.n_params:,} coordinates (seed {seed})")
    click.echo(
        f"relative error {error:.3e} between backpropagation and central differences "
        f"(ε = {eps:g}, {seconds:.2f} s)"
    )
    if not error <= tol:
        raise ValueError(f"relative error {error:.3e} exceeds --tol {tol:g}")
    click.echo("ok")


def _estimate(net: mlpnet.Network, X: np.ndarray, Y: np.ndarray, loss: Any) -> str:
    """The full check's cost, N coordinates × 2 forward passes, timed on a few passes."""
    copy = net.copy(dtype="float64")  # as the check itself runs
    objective, theta = copy.objective(X, Y, loss), copy.params.copy()
    objective.value(theta)  # warm up
    runs, start = 5, time.perf_counter()
    for _ in range(runs):
        objective.value(theta)
    each = (time.perf_counter() - start) / runs
    total = 2 * net.n_params * each
    when = f"{total:.2g} s" if total < 120 else f"{total / 60:.1f} min"
    return (
        f"{net.n_params:,} coordinates × 2 forward passes of {1e3 * each:.2g} ms ≈ {when} "
        "(estimated from 5 passes)"
    )


class _NoBar:
    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def _bar(progress: bool | None, length: int) -> Iterator[Any]:
    """A click progress bar on stderr (if wanted: by default when stderr is a terminal)."""
    if not (sys.stderr.isatty() if progress is None else progress):
        yield _NoBar()
        return
    with click.progressbar(
        length=length, label="central differences", file=sys.stderr, show_eta=True
    ) as bar:
        yield bar


@click.command()
@click.option(
    "--quick", is_flag=True, help="Smaller problems, for a fast look (each title gives its size)."
)
@count_option("--repeats", 3, "Timed runs per measurement.")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this benchmark (repeatable).")
@click.option(
    "--threads",
    default="auto",
    show_default=True,
    help="mlpnet's BLAS threads ('auto': fit chooses, peers keep their defaults), or a number "
    "for every peer alike.",
)
def bench(quick: bool, repeats: int, only: tuple[str, ...], threads: str) -> None:
    """Time mlpnet beside PyTorch, scikit-learn and plain NumPy; print markdown tables."""
    from .. import bench as benchmarks

    benchmarks.run(
        names=list(only) or None, quick=quick, repeats=repeats, echo=click.echo, threads=threads
    )
