"""Benchmarks: mlpnet beside PyTorch, scikit-learn and a bare NumPy loop, in one process.

Each benchmark runs the peers on the same data and settings and reports median times of several runs
and their ratios; nothing here is asserted. The reference network is the notes' MNIST classifier,
784-200-10, ReLU, softmax cross-entropy, float32. Peers that are not installed (torch, scikit-learn)
are reported as missing. Run with ``mlpnet bench`` or ``python benchmarks/run.py``.
"""

from __future__ import annotations

import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import mlpnet

from ._threads import blas_threads as limit_blas
from ._threads import check_threads

SIZES = [784, 200, 10]
__all__ = ["BENCHMARKS", "run"]
_fit_threads: Any = "auto"
"""The ``threads`` of mlpnet's fits here: "auto", or None under `run`'s fixed count."""


# ------------------------------------------------------------------ helpers
def median_time(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `fn` over `repeats` runs after `warmup` unmeasured ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blas_threads() -> int:
    """Threads the BLAS under NumPy uses (threadpoolctl), or 1 if unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1
    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts, default=1)


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(blas_threads())
    return torch


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped random data: X uniform in [0, 1) float32 (n, 784), labels 0 … 9."""
    rng = np.random.default_rng(seed)
    return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], n)


def epoch_flops(n: int, sizes: list[int] = SIZES) -> float:
    """FLOPs of one epoch's matrix products.

    Forward 2·n_in·n_out per layer and sample; backward the same for ∇W, and again for the δ below
    every layer but the first.
    """
    per_sample = 0
    for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        per_sample += 2 * n_in * n_out * (3 if l > 0 else 2)
    return float(n * per_sample)


def gemm_rate(n: int = 2000, repeats: int = 5) -> float:
    """The machine's float32 matrix-multiply rate in GFLOP/s: one large GEMM, NumPy's BLAS."""
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    return 2 * n**3 / median_time(lambda: A @ B, repeats) / 1e9


def _initial_layers(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    net = mlpnet.Network(SIZES, activation="relu", seed=seed)
    return [(l.W.copy(), l.b.copy()) for l in net.layers]


# ------------------------------------------------------------------ peers: one epoch of SGD
def numpy_epoch(layers: list, X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> None:
    """The bare NumPy floor: forward, backward, in-place update, nothing else."""
    (W1, b1), (W2, b2) = layers
    for i in range(0, len(X), batch):
        Xb, yb = X[i : i + batch], y[i : i + batch]
        Z1 = Xb @ W1.T
        Z1 += b1
        Q1 = np.maximum(Z1, 0)
        Z2 = Q1 @ W2.T
        Z2 += b2
        P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(yb)), yb] -= 1
        P /= len(yb)
        D = P @ W2
        D *= Z1 > 0
        W2 -= lr * (P.T @ Q1)
        b2 -= lr * P.sum(axis=0)
        W1 -= lr * (D.T @ Xb)
        b1 -= lr * D.sum(axis=0)


def mlpnet_epoch(net: mlpnet.Network, X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> None:
    """What a user runs: ``net.fit`` for one epoch (no shuffling, no progress bar)."""
    net.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.optim.SGD(lr=lr),
        batch_size=batch,
        epochs=1,
        shuffle=False,
        progress=False,
        threads=_fit_threads,
    ).raise_if_interrupted()


def torch_model(torch: Any, layers: list) -> Any:
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 200), torch.nn.ReLU(), torch.nn.Linear(200, 10)
    )
    with torch.no_grad():
        for module, (W, b) in zip((model[0], model[2]), layers, strict=True):
            module.weight.copy_(torch.from_numpy(W))
            module.bias.copy_(torch.from_numpy(b))
    return model


def torch_epoch(torch: Any, model: Any, opt: Any, Xt: Any, yt: Any, batch: int) -> None:
    """PyTorch's idiom: ``nn.Sequential`` + ``torch.optim.SGD``, one epoch in order."""
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(0, len(Xt), batch):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(Xt[i : i + batch]), yt[i : i + batch]).backward()
        opt.step()


