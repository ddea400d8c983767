"""The estimators' ``backend=`` and ``mlpnet train --backend``, against the NumPy backend.

The `backend` fixture (tests/conftest.py) gives array_api_strict and torch-CPU (skipped without
them). The backends run other kernels (BLAS, reduction orders) than NumPy, so only a tolerance can
be asserted: 1e-5 in float32, as the issue asks.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpnet.estimators import MLPClassifier, MLPRegressor

TOL = 1e-5  # float32: the backends' kernels round differently from NumPy's


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs on purpose
        yield


def data(n=60, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)  # k = 3 classes
    values = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    return X, labels, values.astype(np.float32)


def close(a, b, tol=TOL):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    scale = max(np.abs(b).max(), 1e-30)
    assert np.abs(a - b).max() / scale <= tol, np.abs(a - b).max() / scale


def pair(cls, backend, **params):
    """The same estimator on NumPy and on `backend` (shuffle=False, one random_state)."""
    params = {"hidden_layer_sizes": (7,), "random_state": 3, "shuffle": False} | params
    params.setdefault("max_iter", 8)
    params.setdefault("batch_size", 16)
    params.setdefault("learning_rate_init", 0.05)
    return cls(**params), cls(backend=backend, **params)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_classifier_equals_numpy(backend, solver):
    X, labels, _ = data()
    ours, theirs = pair(MLPClassifier, backend, solver=solver)
    ours.fit(X, labels)
    theirs.fit(X, labels)
    proba = theirs.predict_proba(X)
    assert type(proba) is np.ndarray and type(theirs.predict(X)) is np.ndarray
    close(proba, ours.predict_proba(X))
    np.testing.assert_array_equal(theirs.classes_, ours.classes_)
    assert theirs.score(X, labels) == pytest.approx(ours.score(X, labels), abs=1 / len(X))
    close(theirs.loss_curve_, ours.loss_curve_)
    for a, b in zip(
        theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_, strict=True
    ):
        assert type(a) is np.ndarray
        close(a, b)
    assert theirs.network_.backend == backend and ours.network_.backend == "numpy"


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_regressor_equals_numpy(backend, solver):
    X, _, values = data()
    ours, theirs = pair(MLPRegressor, backend, solver=solver, activation="tanh")
    ours.fit(X, values)
    theirs.fit(X, values)
    pred = theirs.predict(X)
    assert type(pred) is np.ndarray and pred.shape == (len(X), 2)
    close(pred, ours.predict(X))
    assert theirs.score(X, values) == pytest.approx(ours.score(X, values), abs=TOL)


def test_partial_fit_and_early_stopping_equal_numpy(backend):
    X, labels, _ = data(n=80)
    ours, theirs = pair(MLPClassifier, backend, solver="sgd")
    for _ in range(3):
        ours.partial_fit(X, labels, classes=[0, 1, 2])
        theirs.partial_fit(X, labels, classes=[0, 1, 2])
    close(theirs.predict_proba(X), ours.predict_proba(X))
    ours, theirs = pair(MLPRegressor, backend, early_stopping=True, n_iter_no_change=2)
    ours.fit(X, X[:, :2] * 2.0)
    theirs.fit(X, X[:, :2] * 2.0)
    close(theirs.validation_scores_, ours.validation_scores_)
    close(theirs.predict(X), ours.predict(X))  # the best epoch's θ, kept on the device


def test_warm_start_moves_to_a_new_backend(backend):
    X, labels, _ = data()
    est = MLPClassifier((5,), max_iter=3, warm_start=True, random_state=0).fit(X, labels)
    before = est.predict_proba(X)
    est.set_params(backend=backend, max_iter=1, learning_rate_init=1e-12).fit(X, labels)
    assert est.network_.backend == backend
    close(est.predict_proba(X), before, 1e-4)  # a step of 1e-12 (Adam: ≤ 1e-12 per weight)
    est.set_params(backend="numpy").partial_fit(X, labels)
    assert est.network_.backend == "numpy"


def test_lbfgs_runs_on_the_host_optimizer(backend):
    X, labels, _ = data()
    ours, theirs = pair(MLPClassifier, backend, solver="lbfgs", max_iter=10)
    ours.fit(X, labels)
    theirs.fit(X, labels)
    # SciPy's L-BFGS steers by the gradients it is given: the backends' rounding (1e-7) grows a
    # little over its iterations, hence 1e-4 here
    close(theirs.predict_proba(X), ours.predict_proba(X), 1e-4)


def test_pipeline_pickle_and_coefs_setter(backend):
    X, labels, _ = data()
    pipe = make_pipeline(StandardScaler(), MLPClassifier((5,), max_iter=5, backend=backend))
    pipe.fit(X.astype(np.float64), labels)
    est = pipe[-1]
    assert est.network_.dtype == np.float64 and est.network_.backend == backend
    assert 0.0 <= pipe.score(X, labels) <= 1.0
    clone = pickle.loads(pickle.dumps(pipe))  # noqa: S301 - our own bytes
    assert clone[-1].network_.backend == backend
    np.testing.assert_array_equal(clone.predict_proba(X), pipe.predict_proba(X))
    coefs = [c * 0.0 for c in est.coefs_]
    est.coefs_ = coefs  # written back to the device θ
    est.intercepts_ = [np.arange(len(b), dtype=float) for b in est.intercepts_]
    assert all(not c.any() for c in est.coefs_)
    assert est.predict(X).tolist() == [2] * len(X)  # only the biases (0, 1, 2) speak


def test_numpy_only_features_name_the_backend(backend):
    X, labels, _ = data()
    with pytest.raises(ValueError, match=f"sample_weight needs backend='numpy'.*{backend}"):
        MLPClassifier((3,), backend=backend).fit(X, labels, sample_weight=np.ones(len(X)))
    with pytest.raises(ValueError, match=f"class_weight needs backend='numpy'.*{backend}"):
        MLPClassifier((3,), backend=backend, class_weight="balanced").fit(X, labels)
    with pytest.raises(ValueError, match=f"dropout needs backend='numpy'.*{backend}"):
        MLPRegressor(hidden_layer_sizes=(3,), backend=backend, dropout=0.2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=f"loss='poisson' needs backend='numpy'.*{backend}"):
        MLPRegressor(hidden_layer_sizes=(3,), backend=backend, loss="poisson").fit(
            X, np.abs(X[:, 0])
        )


def test_backend_parameters_are_checked_in_fit():
    est = MLPClassifier(backend="jax", device="tpu")
    assert est.get_params()["backend"] == "jax"  # stored as given
    with pytest.raises(ValueError, match="backend"):
        est.fit(*data()[:2])
    with pytest.raises(ValueError, match="cpu only"):
        MLPClassifier(device="cuda").fit(*data()[:2])


def test_cli_train_on_a_backend_round_trip(backend, tmp_path):
    from click.testing import CliRunner

    from mlpnet.cli import cli

    X, labels, _ = data(n=50)
    names = np.array(["cat", "dog", "eel"])[labels]  # text labels
    rows = [",".join([*map(str, x), name]) for x, name in zip(X * 5.0 + 3.0, names, strict=True)]
    (tmp_path / "xy.csv").write_text("a,b,c,d,animal\n" + "\n".join(rows) + "\n")
    np.save(tmp_path / "x.npy", X * 5.0 + 3.0)
    runner, out = CliRunner(), {}
    for be in ("numpy", backend):
        model, ckpt = tmp_path / f"{be}.npz", tmp_path / f"{be}.ckpt.npz"
        args = ["train", "--data", str(tmp_path / "xy.csv"), "--hidden", "6", "--epochs", "2"]
        args += ["--optimizer", "adam", "--batch-size", "8", "--standardize", "--threads", "1"]
        args += ["--checkpoint", str(ckpt), "-o", str(model), "--backend", be]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert (f"({backend}" in result.output) == (be != "numpy")
        resume = ["train", "--resume", str(ckpt), "--epochs", "4", "-o", str(model)]
        result = runner.invoke(cli, resume, catch_exceptions=False)  # on the recorded backend
        assert result.exit_code == 0 and "epoch 4" in result.output, result.output
        assert (f"({backend}" in result.output) == (be != "numpy")
        args = ["evaluate", str(model), "--data", str(tmp_path / "xy.csv"), "--backend", be]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        out[be] = float(result.stdout.split("loss (softmax_cross_entropy): ")[1].split()[0])
        args = ["predict", str(model), str(tmp_path / "x.npy"), "--backend", be]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        out[be + " labels"] = result.stdout.split()
    assert out[backend] == pytest.approx(out["numpy"], rel=TOL)
    assert out[backend + " labels"] == out["numpy labels"]
    assert set(out["numpy labels"][1:]) <= {"cat", "dog", "eel"}
