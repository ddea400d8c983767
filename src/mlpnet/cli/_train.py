"""``mlpnet train``: build a network from the options (or a checkpoint), train it and save it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import numpy as np

import mlpnet

from .. import optim
from .._threads import THREADS_HELP, check_threads
from ..backends import asarray, get_backend, to_numpy
from ..checkpoint import Checkpoint, load_checkpoint, restore_optimizer
from ..io import save_npz
from ..losses import LOSSES, get_loss
from ._build import SCHEDULES, batch_size, defaults_help, make_optimizer, new_network, split
from ._data import (
    choose,
    encode_labels,
    feature_names,
    load_data,
    scale_warning,
    standardize,
    standardizer,
    target_name,
    targets,
)
from ._options import DATA_HELP, backend_options, count_option, mnist_dir_option

_RESUMABLE = (
    "data",
    "target",
    "loss",
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "schedule",
    "batch_size",
    "epochs",
    "seed",
    "val_split",
    "patience",
    "mnist_dir",
    "output",
    "plot_dir",
    "standardize",
    "threads",
    "backend",
    "device",
)
"""Options recorded with a checkpoint; on --resume those not given are taken from it."""
_FIXED_BY_CHECKPOINT = ("layers", "hidden", "activation", "output_activation", "init", "dtype")


@click.command()
@click.option("--data", help=DATA_HELP)
@click.option("--target", help="Target column (name or index) of a file; default the last.")
@click.option("--layers", help="All layer sizes, e.g. 784,200,10 (must fit the data).")
@click.option(
    "--hidden", default="100", show_default=True, help="Hidden sizes: 200 or 200,100; none."
)
@click.option("--activation", default="relu", show_default=True, help="ψ of the hidden layers.")
@click.option("--output-activation", help="ψ_L; default the one matching the loss.")
@click.option(
    "--loss", help="Default softmax_cross_entropy for integer labels, else half_squared_error."
)
@click.option(
    "--optimizer", default="sgd", show_default=True, help=f"One of {', '.join(optim.OPTIMIZERS)}."
)
@click.option("--lr", type=float, help=defaults_help())
@click.option("--schedule", help=f"Step-size schedule: {', '.join(SCHEDULES)}.")
@click.option("--momentum", type=float, help="Momentum μ of sgd (optimizer momentum: 0.9).")
@click.option("--nesterov", is_flag=True, help="Nesterov momentum.")
@click.option(
    "--batch-size",
    default="auto",
    show_default=True,
    help=f"Integer, 'full', or auto: {optim.CLI_BATCH_SIZE}, full for line searches and lbfgs "
    "(fit's default is the full batch; see --lr).",
)
@click.option(
    "--standardize",
    is_flag=True,
    help="Scale every feature to mean 0, std 1 (statistics of the training rows, saved with the "
    "model and applied by evaluate and predict; constant columns are only centred).",
)
@click.option("--threads", default="auto", show_default=True, help=THREADS_HELP)
@count_option("--epochs", 10, "Epochs in all (with --resume, including those done).")
@count_option("--seed", 0, "Seeds θ, the shuffling and the validation split.", least=0)
@click.option(
    "--val-split",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of the training data held out for validation.",
)
@count_option("--patience", None, "Stop after this many epochs without a lower val_loss.")
@click.option("--init", help="Weight initialiser (default he for ReLU, xavier otherwise).")
@click.option("--dtype", default="float32", show_default=True, help="float32 or float64.")
@click.option(
    "--checkpoint", "checkpoint_path", help="Save a checkpoint here after every epoch (atomically)."
)
@click.option("--resume", help="Continue from this checkpoint (options not given: its own).")
@click.option("--plot", "plot_dir", help="Write training_curves.png to this folder.")
@click.option(
    "-o", "--output", default="model.npz", show_default=True, help="Where to save the model."
)
@mnist_dir_option
@backend_options
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: if stderr is a terminal).",
)
@click.pass_context
def train(ctx: click.Context, **opts: Any) -> None:
    """Train a network and save it (to model.npz by default).

    Built-in data sets are split as evaluate expects: mnist-10k trains on its 8,000 images and
    digits on 1,437 (360 held out, stratified); xor on all four points; a file on all its rows.
    With --checkpoint, Ctrl-C or a crash loses at most one epoch: --resume continues from there.
    Ctrl-C never replaces -o with a less-trained model: what was trained goes to
    STEM.interrupted.SUFFIX beside it (model.interrupted.npz), and the exit status is 130.
    """
    net, info = _resume(ctx, opts) if opts["resume"] else (None, None)
    if not opts["data"]:
        raise click.UsageError(f"--data is required: {DATA_HELP}", ctx=ctx)
    backend = get_backend(opts["backend"], opts["device"])  # refuses a missing library or GPU
    if net is not None and not backend.is_numpy:
        net = net.to(backend)
    threads = check_threads(opts["threads"])
    dtype = net.dtype.name if net is not None else opts["dtype"]
    dtype = dtype if dtype in ("float32", "float64") else "float64"  # a bad --dtype fails later
    X, y = load_data(opts["data"], opts["target"], opts["mnist_dir"], "train", dtype)
    y, class_names = encode_labels(y)
    loss_name = opts["loss"] or (
        "softmax_cross_entropy" if y.ndim == 1 and y.dtype.kind in "iu" else "half_squared_error"
    )
    loss = get_loss(choose("loss", loss_name, LOSSES))
    if class_names is not None and not loss.is_classification:
        raise ValueError(f"text labels need a classification loss, not {loss.name!r}")
    Y, n_out = targets(y, loss)
    if net is None:
        net = new_network(opts, X.shape[1], n_out, loss)
    opt_name = choose("optimizer", opts["optimizer"], optim.OPTIMIZERS)
    size = batch_size(opts["batch_size"], opt_name)
    (X, Y), validation = split(X, Y, opts["val_split"], opts["seed"])
    stats = standardizer(X) if opts["standardize"] else None
    if stats is not None:
        X = standardize(X, stats)
        if validation is not None:
            validation = (standardize(validation[0], stats), validation[1])
    else:
        hint = scale_warning(X, feature_names(opts["data"], opts["target"]))
        if hint:
            click.echo(f"warning: {hint}", err=True)
    steps = opts["epochs"] * (1 if size is None else math.ceil(len(X) / size))
    opt = make_optimizer(opt_name, opts, steps)
    done = 0
    if info is not None:
        done = info.epoch
        if not restore_optimizer(opt, info) and info.optimizer is not None:
            click.echo(
                f"note: the checkpoint's optimizer state does not fit {opt!r}; restarting it"
            )
        elif not backend.is_numpy:
            _state_to(opt, backend)
    _make_folders(opts)
    meta = {name: opts[name] for name in _RESUMABLE} | {
        "loss": loss.name,
        "target_name": target_name(opts["data"], opts["target"]),
        "classes": n_out if loss.is_classification else None,
        "class_names": class_names,
        "standardization": stats,
    }
    checkpoint = None
    if opts["checkpoint_path"]:
        checkpoint = Checkpoint(
            opts["checkpoint_path"],
            optimizer=opt,
            initial_epoch=done,
            meta=meta,
            history=info.history if info is not None else None,
        )
    sizes = "-".join(map(str, net.sizes))
    where = "" if backend.is_numpy else f" ({backend})"
    click.echo(f"training {sizes}{where} on {opts['data']} ({len(X)} samples) with {opt!r}")
    history = None
    if done >= opts["epochs"]:
        click.echo(f"the checkpoint already holds {done} of {epochs(opts['epochs'])}")
    else:
        history = net.fit(
            X,
            Y,
            loss=loss,
            optimizer=opt,
            epochs=opts["epochs"] - done,
            batch_size=size,
            validation_data=validation,
            patience=opts["patience"],
            callbacks=[checkpoint] if checkpoint else [],
            progress=opts["progress"],
            seed=_fit_seed(opts["seed"], done),
            threads=threads,
        )
    if history is not None and history.interrupted:  # no report of a cut-short model
        _save_interrupted(ctx, net, meta, opts, done + history.epochs)
    if history is not None:
        click.echo(_report(history, done))
    save_npz(opts["output"], to_numpy(net.params), {**net.spec(), "training": meta})
    click.echo(f"saved {opts['output']}")
    if opts["plot_dir"] and history is not None:
        curves = checkpoint.history if checkpoint and done else history.as_dict()
        path = Path(opts["plot_dir"]) / "training_curves.png"
        plot_curves(curves, path)
        click.echo(f"wrote {path}")


def interrupted_path(output: str) -> Path:
    """Where an interrupted run's model goes: model.npz → model.interrupted.npz, beside it."""
    path = Path(output)
    return path.with_name(f"{path.stem}.interrupted{path.suffix}")


