"""``mlpnet predict --dask ADDRESS``: predictions for .npy files too large for memory.

The rows are read on the cluster's workers (each file memory-mapped, a block of rows at a time),
predicted there by `mlpnet.distributed.predict`, and the CSV is written here block by block with the
next block computed meanwhile: the client holds two blocks of predictions, never the inputs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

BLOCK_BYTES = 64 * 2**20
"""Most bytes of input per block (rows of one file)."""


def _load_rows(path: str, start: int, stop: int) -> np.ndarray:
    """Rows start:stop of an .npy file, read through a memory map (on a worker)."""
    return np.array(np.load(path, mmap_mode="r", allow_pickle=False)[start:stop])


def npy_rows(source: str) -> Any:
    """A dask array of the rows of an .npy file or of a folder's .npy files (in name order)."""
    import dask
    import dask.array as da

    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    files = sorted(path.glob("*.npy")) if path.is_dir() else [path]
    if not files or any(f.suffix.lower() != ".npy" for f in files):
        raise ValueError("--dask reads an .npy file or a folder of .npy files")
    load = dask.delayed(_load_rows, pure=True)
    blocks, width = [], None
    for file in files:
        try:
            head = np.load(file, mmap_mode="r", allow_pickle=False)  # reads the header only
        except (OSError, ValueError) as exc:
            raise ValueError(f"{file}: cannot read features: {exc}") from None
        if head.dtype.kind not in "biuf" or head.ndim not in (1, 2):
            raise ValueError(f"{file}: features must be a 1-D or 2-D array of numbers")
        shape = head.shape if head.ndim == 2 else (len(head), 1)
        if width not in (None, shape[1]):
            raise ValueError(f"{file}: {shape[1]} columns, but the files before have {width}")
        width = shape[1]
        step = max(1, BLOCK_BYTES // max(1, shape[1] * head.dtype.itemsize))
        for start in range(0, shape[0], step):
            stop = min(start + step, shape[0])
            rows = load(str(file.resolve()), start, stop)
            block = da.from_delayed(rows, (stop - start,) + head.shape[1:], dtype=head.dtype)
            blocks.append(block.reshape(stop - start, shape[1]))
    if not blocks:
        raise ValueError("no rows")
    return da.concatenate(blocks).astype(np.float64)


def predict_on_dask(
    address: str,
    net: Any,
    source: str,
    drop_column: Callable[[int], int | None],
    csv: Callable[[np.ndarray, bool], str],
    output: str | None,
) -> None:
    """Write the CSV of ``net``'s predictions for `source`, computed on the cluster at `address`.

    ``drop_column(n_columns)`` says which column to leave out (the target), or None;
    ``csv(Yhat, header)`` formats a block of predictions.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ImportError('--dask needs Dask: pip install "mlpnet[dask]"') from None
    from ..distributed import predict

    X = npy_rows(source)
    column = drop_column(X.shape[1])
    if column is not None:
        keep = [j for j in range(X.shape[1]) if j != column % X.shape[1]]
        X = X[:, keep]
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"expected {net.sizes[0]} features, got {X.shape[1]}")
    try:
        client = Client(address, timeout=30, set_as_default=False)
    except OSError as exc:
        raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        blocks = predict(net, X).to_delayed().ravel()
        if output:
            folder = Path(output).resolve().parent
            fd, tmp = tempfile.mkstemp(prefix=".mlpnet-", suffix=".csv", dir=folder)
            try:
                with os.fdopen(fd, "w") as fh:
                    rows = _write_blocks(client, blocks, csv, fh.write)
                os.replace(tmp, output)  # all of it or nothing
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            click.echo(f"wrote {rows} predictions to {output}", err=True)
        else:
            _write_blocks(client, blocks, csv, lambda text: click.echo(text, nl=False))


def _write_blocks(client: Any, blocks: list[Any], csv: Callable, write: Callable) -> int:
    """Compute the blocks in order, one ahead of the one being written; return the row count."""
    ahead, rows = client.compute(blocks[0]), 0
    for k in range(len(blocks)):
        Yhat = np.asarray(ahead.result(), dtype=np.float64)
        if k + 1 < len(blocks):
            ahead = client.compute(blocks[k + 1])
        write(csv(Yhat, k == 0))
        rows += len(Yhat)
    return rows
