"""J(θ) and ∇J(θ) over row shards held by Dask workers, summed where the data are.

For shards X_1, …, X_P of n_1, …, n_P rows the full-batch objective of the notes splits as

    J(θ) = (1/N) Σ_p S_p(θ),   S_p(θ) = Σ_{i ∈ p} ℓ(f(x_i; θ), y_i),   N = Σ_p n_p,
    ∇J(θ) = (1/N) Σ_p ∇S_p(θ),

and ∇S_p is Algorithm 6.1 on the shard with δ_L = ∂S_p/∂Z_L (no 1/n_p). One evaluation sends θ
to the cluster once (one task holds it and the workers pass it on, never one copy per task), runs
one task per shard returning (S_p, ∇S_p, n_p, hits_p), adds the partial sums on the workers in
groups of `FAN_IN` (a tree, so the client receives at most `FAN_IN` gradients), and divides by N on
the client.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .. import backprop
from .._checks import check_X, check_Y
from .._theta import layer_views
from .._types import Array, BatchObjective
from ..losses import check_pairing, get_loss
from ..metrics import accuracy

try:
    import dask
    import dask.array as da
    import distributed
except ImportError as exc:  # pragma: no cover - dask is installed with the test extra
    raise ImportError('mlpnet.distributed needs Dask: pip install "mlpnet[dask]"') from exc

__all__ = ["FAN_IN", "ShardedObjective", "loss_and_gradient"]

FAN_IN = 8
"""Partial sums added per reduction task (and the most gradients the client receives at once)."""


class _Sums(NamedTuple):
    """One shard's (or a group's) contribution: S = Σ ℓ_i, ∇S (or None), n rows, correct rows."""

    S: float
    G: Array | None
    n: int
    hits: int


# -- tasks run on the workers ---------------------------------------------------------------------


def _checked_block(X: Any, Y: Any, spec: tuple, start: int) -> tuple[Array, Any]:
    """Shard (X_p, Y_p) checked and converted as ``net.objective(check=True)`` would."""
    n_features, n_outputs, loss, dtype = spec
    try:
        X, _ = check_X(X, n_features, dtype)
        Y = check_Y(Y, len(X), n_outputs, loss, dtype)
    except ValueError as err:
        raise ValueError(f"rows {start}–{start + len(X)}: {err}") from None
    return X, Y


def _block_sums(block: tuple[Array, Any], model: tuple, theta: Array, gradient: bool) -> _Sums:
    """(S_p, ∇S_p, n_p, hits_p) of one shard at θ; the worker's network is left untouched."""
    (net, loss), (X, Y) = model, block
    acts = [layer.activation for layer in net.layers]
    params = layer_views(theta, net.sizes)
    n, G = len(X), None
    if gradient:
        cache = backprop.forward(params, acts, X)
        J, delta = backprop.loss_and_delta(loss, acts[-1], cache.Z[-1], cache.Q[-1], Y)
        delta *= n  # δ_L of the sum S_p rather than of the mean
        G = np.empty_like(theta)
        backprop.backward(params, acts, cache, delta, layer_views(G, net.sizes))
        output = cache.output
    else:
        Z, output = backprop.output(params, acts, X)
        J = backprop.loss_value(loss, acts[-1], Z, output, Y)
    hits = (
        round(accuracy(output, Y, loss) * n)
        if gradient and getattr(loss, "is_classification", False)
        else 0
    )
    return _Sums(J * n, G, n, hits)


def _add(*parts: _Sums) -> _Sums:
    """The sum of partial sums, gradients accumulated in float64 in the order given."""
    G = None
    if parts[0].G is not None:
        G = np.array(parts[0].G, dtype=np.float64)
        for part in parts[1:]:
            G += part.G
    return _Sums(
        math.fsum(p.S for p in parts), G, sum(p.n for p in parts), sum(p.hits for p in parts)
    )


# -- the client's side ----------------------------------------------------------------------------


def get_client(client: Any = None) -> Any:
    """`client`, else the current ``distributed.Client``; a clear error when there is none."""
    if client is not None:
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(
            "no Dask client: pass client=, or start one first (distributed.Client(address) or "
            "distributed.Client(distributed.LocalCluster(host='127.0.0.1')))"
        ) from None


def as_row_blocks(net: Any, X: Any, Y: Any) -> tuple[Any, Any]:
    """X as a dask array split by rows only (all n_0 columns per block), Y split like X."""
    X = X if isinstance(X, da.Array) else da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows are samples), got shape {X.shape}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has blocks of unknown size: call X.compute_chunk_sizes() first")
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"expected {net.sizes[0]} features, got {X.shape[1]}")
    if X.shape[0] == 0:
        raise ValueError("X is empty (0 samples)")
    X = X.rechunk({1: -1})
    if not isinstance(Y, da.Array):
        Y = np.asarray(Y)
        if Y.ndim == 0 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must have {X.shape[0]} rows like X, got shape {Y.shape}")
        Y = da.from_array(Y, chunks=(X.chunks[0],) + Y.shape[1:])
    if Y.ndim == 0 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have {X.shape[0]} rows like X, got shape {Y.shape}")
    return X, Y.rechunk((X.chunks[0],) + tuple((s,) for s in Y.shape[1:]))


