"""The benchmarks: each runs the peers on the same data and returns rows of figures."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import mlpnet

from .measure import (
    SIZES,
    epoch_flops,
    gemm_rate,
    initial_layers,
    load_torch,
    median_time,
    settings,
    synthetic,
)
from .peers import mlpnet_epoch, numpy_epoch, sklearn_epoch, torch_epoch, torch_model

__all__ = ["BENCHMARKS", "SIZE", "Row", "size"]

Row = dict[str, Any]


def bench_minibatch(repeats: int = 3, quick: bool = False, batch: int = 100) -> list[Row]:
    """One epoch of mini-batch SGD (lr 0.5) over 60,000 MNIST-shaped rows, every peer."""
    n = size("minibatch", quick)
    X, y = synthetic(n)
    layers = initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: mlpnet_epoch(net, X, y, batch, 0.5), repeats)}
    numpy_layers = [(W.copy(), b.copy()) for W, b in layers]
    rows["numpy loop"] = median_time(lambda: numpy_epoch(numpy_layers, X, y, batch, 0.5), repeats)
    torch = load_torch()
    if torch is not None:
        model = torch_model(torch, layers)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        rows["pytorch"] = median_time(
            lambda: torch_epoch(torch, model, opt, Xt, yt, batch), repeats
        )
    sk = sklearn_epoch(X, y, batch, 0.5)
    if sk is not None:
        rows["scikit-learn"] = median_time(sk, repeats)
    gflops = epoch_flops(n) / 1e9
    return [
        {"peer": k, "seconds": v, "ratio": v / rows["mlpnet"], "GFLOP/s": gflops / v}
        for k, v in rows.items()
    ]


def bench_online(repeats: int = 3, quick: bool = False) -> list[Row]:
    """Online SGD (batch 1): microseconds per step."""
    n = size("online", quick)
    X, y = synthetic(n)
    layers = initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: mlpnet_epoch(net, X, y, 1, 0.01), repeats) / n * 1e6}
    numpy_layers = [(W.copy(), b.copy()) for W, b in layers]
    rows["numpy loop"] = (
        median_time(lambda: numpy_epoch(numpy_layers, X, y, 1, 0.01), repeats) / n * 1e6
    )
    torch = load_torch()
    if torch is not None:
        model = torch_model(torch, layers)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        rows["pytorch"] = (
            median_time(lambda: torch_epoch(torch, model, opt, Xt, yt, 1), repeats) / n * 1e6
        )
    return [{"peer": k, "us/step": v, "ratio": v / rows["mlpnet"]} for k, v in rows.items()]


def bench_large_batch(repeats: int = 3, quick: bool = False, batch: int = 1000) -> list[Row]:
    """Mini-batch SGD with batch 1,000: the achieved rate against one large GEMM's."""
    n = size("batch1000", quick)
    X, y = synthetic(n)
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    seconds = median_time(lambda: mlpnet_epoch(net, X, y, batch, 0.1), repeats)
    numpy_layers = initial_layers()
    numpy_seconds = median_time(lambda: numpy_epoch(numpy_layers, X, y, batch, 0.1), repeats)
    peak = gemm_rate()
    flops = epoch_flops(n) / 1e9
    return [
        {"peer": "mlpnet", "GFLOP/s": flops / seconds, "of GEMM rate": flops / seconds / peak},
        {
            "peer": "numpy loop",
            "GFLOP/s": flops / numpy_seconds,
            "of GEMM rate": flops / numpy_seconds / peak,
        },
        {"peer": "one 2000² GEMM", "GFLOP/s": peak, "of GEMM rate": 1.0},
    ]


