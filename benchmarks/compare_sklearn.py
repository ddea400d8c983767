"""mlpnet's MLPClassifier / MLPRegressor against scikit-learn's, same data and settings.

Both estimators get the same hidden layers, activation, solver, learning rate, batch size, L2
penalty, number of epochs and random_state (so they even start from the same weights), and run
exactly ``--epochs`` epochs (``n_iter_no_change=inf``; L-BFGS: at most ``--lbfgs-iter``
iterations). Each configuration is fitted ``--repeats`` times with random_state 0, 1, …, the two
libraries alternating; the table gives the median test score (accuracy or R²) and the median
fit time, in one run::

    PYTHONPATH=src python benchmarks/compare_sklearn.py            # markdown table on stdout
    PYTHONPATH=src python benchmarks/compare_sklearn.py --repeats 3 --threads 1

Data: scikit-learn's bundled digits (1,797 8×8 images, pixels / 16, 10 classes) and Friedman #1
regression (``make_friedman1``, 5,000 samples, 10 features, noise 1, y standardised), each split
75 / 25 with random_state=0.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from contextlib import nullcontext

import numpy as np
import sklearn
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

import mlpnet
from mlpnet.estimators import MLPClassifier, MLPRegressor


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def friedman():
    X, y = make_friedman1(n_samples=5000, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    mean, std = y_train.mean(), y_train.std()
    return X_train, X_test, (y_train - mean) / std, (y_test - mean) / std


def configurations(epochs: int, lbfgs_iter: int):
    """(data name, loader, estimator pair, dtype, settings) for every row of the table."""
    common = dict(hidden_layer_sizes=(100,), activation="relu", alpha=1e-4, batch_size=200)
    stochastic = dict(common, max_iter=epochs, n_iter_no_change=np.inf)
    adam = dict(stochastic, solver="adam", learning_rate_init=1e-3)
    sgd = dict(stochastic, solver="sgd", learning_rate_init=0.05, momentum=0.9)
    lbfgs = dict(common, solver="lbfgs", max_iter=lbfgs_iter)
    classify = (MLPClassifier, SkClassifier)
    regress = (MLPRegressor, SkRegressor)
    return [
        ("digits", digits, classify, np.float64, adam),
        ("digits", digits, classify, np.float32, adam),
        ("digits", digits, classify, np.float64, sgd),
        ("digits", digits, classify, np.float64, lbfgs),
        ("friedman1", friedman, regress, np.float64, adam),
        ("friedman1", friedman, regress, np.float32, adam),
        ("friedman1", friedman, regress, np.float64, lbfgs),
    ]


def run(est, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return est.score(X_test, y_test), seconds, est.n_iter_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fits per library and row")
    parser.add_argument("--epochs", type=int, default=50, help="epochs of adam and sgd")
    parser.add_argument("--lbfgs-iter", type=int, default=200, help="max_iter of lbfgs")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    args = parser.parse_args(argv)

    limit = nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(args.threads)

    rows = []
    with limit:
        for name, load, (ours, theirs), dtype, settings in configurations(
            args.epochs, args.lbfgs_iter
        ):
            X_train, X_test, y_train, y_test = load()
            X_train, X_test = X_train.astype(dtype), X_test.astype(dtype)
            results = {"mlpnet": [], "sklearn": []}
            for seed in range(args.repeats):
                for lib, cls in (("mlpnet", ours), ("sklearn", theirs)):
                    est = cls(**settings, random_state=seed)
                    results[lib].append(run(est, X_train, y_train, X_test, y_test))
            med = {
                lib: (
                    statistics.median(r[0] for r in res),
                    statistics.median(r[1] for r in res),
                    statistics.median(r[2] for r in res),
                )
                for lib, res in results.items()
            }
            rows.append((name, settings["solver"], np.dtype(dtype).name, med))

    metric = {"digits": "accuracy", "friedman1": "R²"}
    print(
        f"mlpnet {mlpnet.__version__} vs scikit-learn {sklearn.__version__}; NumPy "
        f"{np.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, BLAS threads: {args.threads or 'default'}; "
        f"median of {args.repeats} fits (random_state 0…{args.repeats - 1}).\n"
    )
    print(
        "| data (test metric) | solver | dtype | epochs / iters | mlpnet score | sklearn score "
        "| mlpnet fit (s) | sklearn fit (s) | time ratio mlpnet/sklearn |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, solver, dtype, med in rows:
        (s1, t1, n1), (s2, t2, n2) = med["mlpnet"], med["sklearn"]
        iters = f"{n1:g}" if n1 == n2 else f"{n1:g} / {n2:g}"
        print(
            f"| {name} ({metric[name]}) | {solver} | {dtype} | {iters} | {s1:.4f} | {s2:.4f} "
            f"| {t1:.3f} | {t2:.3f} | {t1 / t2:.2f} |"
        )
    print(f"\nCommand: {' '.join([os.path.basename(sys.executable), *sys.argv])}")


if __name__ == "__main__":
    main()