def _save_interrupted(
    ctx: click.Context, net: Any, meta: dict[str, Any], opts: dict[str, Any], done: int
) -> None:
    """Save a Ctrl-C'd run beside -o (never over it), say so on one line, exit with 130."""
    output, path = opts["output"], interrupted_path(opts["output"])
    spec = {**net.spec(), "training": {**meta, "interrupted_after_epochs": done}}
    save_npz(path, to_numpy(net.params), spec)
    kept = "left as it was" if Path(output).exists() else "not written"
    resume = f"; resume with --resume {opts['checkpoint_path']}" if opts["checkpoint_path"] else ""
    click.echo(
        f"error: interrupted after {epochs(done)}: saved the model trained so far to {path} "
        f"({output} {kept}){resume}",
        err=True,
    )
    ctx.exit(130)


def _resume(ctx: click.Context, opts: dict[str, Any]) -> tuple[mlpnet.Network, Any]:
    """Read --resume's checkpoint; options left at their defaults take its recorded values."""
    given = ["--" + name.replace("_", "-") for name in _FIXED_BY_CHECKPOINT if _given(ctx, name)]
    if given:
        raise ValueError(
            f"{', '.join(given)} cannot be used with --resume: the checkpoint fixes them"
        )
    net, info = load_checkpoint(opts["resume"])
    for name in _RESUMABLE:
        if not _given(ctx, name):
            opts[name] = info.meta.get(name, opts[name])
    if _given(ctx, "backend") and not _given(ctx, "device"):
        opts["device"] = None  # another backend: not the checkpoint's device
    opts["checkpoint_path"] = opts["checkpoint_path"] or opts["resume"]
    click.echo(f"resuming from {opts['resume']} after {epochs(info.epoch)}")
    return net, info


