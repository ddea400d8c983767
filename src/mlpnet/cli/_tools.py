"""``mlpnet gradcheck`` and ``mlpnet bench``: check backpropagation, time it beside its peers."""

from __future__ import annotations

import time

import click
import numpy as np

import mlpnet

from ..activations import ACTIVATIONS
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
) -> None:
    """Compare backpropagation's gradient with central differences (relative error, float64).

    Checks MODEL if given, else a fresh network of --layers; exits with status 1 when the relative
    error exceeds --tol.
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
    start = time.perf_counter()
    error = mlpnet.gradient_check(net, X, Y, loss_obj, eps=eps)
    seconds = time.perf_counter() - start
    click.echo(
        f"network {'-'.join(map(str, net.sizes))}, {net.n_params} parameters, "
        f"loss {loss_obj.name}, {samples} samples"
    )
    click.echo(
        f"relative error {error:.3e} between backpropagation and central differences "
        f"(ε = {eps:g}, {seconds:.2f} s)"
    )
    if not error <= tol:
        raise ValueError(f"relative error {error:.3e} exceeds --tol {tol:g}")
    click.echo("ok")


@click.command()
@click.option("--quick", is_flag=True, help="Smaller problems, for a fast look.")
@count_option("--repeats", 3, "Timed runs per measurement.")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this benchmark (repeatable).")
def bench(quick: bool, repeats: int, only: tuple[str, ...]) -> None:
    """Time mlpnet beside PyTorch, scikit-learn and plain NumPy; print markdown tables."""
    from .. import bench as benchmarks

    benchmarks.run(names=list(only) or None, quick=quick, repeats=repeats, echo=click.echo)
