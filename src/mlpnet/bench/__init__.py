"""Benchmarks: mlpnet beside PyTorch, scikit-learn and a bare NumPy loop, in one process.

Each benchmark runs the peers on the same data and settings and reports median times of several runs
and their ratios; nothing here is asserted. The reference network is the notes' MNIST classifier,
784-200-10, ReLU, softmax cross-entropy, float32. Peers that are not installed (torch, scikit-learn)
are reported as missing. Run with ``mlpnet bench`` or ``python benchmarks/run.py``.

The package: `measure` (timing, reference data, FLOPs), `peers` (one epoch in each library),
`cases` (the benchmarks and their table `BENCHMARKS`), `report` (`run`, `table`).
"""

from . import cases, measure, peers, report
from .cases import BENCHMARKS, SIZE, Row, size
from .measure import (
    SIZES,
    blas_threads,
    epoch_flops,
    gemm_rate,
    initial_layers,
    median_time,
    synthetic,
)
from .peers import mlpnet_epoch, numpy_epoch, sklearn_epoch, torch_epoch, torch_model
from .report import environment, run, table

__all__ = [
    "BENCHMARKS",
    "SIZE",
    "SIZES",
    "Row",
    "blas_threads",
    "cases",
    "environment",
    "epoch_flops",
    "gemm_rate",
    "initial_layers",
    "measure",
    "median_time",
    "mlpnet_epoch",
    "numpy_epoch",
    "peers",
    "report",
    "run",
    "size",
    "sklearn_epoch",
    "synthetic",
    "table",
    "torch_epoch",
    "torch_model",
]