def bench_armijo(repeats: int = 3, quick: bool = False) -> list[Row]:
    """Full-batch Armijo on 8,000 rows: one iteration against one forward + backward pass.

    An iteration costs one backward pass (the forward pass at the accepted point is reused) plus
    one forward pass per trial step; the rows show lr0 = 1 and an lr0 whose first trial passes.
    """
    X, y = synthetic(size("armijo", quick))
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    objective = net.objective(X, y, "softmax_cross_entropy")
    pass_time = median_time(lambda: objective(net.params), repeats)
    rows = [{"what": "forward + backward", "seconds": pass_time, "ratio": 1.0}]
    iters = 5
    for lr0 in (1.0, 0.125):
        start = net.params.copy()
        trials: list[float] = []

        def armijo(lr0: float = lr0, start: np.ndarray = start, trials: list = trials) -> None:
            net.params = start
            h = net.fit(
                X,
                y,
                loss="softmax_cross_entropy",
                optimizer=mlpnet.optim.Armijo(lr0=lr0),
                epochs=iters,
                progress=False,
                threads=settings.fit_threads,
            ).raise_if_interrupted()
            trials[:] = [1 + round(np.log2(lr0 / t)) for t in h.lr]  # β = ½

        seconds = median_time(armijo, repeats) / iters
        rows.append(
            {
                "what": f"Armijo iteration, lr0 = {lr0}",
                "seconds": seconds,
                "ratio": seconds / pass_time,
                "trials/iteration": float(np.mean(trials)),
            }
        )
    return rows


def bench_inference(repeats: int = 5, quick: bool = False) -> list[Row]:
    """Predicting 10,000 rows."""
    X, _ = synthetic(size("inference", quick))
    layers = initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: net.predict(X), repeats)}
    (W1, b1), (W2, b2) = layers
    rows["numpy loop"] = median_time(lambda: np.maximum(X @ W1.T + b1, 0) @ W2.T + b2, repeats)
    torch = load_torch()
    if torch is not None:
        model, Xt = torch_model(torch, layers), torch.from_numpy(X)

        def run_torch() -> None:
            with torch.inference_mode():
                model(Xt)

        rows["pytorch"] = median_time(run_torch, repeats)
    return [{"peer": k, "seconds": v, "ratio": v / rows["mlpnet"]} for k, v in rows.items()]


def bench_gradcheck(repeats: int = 1, quick: bool = False) -> list[Row]:
    """Backpropagation O(|w|) against central differences O(|w|²) as |w| doubles 5 times.

    A 8-h-4 tanh network on 64 samples, h = 16 … 512: |w| = 13h + 4 doubles with h. The "×"
    columns are each time over the previous row's: ≈ 2 for O(|w|), ≈ 4 for O(|w|²).
    """
    rows: list[Row] = []
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 8)), rng.integers(0, 4, 64)
    for hidden in [16, 32, 64, 128, 256, 512][: size("gradcheck", quick)]:
        net = mlpnet.Network([8, hidden, 4], activation="tanh", seed=0, dtype="float64")
        bp = median_time(lambda net=net: net.loss_and_gradient(X, y, "softmax_cross_entropy"), 9)
        fd = median_time(
            lambda net=net: mlpnet.finite_difference_gradient(net, X, y, "softmax_cross_entropy"),
            repeats,
            0,
        )
        row: Row = {"n_params": net.n_params, "backprop s": bp, "differences s": fd}
        if rows:
            row["backprop ×"] = bp / rows[-1]["backprop s"]
            row["differences ×"] = fd / rows[-1]["differences s"]
        rows.append(row)
    return rows


def bench_memory(repeats: int = 1, quick: bool = False, directory: str | None = None) -> list[Row]:
    """Peak memory (tracemalloc) while training on mnist_10k, against its budget.

    The budget is data + 4·θ + one batch's activations; the data and the interpreter baseline are
    excluded by measuring only what training allocates.
    """
    from ..datasets import mnist_10k

    try:
        X, y, Xv, yv = mnist_10k(directory or _default_mnist())
    except FileNotFoundError:
        X, y = synthetic(8000)
        Xv, yv = synthetic(2000, seed=1)
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    batch = 100
    tracemalloc.start()
    net.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.optim.SGD(lr=0.5),
        batch_size=batch,
        epochs=size("memory", quick),
        validation_data=(Xv, yv),
        progress=False,
        threads=settings.fit_threads,
    ).raise_if_interrupted()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    theta = net.params.nbytes
    activations = batch * sum(SIZES) * 4 * 3  # Z, Q and δ per layer
    budget = 4 * theta + activations
    return [
        {"what": "data (held before training)", "MB": (X.nbytes + Xv.nbytes) / 1e6},
        {"what": "peak allocated by fit", "MB": peak / 1e6},
        {"what": "budget 4·θ + batch activations", "MB": budget / 1e6, "ratio": peak / budget},
    ]


