"""Training and prediction on dask arrays: `fit` and `predict`, and the block stream of SGD.

Full batch (``batch_size=None``): `mlpnet.training.fit` runs unchanged on the client with a
`ShardedObjective`, so GD, Armijo, exact line search and L-BFGS see the exact J and ∇J of all N
rows.

Mini-batches: one epoch is one pass over the blocks; each block is computed on a worker (read,
checked) and fetched while the previous block trains, then cut into batches of ``batch_size``
consecutive rows that train in-process, as ``net.fit`` does. Only two blocks are on the client at a
time, so X may be far larger than its memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._checks import check_count
from .._types import Array
from ..history import History
from ._objective import ShardedObjective, as_row_blocks, da, get_client

__all__ = ["fit", "predict", "stream_batches"]


class _OnCluster:
    """The `Trainable` handed to the fit loop: ``net`` with objectives on dask arrays sharded."""

    def __init__(self, net: Any, client: Any, stream: bool) -> None:
        self.net, self.client, self.stream = net, client, stream
        self.made: list[ShardedObjective] = []

    @property
    def params(self) -> Array:
        return self.net.params

    @property
    def layer_slices(self) -> list[slice]:
        return self.net.layer_slices

    def objective(self, X: Any, Y: Any, loss: Any, *, check: bool = True) -> Any:
        if not isinstance(X, da.Array):
            return self.net.objective(X, Y, loss, check=check)
        made = ShardedObjective(self.net, X, Y, loss, client=self.client, persist=not self.stream)
        self.made.append(made)
        return made

    def loss_and_gradient(self, X: Any, Y: Any, loss: Any) -> tuple[float, Array]:
        return self.net.loss_and_gradient(X, Y, loss)

    def predict(self, X: Any) -> Array:
        return np.asarray(predict(self.net, X)) if isinstance(X, da.Array) else self.net.predict(X)


def fit(
    net: Any,
    X: Any,
    Y: Any,
    *,
    loss: Any,
    optimizer: Any = "sgd",
    epochs: int = 10,
    batch_size: int | None = None,
    client: Any = None,
    **fit_options: Any,
) -> History:
    """Train ``net`` in place on dask arrays X, Y (split by rows); return the `History`.

    The arguments are those of `mlpnet.training.fit`, plus ``client`` (default: the current one).

    - ``batch_size=None`` (or ≥ N): every step evaluates J and ∇J on the cluster with the blocks
      kept on the workers (`ShardedObjective`); the optimizer runs here. Equal to ``net.fit`` on the
      gathered data up to rounding.
    - ``batch_size=B``: mini-batch steps streamed block by block, the next block fetched while the
      current one trains. One epoch is one pass over the blocks in order; with ``shuffle=True``
      (the default) the block order and the rows inside each block are permuted (seeded by
      ``seed``), with ``shuffle=False`` the batches are B consecutive rows of a block, which are
      the batches of ``net.fit(…, shuffle=False)`` when every block size is a multiple of B.

    ``validation_data`` is gathered into memory. A block that fails its checks (NaN, wrong labels)
    raises ValueError naming its rows, and θ is restored to where it started.
    """
    if batch_size is not None:
        batch_size = check_count("batch_size", batch_size)
    client = get_client(client)
    X, Y = as_row_blocks(net, X, Y)
    stream = batch_size is not None and batch_size < X.shape[0]
    validation = fit_options.get("validation_data")
    if validation is not None and isinstance(validation, (tuple, list)):
        fit_options["validation_data"] = tuple(
            v.compute() if isinstance(v, da.Array) else v for v in validation
        )
    model = _OnCluster(net, client, stream)
    start = net.params.copy()
    from ..training import fit as train

    try:
        return train(
            model,
            X,
            Y,
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            **fit_options,
        )
    except ValueError:
        net.params = start
        raise
    finally:
        for objective in model.made:
            objective.close()


def stream_batches(objective: ShardedObjective, batch_size: int, shuffle: bool, seed: Any) -> Any:
    """Epoch → (batch objective, size, is last) over the blocks, one block fetched ahead."""
    rng = np.random.default_rng(seed)
    net, loss, client, blocks = objective.net, objective.loss, objective.client, objective.blocks
    n = len(objective.X)

    def fetch(block: Any) -> tuple[Array, Any]:
        return client.compute(block).result()  # read and checked on a worker, then sent here

    def epoch_batches(epoch: int) -> Iterator[tuple[Any, int, bool]]:
        order = rng.permutation(len(blocks)) if shuffle else range(len(blocks))
        seen = 0
        with ThreadPoolExecutor(1, thread_name_prefix="mlpnet-prefetch") as pool:
            ahead = pool.submit(fetch, blocks[order[0]])
            for k in range(len(blocks)):
                X, Y = ahead.result()
                if k + 1 < len(blocks):
                    ahead = pool.submit(fetch, blocks[order[k + 1]])  # while this block trains
                if shuffle:
                    rows = rng.permutation(len(X))
                    X, Y = X[rows], np.asarray(Y)[rows]
                for i in range(0, len(X), batch_size):
                    Xb, Yb = X[i : i + batch_size], Y[i : i + batch_size]
                    seen += len(Xb)
                    yield net.objective(Xb, Yb, loss, check=False), len(Xb), seen == n

    return epoch_batches


def _predict_block(X: Array, net: Any) -> Array:
    return net.predict(X)


def predict(net: Any, X: Any) -> Any:
    """``net.predict`` over a dask array, block by block: a dask array ``(N, n_L)``, lazy.

    X is split by rows only (blocks across columns are joined first); each block goes through
    ``net.predict`` on a worker, with its checks (errors name the problem as there).
    """
    X = X if isinstance(X, da.Array) else da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows are samples), got shape {X.shape}")
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"expected {net.sizes[0]} features, got {X.shape[1]}")
    X = X.rechunk({1: -1})
    return X.map_blocks(
        _predict_block, net.copy(), dtype=net.dtype, chunks=(X.chunks[0], (net.sizes[-1],))
    )
