"""What the benchmarks share: timing, the reference network and data, FLOP counts, settings."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import mlpnet

__all__ = [
    "SIZES",
    "blas_threads",
    "epoch_flops",
    "gemm_rate",
    "initial_layers",
    "load_torch",
    "median_time",
    "settings",
    "synthetic",
]

SIZES = [784, 200, 10]
"""The reference network: the notes' MNIST classifier 784-200-10."""


class Settings:
    """What `mlpnet.bench.run` fixes for one run of the benchmarks."""

    fit_threads: Any = "auto"
    """The ``threads`` of mlpnet's fits: "auto", or None under `run`'s fixed count."""


settings = Settings()


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


def load_torch() -> Any:
    """PyTorch with the BLAS's thread count, or None when it is not installed."""
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


def initial_layers(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (W, b) of the reference network seeded with `seed`, as copies for the NumPy peer."""
    net = mlpnet.Network(SIZES, activation="relu", seed=seed)
    return [(l.W.copy(), l.b.copy()) for l in net.layers]
