"""How many BLAS threads a computation gets: the ``threads=`` of ``fit`` and ``--threads``.

OpenBLAS splits one matrix product among its threads and makes them wait for each other; when
another process holds one of the cores, every product waits for the thread that is not running,
and an epoch of mini-batch SGD became 7–30× slower on a loaded 2-core machine (issue 9). On a
quiet machine a second thread pays from batches of about 100 rows (784-200-10: 1.4× at batch
100, none at batch 32).

The policy ``"auto"`` (the default) therefore picks, for a problem whose largest batch has
``rows`` rows and a network of ``n_params`` parameters (≈ multiply-adds of one forward pass per
row):

1. one thread when ``rows · n_params`` < `PARALLEL_WORK` (8 M multiply-adds: batches below
   ≈ 50 rows for 784-200-10), where splitting costs more than it gains even on a quiet machine;
2. otherwise as many threads as there are cores not busy with other processes (this process's
   CPU set minus the other runnable tasks, sampled a few times from ``/proc`` on Linux), at least
   one and at most the BLAS's own setting (e.g. ``OPENBLAS_NUM_THREADS``), decided again before
   every epoch, so that load arriving during training costs at most one epoch.

An integer asks for that many threads; None leaves the BLAS as it is. ``MLPNET_THREADS`` (an
integer or ``auto``) changes the default. The limits are set with threadpoolctl (in the ``all``
extra); without it every choice quietly becomes "leave the BLAS as it is", except an explicit
integer, which warns once.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

__all__ = ["PARALLEL_WORK", "THREADS_HELP", "blas_threads", "check_threads", "choose_threads"]

PARALLEL_WORK = 8_000_000
"""Multiply-adds per forward pass of one batch (rows × parameters) from which threads may pay."""
THREADS_HELP = (
    "BLAS threads: 'auto' (one for small batches or on a busy machine, else the free cores), "
    "a number, or 'none' to leave the BLAS alone."
)
_controller: Any = None
_modules = 0
_warned = False


def check_threads(threads: Any) -> int | str | None:
    """`threads` as ``fit`` takes it: "auto", None, or an int ≥ 1; a ValueError otherwise.

    Strings of digits and "none" are accepted for the command line.
    """
    if threads is None or (isinstance(threads, str) and threads.strip().lower() == "none"):
        return None
    if isinstance(threads, str):
        text = threads.strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and int(text) >= 1:
            return int(text)
    elif isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1:
        return threads
    raise ValueError(f"threads must be 'auto', None or a positive integer, got {threads!r}")


def choose_threads(threads: Any, rows: int, n_params: int) -> int | None:
    """The number of BLAS threads for products of `rows` rows on `n_params` parameters.

    Resolves ``"auto"`` by the module's policy (reading ``MLPNET_THREADS`` when `threads` is
    ``"auto"``); None means "leave the BLAS alone".
    """
    threads = _resolve(threads)
    if threads != "auto":
        return threads  # type: ignore[return-value]
    if rows * n_params < PARALLEL_WORK:
        return 1
    return _free_threads(_blas_default())


def _resolve(threads: Any) -> int | str | None:
    threads = check_threads(threads)
    if threads == "auto":
        threads = check_threads(os.environ.get("MLPNET_THREADS", "auto") or "auto")
    return threads


def _free_threads(ceiling: int | None, samples: int = 5) -> int | None:
    """Cores not busy with other processes, between 1 and `ceiling` (None: no BLAS to limit)."""
    if ceiling is None:
        return None
    return max(1, min(ceiling, _cores() - _busy_elsewhere(samples)))


class blas_threads:  # noqa: N801  (used as a function: ``with blas_threads(...)``)
    """Run a block with the BLAS limited to `choose_threads`'s answer (``.count``; None: as is).

    ``refresh()`` decides again where the answer depends on the load ("auto" on large
    products): ``fit`` calls it before every epoch, so that load arriving during a long run
    costs at most one epoch. On leaving, the BLAS gets back the thread count it had.
    """

    def __init__(self, threads: Any, rows: int = 0, n_params: int = 0) -> None:
        self.count = choose_threads(threads, rows, n_params)
        self._adaptive = _resolve(threads) == "auto" and rows * n_params >= PARALLEL_WORK
        self._explicit = check_threads(threads) not in ("auto", None)
        self._controller: Any = None
        self._limiter: Any = None
        self._ceiling: int | None = None

    def __enter__(self) -> blas_threads:
        controller = _get_controller() if self.count is not None else None
        if controller is None:
            if self.count is not None and self._explicit:
                _warn_once()
            self.count = None
            return self
        self._controller, self._ceiling = controller, _blas_default()
        self._limiter = controller.limit(limits=self.count, user_api="blas")
        return self

    def refresh(self) -> None:
        """Choose again from the load now (a few /proc samples); a no-op for fixed choices."""
        if self._limiter is None or not self._adaptive:
            return
        count = _free_threads(self._ceiling, samples=3)
        if count is not None and count != self.count:
            self._controller.limit(limits=count, user_api="blas")
            self.count = count

    def __exit__(self, *exc: object) -> None:
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None


def _get_controller() -> Any:
    """A threadpoolctl controller, or None without threadpoolctl.

    Finding the loaded BLAS libraries costs milliseconds, so the controller is kept and found
    again only when modules were imported since (an import such as torch or scipy may load
    another BLAS).
    """
    global _controller, _modules
    if _controller is False:
        return None
    if _controller is None or _modules != len(sys.modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
            return None
        _controller, _modules = ThreadpoolController(), len(sys.modules)
    return _controller


def _blas_default() -> int | None:
    """The BLAS's own thread count (the largest over the BLAS libraries loaded), or None."""
    controller = _get_controller()
    if controller is None:
        return None
    counts = [lib.num_threads for lib in controller.lib_controllers if lib.user_api == "blas"]
    return max(counts, default=None)


def _cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _busy_elsewhere(samples: int = 5, pause: float = 0.001) -> int:
    """Runnable tasks of other processes right now (the most of a few samples); 0 if unknown.

    Linux only: ``/proc/loadavg``'s "running/total" field counts every runnable task on the
    machine, ``/proc/self/task/*/stat`` this process's own. The most, not the mean, of the
    samples: a core wrongly thought free costs far more (threads waiting for a descheduled one)
    than a free core left unused. In a container that shows the host's load this errs towards
    fewer threads, which is never catastrophic.
    """
    counts = []
    for i in range(samples):
        try:
            running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
            own = sum(_task_running(stat) for stat in Path("/proc/self/task").glob("*/stat"))
        except (OSError, IndexError, ValueError):
            return 0
        counts.append(max(0, running - max(own, 1)))
        if i + 1 < samples:
            time.sleep(pause)
    return max(counts)


def _task_running(stat: Path) -> bool:
    try:
        text = stat.read_text()
    except OSError:  # the thread ended meanwhile
        return False
    return text[text.rfind(")") + 2 :].startswith("R")


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "threads= needs threadpoolctl to limit the BLAS: pip install threadpoolctl "
            '(or "mlpnet[all]"); running with the BLAS\'s own thread count',
            stacklevel=4,
        )
