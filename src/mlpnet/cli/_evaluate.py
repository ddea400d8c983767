"""``mlpnet evaluate`` and ``mlpnet predict``: use a saved model on data."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

import mlpnet

from .._spec import network_layout
from .._threads import THREADS_HELP, blas_threads, check_threads
from ..activations import softmax
from ..backends import to_numpy
from ..io import read_npz
from ..losses import LOSS_FOR_OUTPUT, LOSSES, get_loss
from ..metrics import predicted_labels
from ..network import network_from_spec
from ._data import (
    BUILTIN_DATA,
    choose,
    csv_header,
    encode_labels,
    load_data,
    read_features,
    standardize,
    targets,
)
from ._options import DATA_HELP, backend_options, mnist_dir_option


@contextlib.contextmanager
def _naming(source: str) -> Iterator[None]:
    """Prefix the data's name to the network's ValueError: "my.csv: expected 784 features, …"."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def load_model(
    path: str, backend: str = "numpy", device: str | None = None
) -> tuple[mlpnet.Network, dict[str, Any]]:
    """The network in `path` (on `backend`) and the training settings recorded with it."""
    saved = read_npz(path, expect=network_layout)  # every header checked before θ is read
    net, spec = network_from_spec(saved.theta, saved.spec, path), saved.spec
    if backend != "numpy" or device is not None:
        net = net.to(backend, device)
    meta = spec.get("training") or (spec.get("checkpoint") or {}).get("meta") or {}
    return net, dict(meta) if isinstance(meta, dict) else {}


def _loss_for(
    net: mlpnet.Network, meta: dict[str, Any], loss: str | None, y: np.ndarray | None
) -> Any:
    """--loss, else the recorded one, else the one that pairs with the output activation."""
    name = loss or meta.get("loss")
    if name is None:
        out = net.layers[-1].activation.name
        name = LOSS_FOR_OUTPUT.get(out)
        labels = y is not None and y.ndim == 1 and y.dtype.kind in "iu"
        name = name or (
            "softmax_cross_entropy" if labels and net.sizes[-1] > 1 else "half_squared_error"
        )
    return get_loss(choose("loss", str(name), LOSSES))


@click.command()
@click.argument("model")
@click.option("--data", required=True, help=DATA_HELP)
@click.option(
    "--target", help="Target column of a file; default the one trained on, else the last."
)
@click.option(
    "--split",
    "part",
    help="Part of a built-in set: test (default) or train; a file is evaluated on all its rows.",
)
@click.option("--loss", help="Default: the loss the model was trained with.")
@click.option("--threads", default="auto", show_default=True, help=THREADS_HELP)
@mnist_dir_option
@backend_options
def evaluate(
    model: str,
    data: str,
    target: str | None,
    part: str | None,
    loss: str | None,
    threads: str,
    mnist_dir: str | None,
    backend: str = "numpy",
    device: str | None = None,
) -> None:
    """Report MODEL's loss on data, with accuracy and confusion matrix for a classifier.

    Features are standardized as in training where the model was trained with --standardize;
    text labels are matched with the class names saved with the model.
    """
    net, meta = load_model(model, backend, device)
    if part is not None and data not in BUILTIN_DATA:
        raise click.UsageError(
            f"--split applies to the built-in data sets ({', '.join(BUILTIN_DATA)}); "
            f"{data} is evaluated on all its rows: leave --split out",
            ctx=click.get_current_context(),
        )
    part = choose("split", part or "test", ("train", "test"))
    threads = check_threads(threads)
    if target is None and meta.get("target_name") in csv_header(data):
        target = meta["target_name"]
    X, y = load_data(data, target, mnist_dir, part, net.dtype.name)
    X = standardize(X, meta.get("standardization"))
    y, class_names = _labels(y, meta, data)
    loss_obj = _loss_for(net, meta, loss, y)
    Y, _ = targets(y, loss_obj)
    with _naming(data), blas_threads(threads, len(X), net.n_params):
        J = net.loss(X, Y, loss_obj)  # checks features, labels and the loss against the network
    click.echo(f"{data} ({part if data in BUILTIN_DATA else 'all rows'}): {len(X)} samples")
    click.echo(f"loss ({loss_obj.name}): {J:.6g}")
    if not loss_obj.is_classification:
        return
    binary = loss_obj.name == "binary_cross_entropy"
    pred = predicted_labels(to_numpy(net.predict(X)), threshold=binary).reshape(len(X), -1)
    truth = np.asarray(Y).reshape(len(X), -1).astype(np.int64)
    acc = float(np.mean(np.all(pred == truth, axis=1)))
    click.echo(f"accuracy: {100 * acc:.2f}% (error {100 * (1 - acc):.2f}%)")
    if pred.shape[1] == 1:
        classes = 2 if binary else max(net.sizes[-1], 2)
        if class_names:
            click.echo("classes: " + ", ".join(f"{k} = {n}" for k, n in enumerate(class_names)))
        click.echo(confusion_text(truth.ravel(), pred.ravel(), classes))