def sklearn_epoch(X: np.ndarray, y: np.ndarray, batch: int, lr: float) -> Callable[[], None] | None:
    try:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None

    def epoch() -> None:
        clf = MLPClassifier(
            (200,),
            solver="sgd",
            momentum=0.0,
            alpha=0.0,
            batch_size=batch,
            learning_rate_init=lr,
            max_iter=1,
            shuffle=False,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    return epoch


# ------------------------------------------------------------------ the benchmarks
Row = dict[str, Any]


def bench_minibatch(repeats: int = 3, quick: bool = False, batch: int = 100) -> list[Row]:
    """One epoch of mini-batch SGD (lr 0.5) over 60,000 MNIST-shaped rows, every peer."""
    n = size("minibatch", quick)
    X, y = synthetic(n)
    layers = _initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: mlpnet_epoch(net, X, y, batch, 0.5), repeats)}
    numpy_layers = [(W.copy(), b.copy()) for W, b in layers]
    rows["numpy loop"] = median_time(lambda: numpy_epoch(numpy_layers, X, y, batch, 0.5), repeats)
    torch = _torch()
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
    layers = _initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: mlpnet_epoch(net, X, y, 1, 0.01), repeats) / n * 1e6}
    numpy_layers = [(W.copy(), b.copy()) for W, b in layers]
    rows["numpy loop"] = (
        median_time(lambda: numpy_epoch(numpy_layers, X, y, 1, 0.01), repeats) / n * 1e6
    )
    torch = _torch()
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
    numpy_layers = _initial_layers()
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
                threads=_fit_threads,
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
    layers = _initial_layers()
    net = mlpnet.Network(SIZES, activation="relu", seed=0)
    rows = {"mlpnet": median_time(lambda: net.predict(X), repeats)}
    (W1, b1), (W2, b2) = layers
    rows["numpy loop"] = median_time(lambda: np.maximum(X @ W1.T + b1, 0) @ W2.T + b2, repeats)
    torch = _torch()
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
    from .datasets import mnist_10k

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
        threads=_fit_threads,
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
    from .datasets import mnist_10k

    X, y, Xt, yt = mnist_10k(directory or _default_mnist())
    epochs = size("accuracy", quick)
    layers = _initial_layers()
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
        threads=_fit_threads,
    ).raise_if_interrupted()
    rows = [
        {
            "peer": "mlpnet",
            "test error %": 100 * np.mean(net.predict(Xt).argmax(1) != yt),
            "seconds": time.perf_counter() - start,
        }
    ]
    torch = _torch()
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
    from .datasets import find_mnist

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


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[Row]) -> str:
    """Rows as a markdown table (columns: the union of the rows' keys, in order)."""
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_format(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def environment() -> str:
    """One line on the machine and the versions measured."""
    parts = [
        platform.processor() or platform.machine(),
        f"Python {platform.python_version()}",
        f"NumPy {np.__version__}",
        f"{blas_threads()} BLAS threads",
    ]
    torch = _torch()
    if torch is not None:
        parts.append(f"PyTorch {torch.__version__}")
    try:
        import sklearn

        parts.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def run(
    names: Any = None,
    quick: bool = False,
    repeats: int = 3,
    echo: Callable[[str], Any] = print,
    threads: Any = "auto",
) -> str:
    """Run the named benchmarks (all by default), echoing each table as it completes.

    ``threads="auto"`` lets mlpnet's ``fit`` choose its BLAS threads and leaves the peers at their
    defaults; a number fixes the BLAS's threads (NumPy loop, mlpnet) and PyTorch's alike.
    """
    global _fit_threads
    names = list(names or BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark {unknown[0]!r}; choose from {list(BENCHMARKS)}")
    threads = check_threads(threads)
    fixed = threads if isinstance(threads, int) else None
    with limit_blas(fixed):
        _fit_threads = None if fixed else threads
        try:
            return _run(names, quick, repeats, echo, threads)
        finally:
            _fit_threads = "auto"


def _run(
    names: list[str], quick: bool, repeats: int, echo: Callable[[str], Any], threads: Any
) -> str:
    mode = "quick mode: the smaller sizes in the titles, " if quick else ""
    out = [
        f"mlpnet {mlpnet.__version__} benchmarks — {environment()} — {mode}median of "
        f"{repeats} run{'s' if repeats > 1 else ''} — mlpnet threads: {threads}"
    ]
    echo(out[0])
    for name in names:
        title, fn, goal = BENCHMARKS[name]
        try:
            body = table(fn(repeats=repeats, quick=quick))
        except (FileNotFoundError, ImportError) as err:
            body = f"skipped: {err}"
        section = f"\n### {name}: {title(size(name, quick))}\ngoal: {goal}\n\n{body}"
        echo(section)
        out.append(section)
    return "\n".join(out)
