"""Running the benchmarks and reporting them as markdown tables."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import numpy as np

import mlpnet

from .._threads import blas_threads as limit_blas
from .._threads import check_threads
from .cases import BENCHMARKS, Row, size
from .measure import blas_threads, load_torch, settings

__all__ = ["environment", "run", "table"]


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
    torch = load_torch()
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
    names = list(names or BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(f"unknown benchmark {unknown[0]!r}; choose from {list(BENCHMARKS)}")
    threads = check_threads(threads)
    fixed = threads if isinstance(threads, int) else None
    with limit_blas(fixed):
        settings.fit_threads = None if fixed else threads
        try:
            return _run(names, quick, repeats, echo, threads)
        finally:
            settings.fit_threads = "auto"


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