def _labels(y: np.ndarray, meta: dict[str, Any], data: str) -> tuple[np.ndarray, list | None]:
    """Targets as the model was trained on them: text labels become its class indices."""
    names = meta.get("class_names")
    if y.dtype.kind in "UO" and not names:
        raise ValueError(
            f"{data}: the targets are text labels but the model was trained on numbers"
        )
    if y.dtype.kind not in "UO" and names:
        raise ValueError(
            f"{data}: the model was trained on the text labels {', '.join(map(repr, names))}, "
            "the targets here are numbers"
        )
    with _naming(data):
        return encode_labels(y, names)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts C[i, j] of samples of class i predicted as j."""
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def confusion_text(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> str:
    """The confusion matrix as text: rows the true class, columns the predicted one."""
    C = confusion_matrix(y_true, y_pred, n_classes)
    width = max(len(str(C.max())), len(str(n_classes - 1)), 3)
    lines = ["confusion matrix (rows: true class, columns: predicted class)"]
    lines.append(" " * (width + 2) + " ".join(f"{j:>{width}}" for j in range(n_classes)))
    lines += [f"{i:>{width}}: " + " ".join(f"{c:>{width}}" for c in row) for i, row in enumerate(C)]
    return "\n".join(lines)


@click.command()
@click.argument("model")
@click.argument("input_file", metavar="[INPUT]", required=False)
@click.option("--data", help="The same as INPUT; a built-in name predicts for its test part.")
@click.option(
    "-o",
    "--output",
    help="CSV file to write (an existing folder, or a path ending in /: predictions.csv in it); "
    "default stdout.",
)
@click.option(
    "--target", help="Column of INPUT to ignore (default: the column the model was trained on)."
)
@click.option("--proba", is_flag=True, help="Add class probabilities p_0 … for a classifier.")
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Predict on the Dask cluster at ADDRESS (tcp://host:port) block by block, for an .npy "
    "file or a folder of .npy files too large for memory (the workers read the files).",
)
@click.option("--threads", default="auto", show_default=True, help=THREADS_HELP)
@mnist_dir_option
@backend_options
def predict(
    model: str,
    input_file: str | None,
    data: str | None,
    output: str | None,
    target: str | None,
    proba: bool,
    dask_address: str | None,
    threads: str,
    mnist_dir: str | None,
    backend: str = "numpy",
    device: str | None = None,
) -> None:
    """Predict for the rows of INPUT (.csv with a header row, .npy, or .npz with X), as CSV.

    The target column the model was trained on (or --target) is left out where INPUT has it.

    A classifier writes a column "label" (with --proba also p_0, p_1, …), a regressor "prediction"
    (or y_0, y_1, … for several outputs): one row per input row, after a header row. A model
    trained on text labels writes them back as text; one trained with --standardize standardizes
    INPUT the same way.
    """
    if (input_file is None) == (data is None):
        raise ValueError("give the input as INPUT or as --data, once")
    source = input_file or str(data)
    threads = check_threads(threads)
    target_file = output_file(output) if output else None
    net, meta = load_model(model, backend, device)
    drop = {target} if target is not None else {meta.get("target_name")} - {None}
    if target is not None and source.lower().endswith(".csv") and Path(source).is_file():
        if target not in csv_header(source):
            raise ValueError(f"{source}: no column {target!r} to ignore")

    def target_column(
        n_columns: int,
    ) -> int | None:  # an .npy's column to drop, as training took it
        if n_columns != net.sizes[0] + 1:
            return None
        column = target if target is not None else meta.get("target")
        return int(column) if str(column).lstrip("-").isdigit() else -1

    def csv(Yhat: np.ndarray, header: bool = True) -> str:
        names, columns, formats = _table(Yhat, meta.get("loss"), proba, meta.get("class_names"))
        lines = [",".join(names)] * header + [
            ",".join(f % v for f, v in zip(formats, row, strict=True)) for row in np.hstack(columns)
        ]
        return "\n".join(lines) + "\n"

    if dask_address:
        from ._dask import predict_on_dask

        if meta.get("standardization"):
            raise ValueError(
                f"{model}: trained with --standardize, which --dask does not apply yet; "
                "predict without --dask"
            )
        with _naming(source):
            return predict_on_dask(dask_address, net, source, target_column, csv, target_file)
    X = read_features(source, drop, mnist_dir)
    column = target_column(X.shape[1]) if source.lower().endswith(".npy") else None
    if column is not None:
        X = np.delete(X, column, axis=1)
    X = standardize(X, meta.get("standardization"))
    with _naming(source), blas_threads(threads, len(X), net.n_params):
        Yhat = np.asarray(to_numpy(net.predict(X)), dtype=np.float64)
    text = csv(Yhat)
    if target_file is not None:
        write_text_atomically(target_file, text)
        click.echo(f"wrote {len(Yhat)} predictions to {target_file}", err=True)
    else:
        click.echo(text, nl=False)


def output_file(output: str) -> Path:
    """Where -o writes: the path itself, or predictions.csv in it when it names a folder.

    A folder is an existing directory or a path ending in a slash (then created).
    """
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return path / "predictions.csv"
    if not path.parent.is_dir():
        raise FileNotFoundError(f"-o {output}: no folder {path.parent} to write into")
    return path


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` beside `path` and rename it into place: never half a file under `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _table(
    Yhat: np.ndarray, loss_name: str | None, proba: bool, class_names: list | None = None
) -> tuple[list, list, list]:
    """Header, column blocks and printf formats of the predictions (labels as text if named)."""
    loss = get_loss(loss_name) if loss_name in LOSSES else None
    if loss is None or not loss.is_classification:
        header = ["prediction"] if Yhat.shape[1] == 1 else [f"y_{k}" for k in range(Yhat.shape[1])]
        return header, [Yhat], ["%.8g"] * Yhat.shape[1]
    binary = loss.name == "binary_cross_entropy"
    labels = predicted_labels(Yhat, threshold=binary).reshape(len(Yhat), -1)
    header = ["label"] if labels.shape[1] == 1 else [f"label_{k}" for k in range(labels.shape[1])]
    columns, formats = [labels.astype(np.float64)], ["%d"] * labels.shape[1]
    if class_names and labels.shape[1] == 1:
        columns, formats = [np.asarray(class_names, dtype=object)[labels]], ["%s"]
    if proba:
        P = softmax(Yhat) if loss.name == "softmax_cross_entropy" else Yhat
        header += [f"p_{k}" for k in range(P.shape[1])]
        columns.append(P)
        formats += ["%.6g"] * P.shape[1]
    return header, columns, formats