def _given(ctx: click.Context, name: str) -> bool:
    """Whether option `name` was given (not left at its default)."""
    return ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT


def _state_to(opt: Any, backend: Any) -> None:
    """Move the arrays of a restored optimizer state (read from the file) to `backend`'s device."""
    state = opt.state
    if hasattr(state, "_fields"):
        opt.state = type(state)(
            *(asarray(v, backend) if isinstance(v, np.ndarray) else v for v in state)
        )


def _make_folders(opts: dict[str, Any]) -> None:
    """Create the folders of -o, --checkpoint and --plot now, not after training."""
    for path in (opts["output"], opts["checkpoint_path"]):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if opts["plot_dir"]:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            raise ImportError("--plot needs matplotlib: pip install matplotlib")
        Path(opts["plot_dir"]).mkdir(parents=True, exist_ok=True)


def _fit_seed(seed: int, done: int) -> int:
    """The seed of ``fit``: --seed, or on resume one derived from it and the epochs done."""
    if done == 0:
        return seed
    return int(np.random.SeedSequence([seed, done]).generate_state(1)[0])


def _report(history: Any, done: int) -> str:
    """One line with the last epoch's figures."""
    epochs = done + history.epochs
    parts = [f"epoch {epochs}: loss {history.loss[-1]:.4g}" if history.loss else f"epoch {epochs}"]
    for prefix, table in (("", history.metrics), ("val_", history.val_metrics)):
        if table.get("accuracy"):
            parts.append(f"{prefix}accuracy {100 * table['accuracy'][-1]:.2f}%")
    if history.val_loss:
        parts.append(f"val_loss {history.val_loss[-1]:.4g}")
    seconds = history.seconds[-1] if history.seconds else 0.0
    parts.append(f"{seconds:.1f} s, stopped by {history.stop_reason}")
    return ", ".join(parts)


"""`History.stop_reason` as the noun after "stopped by"; the others read as they are."""


def epochs(count: int) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def plot_curves(curves: dict[str, Any], path: Path) -> None:
    """Draw loss and error curves (`mlpnet.plots.plot_training_curves`, no pyplot) to `path`."""
    from ..plots import plot_training_curves

    path.parent.mkdir(parents=True, exist_ok=True)
    plot_training_curves(curves, path=path)
