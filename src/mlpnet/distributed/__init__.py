"""mlpnet past one machine, on Dask (extra ``mlpnet[dask]``).

Exact full-batch training on sharded data, streamed mini-batch SGD and out-of-core prediction.

The notes' full-batch J(θ) = (1/N) Σ_i ℓ_i(θ) is a sum over samples, so it splits over row blocks
(shards) X = [X_1; …; X_P] held by the workers: J = (Σ_p S_p) / (Σ_p n_p) with S_p = Σ_{i∈p} ℓ_i
and ∇J = (Σ_p ∇S_p) / N. Each evaluation sends θ to the workers once, each worker runs Algorithm
6.1 on its shards and returns the sums, and the optimizer (GD, Armijo, exact line search, L-BFGS)
runs unchanged on the client: the result is the single-machine one up to rounding.

- `loss_and_gradient(net, X, Y, loss)` → (J, ∇J) on dask arrays;
- `ShardedObjective`: the same as an `mlpnet.Objective`, for the optimizers;
- `fit(net, X, Y, …)`: `mlpnet.training.fit` on the cluster (full batch), or streaming the blocks
  through mini-batch SGD with the next block fetched while the current one trains;
- `predict(net, X)`: a dask array of ``net.predict``, block by block.

Hyper-parameter sweeps need nothing from here: scikit-learn's searches over `mlpnet.MLPClassifier`
run on a cluster inside ``with joblib.parallel_backend("dask"):``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ShardedObjective", "fit", "loss_and_gradient", "predict"]


def __getattr__(name: str) -> Any:  # dask is imported on first use, not with mlpnet
    if name in ("ShardedObjective", "loss_and_gradient"):
        from . import _objective

        return getattr(_objective, name)
    if name in ("fit", "predict"):
        from . import _fit

        return getattr(_fit, name)
    raise AttributeError(f"module 'mlpnet.distributed' has no attribute {name!r}")