class ShardedObjective(BatchObjective):
    """J(θ) of a network on row-sharded dask arrays, evaluated on a Dask cluster.

    An `mlpnet.Objective` for the full-batch optimizers: ``objective(θ)`` → ``(J, ∇J)``,
    ``objective.value(θ)`` → J, equal to ``net.objective(X_all, Y_all, loss)`` on the gathered data
    up to rounding (the sums are added in another order). The network is never changed.

    Parameters
    ----------
    net : Network
        Gives the architecture and dtype; θ comes with each call.
    X, Y : dask arrays (or arrays)
        Inputs ``(N, n_0)`` and targets; Y is re-split to X's row blocks. Each block is checked on
        its worker as ``net.objective`` checks data (errors name the block's rows).
    loss : str or loss object
    client : distributed.Client, optional
        Default: the current client.
    persist : bool, default True
        Compute the checked blocks now and keep them on the workers (full-batch training);
        False leaves them to be computed block by block (`mini_batches`).

    Attributes
    ----------
    X, Y : dask arrays
        The data as split; ``len(X)`` is N.
    accuracy : float
        For a classification loss, the accuracy at the θ of the latest ``objective(θ)`` (counted on
        the workers in the same pass); NaN before it or for other losses.
    """

    held_elsewhere = True
    """The rows live on the workers: the fit loop refuses what needs them here (weights, masks)."""

    def __init__(
        self,
        net: Any,
        X: Any,
        Y: Any,
        loss: Any,
        *,
        client: Any = None,
        persist: bool = True,
    ) -> None:
        self.net, self.client = net, get_client(client)
        self.loss = get_loss(loss)
        check_pairing(self.loss, net.layers[-1].activation)
        self.X, self.Y = as_row_blocks(net, X, Y)
        self.accuracy = math.nan
        spec = (net.sizes[0], net.sizes[-1], self.loss, net.dtype)
        check = dask.delayed(_checked_block, pure=True)
        starts = np.cumsum((0,) + self.X.chunks[0])
        self.blocks = [
            check(x, y, spec, int(start))
            for x, y, start, size in zip(
                self.X.to_delayed().ravel(),
                self.Y.to_delayed().ravel(),
                starts,
                self.X.chunks[0],
                strict=False,
            )
            if size > 0
        ]
        """One delayed checked (X_p, Y_p) per non-empty block, in row order."""
        self._model = _held(self.client, (net.copy(), self.loss))
        self._persisted: list[Any] | None = None
        if persist:
            self.persist()

    def persist(self) -> list[Any]:
        """Compute the checked blocks onto the workers (once) and return their futures."""
        if self._persisted is None:
            futures = self.client.compute(self.blocks)
            distributed.wait(futures)
            for future in futures:
                if future.status == "error":
                    raise future.exception() from None
            self._persisted = futures
        return self._persisted

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(J(θ), ∇J(θ))``, one pass over the shards."""
        sums = self._evaluate(theta, gradient=True)
        if getattr(self.loss, "is_classification", False):
            self.accuracy = sums.hits / sums.n
        return sums.S / sums.n, (sums.G / sums.n).astype(self.net.dtype)

    def value(self, theta: Array) -> float:
        """J(θ): forward passes only."""
        sums = self._evaluate(theta, gradient=False)
        return sums.S / sums.n

    def mini_batches(self, batch_size: int, shuffle: bool, seed: Any) -> Any:
        """The fit loop's epoch → batches, streaming blocks (see `mlpnet.distributed.fit`)."""
        from ._fit import stream_batches

        return stream_batches(self, batch_size, shuffle, seed)

    def _evaluate(self, theta: Array, gradient: bool) -> _Sums:
        theta = np.array(theta, dtype=self.net.dtype)  # the optimizer may reuse its buffer
        if theta.shape != self.net.params.shape:
            raise ValueError(f"expected {self.net.n_params} parameters, got shape {theta.shape}")
        client = self.client
        shared = _held(client, theta)
        parts = client.map(
            _block_sums,
            self.persist(),
            model=self._model,
            theta=shared,
            gradient=gradient,
            pure=False,
        )
        while len(parts) > FAN_IN:  # a tree of partial sums on the workers
            groups = _groups(parts, FAN_IN)
            parts = [client.submit(_add, *group, pure=False) for group in groups]
        return _add(*client.gather(parts))

    def close(self) -> None:
        """Let the workers forget the blocks and the network."""
        for future in self._persisted or ():
            future.release()
        self._persisted = None
        self._model.release()

    def __enter__(self) -> ShardedObjective:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same(value: Any) -> Any:
    return value


def _held(client: Any, value: Any) -> Any:
    """`value` held on the cluster as one task's result (a future): sent once, not per task.

    The tasks that need it fetch it from the worker holding it (workers pass it on among
    themselves), and, unlike scattered data, it has lineage: if every worker holding it dies, Dask
    recomputes it from the task instead of failing the evaluation.
    """
    return client.submit(_same, value, pure=False, priority=10)


def _groups(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def loss_and_gradient(
    net: Any, X: Any, Y: ArrayLike, loss: Any, client: Any = None
) -> tuple[float, Array]:
    """``(J, ∇θ J)`` at ``net.params`` over dask arrays, computed where the shards are.

    Equal to ``net.loss_and_gradient`` on the gathered data up to rounding (the mean over all N
    rows; 1e-10 relative in float64). See `ShardedObjective` for the arguments.
    """
    with ShardedObjective(net, X, Y, loss, client=client) as objective:
        return objective(net.params)
