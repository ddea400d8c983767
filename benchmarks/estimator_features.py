"""Measure what the estimator features buy and cost (issue 13).

    python benchmarks/estimator_features.py                # everything (≈ 3 minutes on 2 cores)
    python benchmarks/estimator_features.py --quick        # smaller data, fewer repeats
    python benchmarks/estimator_features.py fused costs    # only some parts

Parts:

- ``fused``: seconds per epoch of the fused plain-SGD path (``Network.fit``, batch 100,
  784-200-10 ReLU, softmax cross-entropy, float32, synthetic MNIST-shaped data) with weights and
  dropout off: the hot path they must not slow. Run it under another checkout's ``src`` on
  ``PYTHONPATH`` for a before/after comparison.
- ``costs``: fit time with each feature on ÷ off, same data and network, batch 100, the runs of
  each pair interleaved, minimum and median of the repeats (one BLAS thread by default, which
  keeps the ratios stable on a loaded machine): the engine's ``fit`` (plain SGD, fused when
  nothing is on) and ``MLPClassifier`` (adam).
- ``class_weight``: minority recall on a 95/5 problem, ``class_weight=None`` vs ``"balanced"``.
- ``dropout``: held-out log-loss of an over-parameterised fit (digits, 300 training images,
  two hidden layers of 256, trained to a near-zero training loss) with and without dropout.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

import mlpnet


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's shape: uniform pixels in [0, 1), 784 features, labels 0-9, float32."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


def epoch_seconds(X: np.ndarray, y: np.ndarray, repeats: int, **fit_kwargs: object) -> float:
    """Minimum over `repeats` of one epoch of ``Network.fit`` (plain SGD, batch 100)."""
    best = np.inf
    for _ in range(repeats):
        net = mlpnet.Network([784, 200, 10], activation="relu", seed=0)
        start = time.perf_counter()
        net.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=mlpnet.SGD(0.1),
            batch_size=100,
            epochs=1,
            shuffle=False,
            progress=False,
            **fit_kwargs,
        )
        best = min(best, time.perf_counter() - start)
    return best


def part_fused(n: int, repeats: int) -> None:
    X, y = synthetic(n)
    epoch_seconds(X[:1000], y[:1000], 1)  # warm up BLAS and the allocator
    ts = [epoch_seconds(X, y, 1) for _ in range(repeats)]
    print(
        f"fused SGD epoch, {n} rows, batch 100, 784-200-10: min {min(ts):.4f} s, median "
        f"{np.median(ts):.4f} s ({repeats} runs)"
    )
    print(f"  mlpnet imported from {os.path.dirname(mlpnet.__file__)}")


def interleaved(runs: dict[str, object], repeats: int) -> dict[str, list[float]]:
    """Times of each callable, the callables run in turn `repeats` times."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    return times


def part_costs(n: int, repeats: int) -> None:
    from mlpnet.estimators import MLPClassifier

    X, y = synthetic(n)
    w = np.random.default_rng(1).integers(1, 4, n).astype(float)

    def engine(**kw: object) -> object:
        return lambda: epoch_seconds(X, y, 1, **kw)

    engine_runs = {
        "off": engine(),
        "sample_weight": engine(sample_weight=w),
        "dropout=0.2": engine(dropout=0.2),
    }
    print(f"engine Network.fit, SGD batch 100, one epoch of {n} rows, 784-200-10, {repeats} runs:")
    _table(interleaved(engine_runs, repeats))

    def estimator(fit_kw: dict | None = None, **params: object) -> object:
        def run() -> None:
            clf = MLPClassifier(
                (200,), batch_size=100, max_iter=1, shuffle=False, random_state=0, **params
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(X, y, **(fit_kw or {}))

        return run

    estimator_runs = {
        "off": estimator(),
        "sample_weight": estimator({"sample_weight": w}),
        "class_weight='balanced'": estimator(class_weight="balanced"),
        "dropout=0.2": estimator(dropout=0.2),
        "activation=['relu']": estimator(activation=["relu"]),
    }
    print(f"MLPClassifier(adam), batch 100, one epoch of {n} rows, 784-200-10, {repeats} runs:")
    _table(interleaved(estimator_runs, repeats))


def _table(times: dict[str, list[float]]) -> None:
    off, off_median = min(times["off"]), float(np.median(times["off"]))
    for name, ts in times.items():
        t, median = min(ts), float(np.median(ts))
        print(
            f"  {name:26s} min {t:7.4f} s  {100 * (t / off - 1):+6.1f} %   "
            f"median {median:7.4f} s  {100 * (median / off_median - 1):+6.1f} %"
        )


def part_class_weight() -> None:
    from sklearn.model_selection import train_test_split

    from mlpnet.estimators import MLPClassifier

    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.05).astype(int)  # 95 / 5
    X = rng.standard_normal((n, 5))
    X[:, :2] += 1.0 * y[:, None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    print(
        f"class_weight on a 95/5 problem ({len(y_tr)} train, {len(y_te)} test, minority "
        f"{int(y_te.sum())} test rows), MLPClassifier((16,), lbfgs), mean of 5 seeds:"
    )
    for cw in (None, "balanced"):
        recalls, accs = [], []
        for seed in range(5):
            clf = MLPClassifier(
                (16,), solver="lbfgs", max_iter=300, random_state=seed, class_weight=cw
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = clf.fit(X_tr, y_tr).predict(X_te)
            recalls.append(np.mean(pred[y_te == 1] == 1))
            accs.append(np.mean(pred == y_te))
        print(
            f"  class_weight={cw!r:11s} minority recall {np.mean(recalls):.3f}   "
            f"accuracy {np.mean(accs):.3f}"
        )


def part_dropout() -> None:
    from sklearn.datasets import load_digits
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    from mlpnet.estimators import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, train_size=300, random_state=0)
    print(
        f"dropout on an over-parameterised fit (digits, {len(y_tr)} train / {len(y_te)} test, "
        "64-256-256-10, adam, alpha=0, 400 epochs), mean of 2 seeds:"
    )
    for p in (0.0, 0.5):
        losses, accs, seconds = [], [], []
        for seed in range(2):
            clf = MLPClassifier(
                (256, 256),
                alpha=0.0,
                max_iter=400,
                n_iter_no_change=400,  # all 400 epochs: dropout's noisy loss would stop it early
                dropout=p,
                random_state=seed,
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(X_tr, y_tr)
            seconds.append(time.perf_counter() - start)
            losses.append(log_loss(y_te, clf.predict_proba(X_te)))
            accs.append(clf.score(X_te, y_te))
        print(
            f"  dropout={p}: test log-loss {np.mean(losses):.4f}   test accuracy "
            f"{np.mean(accs):.4f}   final train loss {clf.loss_:.2e}   epochs {clf.n_iter_}   "
            f"fit {np.mean(seconds):.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", nargs="*", default=["fused", "costs", "class_weight", "dropout"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads (default 1: stable on a busy machine)"
    )
    args = parser.parse_args()
    n = 2000 if args.quick else 5000
    repeats = args.repeats or (5 if args.quick else 25)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - timings then use BLAS's own thread count
        limits = None
    else:
        limits = threadpool_limits(args.threads)
        print(f"BLAS threads: {args.threads}")
    for part in args.parts:
        if part == "fused":
            part_fused(n, repeats)
        elif part == "costs":
            part_costs(n, repeats)
        elif part == "class_weight":
            part_class_weight()
        elif part == "dropout":
            part_dropout()
        else:
            parser.error(f"unknown part {part!r}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if limits is not None:
        limits.restore_original_limits()


if __name__ == "__main__":
    main()