def bench_accuracy(
    repeats: int = 1, quick: bool = False, directory: str | None = None
) -> list[Row]:
    """Test error (%) on mnist_10k with the notes' settings, mlpnet and PyTorch.

    SGD lr 0.5, batch 100, 15 epochs, both from the same initial θ.
    """
    from ..datasets import mnist_10k

    X, y, Xt, yt = mnist_10k(directory or _default_mnist())
    epochs = size("accuracy", quick)
    layers = initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    start = time.perf_counter()
    net.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.optim.SGD(lr=0.5),
        batch_size=100,
        epochs=epochs,
        seed=0,
        progress=False,
        threads=settings.fit_threads,
    ).raise_if_interrupted()
    rows = [
        {
            "peer": "mlpnet",
            "test error %": 100 * np.mean(net.predict(Xt).argmax(1) != yt),
            "seconds": time.perf_counter() - start,
        }
    ]
    torch = load_torch()
    if torch is not None:
        model = torch_model(torch, layers)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        Xtr, ytr = torch.from_numpy(X), torch.from_numpy(y)
        gen = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=gen)
            torch_epoch(torch, model, opt, Xtr[order], ytr[order], 100)
        with torch.inference_mode():
            pred = model(torch.from_numpy(Xt)).argmax(1).numpy()
        rows.append(
            {
                "peer": "pytorch",
                "test error %": 100 * np.mean(pred != yt),
                "seconds": time.perf_counter() - start,
            }
        )
    return rows


def _default_mnist() -> str:
    from ..datasets import find_mnist

    return str(find_mnist())


SIZE = {
    "minibatch": (60_000, 12_000),
    "online": (3000, 500),
    "batch1000": (60_000, 20_000),
    "armijo": (8000, 2000),
    "inference": (10_000, 2000),
    "gradcheck": (6, 4),
    "memory": (2, 1),
    "accuracy": (15, 3),
}
"""Each benchmark's size (rows, steps, network sizes or epochs, as its title says): full, quick."""


def size(name: str, quick: bool) -> int:
    """The size `name` runs at (see `SIZE`): what its title reports."""
    return SIZE[name][1 if quick else 0]


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


BENCHMARKS: dict[str, tuple[Callable[[int], str], Callable[..., list[Row]], str]] = {
    "minibatch": (
        lambda n: f"mini-batch SGD, batch 100, one epoch of {n:,} rows",
        bench_minibatch,
        "≤ 0.8 × PyTorch, ≤ 0.5 × scikit-learn, ≤ 1.1 × NumPy loop",
    ),
    "online": (
        lambda n: f"online SGD, batch 1, {n:,} steps",
        bench_online,
        "µs/step ≤ 0.5 × PyTorch",
    ),
    "batch1000": (
        lambda n: f"batch 1,000, one epoch of {n:,} rows",
        bench_large_batch,
        "≥ 60 % of GEMM rate",
    ),
    "armijo": (
        lambda n: f"full-batch Armijo, {n:,} rows",
        bench_armijo,
        "≤ 1.3 × one forward + backward",
    ),
    "inference": (lambda n: f"inference, {n:,} rows", bench_inference, "≤ 0.8 × PyTorch"),
    "gradcheck": (
        lambda n: f"gradient check vs backprop as |w| doubles {n - 1} times",
        bench_gradcheck,
        "O(|w|²) vs O(|w|)",
    ),
    "memory": (
        lambda n: f"peak memory training on mnist_10k, {_epochs(n)}",
        bench_memory,
        "≤ data + 4θ + batch activations",
    ),
    "accuracy": (
        lambda n: f"mnist_10k, lr 0.5, batch 100, {_epochs(n)}",
        bench_accuracy,
        "test error within 0.3 points of PyTorch",
    ),
}
"""Name → (title for the size it runs at, function, goal)."""
