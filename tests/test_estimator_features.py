"""What the estimators add to scikit-learn's MLP: sample and class weights, dropout, per-layer
activations, the validation-loss curve, early stopping on the loss, warm start of the optimizer."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402

import mlpnet.estimators._base as base  # noqa: E402
from mlpnet.estimators import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = ["sgd", "adam", "lbfgs", "gd", "armijo", "exact_line_search", "random_search"]


def three_classes(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def weights(n, seed=1):
    w = np.random.default_rng(seed).integers(0, 4, n)
    w[:3] = [0, 1, 2]  # some zero, some repeated
    return w


# -- sample_weight ---------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_integer_weights_equal_repeated_rows(solver, Est):
    """Every solver: on full batches (all of them here, n < 200) weights are repeated rows.

    Same sums in another order, so equal to rounding (rtol 1e-6 over a few dozen steps), not bits.
    """
    X, y = three_classes()
    w = weights(len(y))
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=15, random_state=0, tol=0.0)
    if solver in ("sgd", "adam", "gd"):
        params["learning_rate_init"] = 0.05
    a = Est(**params).fit(X, y, sample_weight=w)
    b = Est(**params).fit(X.repeat(w, axis=0), y.repeat(w))
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-6)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-9)
    if solver != "lbfgs":  # partial_fit: one epoch each, the same equivalence
        kw = {"classes": [0, 1, 2]} if Est is MLPClassifier else {}
        c, d = Est(**params), Est(**params)
        for _ in range(3):
            c.partial_fit(X, y, sample_weight=w, **kw)
            d.partial_fit(X.repeat(w, axis=0), y.repeat(w), **kw)
        np.testing.assert_allclose(c.loss_curve_, d.loss_curve_, rtol=1e-6)


def test_weights_shift_the_fit_towards_the_heavy_rows():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 1))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    w = np.where(X[:, 0] > 0, 10.0, 1.0)
    params = dict(hidden_layer_sizes=(), solver="lbfgs", random_state=0)
    # a linear model cannot fit the step: the weighted fit errs less on the heavy side
    plain = MLPRegressor(**params).fit(X, y)
    heavy = MLPRegressor(**params).fit(X, y, sample_weight=w)
    right = X[:, 0] > 0
    err = lambda m, rows: np.mean((m.predict(X[rows]) - y[rows]) ** 2)  # noqa: E731
    assert err(heavy, right) < err(plain, right) and err(heavy, ~right) > err(plain, ~right)


def test_bad_sample_weights():
    X, y = three_classes()
    with pytest.raises(ValueError, match="[Nn]egative"):
        MLPClassifier((4,), max_iter=2).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero"):
        MLPClassifier((4,), max_iter=2).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError):
        MLPClassifier((4,), max_iter=2).fit(X, y, sample_weight=np.ones(3))


def test_weighted_validation_split():
    X, y = three_classes(200)
    w = np.where(y == 2, 5.0, 1.0)
    clf = MLPClassifier((8,), early_stopping=True, max_iter=5, random_state=0)
    clf.fit(X, y, sample_weight=w)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_


# -- class_weight ----------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_class_weight_multiplies_sample_weights(solver):
    X, y = three_classes(60)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=10, random_state=0)
    for class_weight in ({0: 3.0, 2: 0.5}, "balanced"):
        a = MLPClassifier(class_weight=class_weight, **params).fit(X, y, sample_weight=w)
        expected = compute_sample_weight(class_weight, y) if class_weight != "balanced" else None
        if (
            expected is None
        ):  # balanced with sample weights: class totals of w, as LogisticRegression
            totals = np.bincount(y, weights=w)
            expected = (w.sum() / (3 * totals))[y]
        b = MLPClassifier(**params).fit(X, y, sample_weight=w * expected)
        np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12)


def test_class_weight_raises_minority_recall():
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.05).astype(int)
    X = rng.standard_normal((n, 2)) + 1.2 * y[:, None]
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=100, random_state=0)
    recall = {}
    for cw in (None, "balanced"):
        pred = MLPClassifier(class_weight=cw, **params).fit(X, y).predict(X)
        recall[cw] = np.mean(pred[y == 1] == 1)
    assert recall["balanced"] > recall[None] + 0.3


def test_class_weight_rules():
    X, y = three_classes()
    with pytest.raises(ValueError, match="partial_fit"):
        MLPClassifier((4,), class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])
    Y = np.c_[y == 1, y == 2].astype(int)
    with pytest.raises(ValueError, match="single-label"):
        MLPClassifier((4,), class_weight={0: 2}, max_iter=2).fit(X, Y)
    with pytest.raises(ValueError):
        MLPClassifier((4,), class_weight="often").fit(X, y)
    clf = MLPClassifier((4,), class_weight={1: 2.0}).partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 1


# -- dropout ---------------------------------------------------------------------------------------


def test_dropout_trains_with_masks_and_predicts_without():
    X, y = three_classes(120)
    params = dict(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.02, random_state=0)
    a = MLPClassifier(dropout=0.3, **params).fit(X, y)
    b = MLPClassifier(dropout=0.3, **params).fit(X, y)
    c = MLPClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])  # seeded by random_state
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
    assert a.network_.dropout_rates == [0.3, 0.0]
    P = a.predict_proba(X)
    np.testing.assert_array_equal(P, a.predict_proba(X))  # no mask at prediction time
    np.testing.assert_allclose(P, _proba(a, X), rtol=1e-12)
    assert a.score(X, y) > 0.8


def _proba(clf, X):
    """The full network's softmax, from coefs_ and intercepts_ (no dropout)."""
    Q = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0.0)
    Z = Q @ clf.coefs_[1] + clf.intercepts_[1]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_bad_dropout(p):
    X, y = three_classes()
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier((4,), dropout=p).fit(X, y)


def test_dropout_needs_a_stepping_solver():
    X, y = three_classes()
    with pytest.raises(ValueError, match="L-BFGS"):
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", dropout=0.2).fit(X, y)
    for solver in ("gd", "armijo", "sgd"):
        MLPRegressor(
            hidden_layer_sizes=(4,), solver=solver, dropout=0.2, max_iter=3, random_state=0
        ).fit(X, y)


# -- per-layer activation --------------------------------------------------------------------------


def test_one_activation_per_hidden_layer():
    X, y = three_classes(80)
    clf = MLPClassifier((6, 5, 4), activation=["relu", "tanh", "logistic"], max_iter=5)
    clf.fit(X, y)
    names = [layer.activation.name for layer in clf.network_.layers]
    assert names == ["relu", "tanh", "sigmoid", "identity"]
    # a list of one name repeated is the string itself, to the bit
    a = MLPRegressor(hidden_layer_sizes=(5, 4), activation="tanh", max_iter=5, random_state=0).fit(
        X, y
    )
    b = MLPRegressor(
        hidden_layer_sizes=(5, 4), activation=["tanh", "tanh"], max_iter=5, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(a.network_.params, b.network_.params)


def test_per_layer_activation_uses_each_layers_init_factor():
    X, y = three_classes(30)
    clf = MLPClassifier((50, 50), activation=["logistic", "relu"], max_iter=1, random_state=0)
    est = clf.fit(X, y)
    # Glorot bounds: √(2/(n_in+n_out)) for logistic, √(6/(n_in+n_out)) otherwise (before 1 epoch)
    assert np.abs(est.coefs_[0]).max() < np.sqrt(2 / 53) + 0.02
    assert np.abs(est.coefs_[1]).max() > np.sqrt(2 / 100) + 0.02


def test_bad_activation_lists():
    X, y = three_classes()
    with pytest.raises(ValueError, match="2 entries but hidden_layer_sizes has 3"):
        MLPClassifier((3, 3, 3), activation=["relu", "tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="'swish' is not one of"):
        MLPClassifier((3,), activation=["swish"]).fit(X, y)
    clf = MLPClassifier((3,), activation=["tanh"], warm_start=True, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        clf.set_params(activation=["relu"]).fit(X, y)


# -- validation loss and early stopping on the loss --------------------------------------------


def _recording_split(monkeypatch):
    """Record the held-out indices of the early-stopping split."""
    seen = []
    split = base.train_test_split

    def recording(*args, **kwargs):
        train, val = split(*args, **kwargs)
        seen.append(val)
        return train, val

    monkeypatch.setattr(base, "train_test_split", recording)
    return seen


def test_validation_loss_curve_and_early_stopping_on_the_loss(monkeypatch):
    seen = _recording_split(monkeypatch)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 2))
    y = np.sin(3 * X[:, 0]) + 0.3 * rng.standard_normal(120)
    params = dict(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        validation_fraction=0.3,
        learning_rate_init=0.02,
        max_iter=60,
        n_iter_no_change=60,
        random_state=0,
        dtype="float64",
    )
    reg = MLPRegressor(early_stopping_metric="loss", **params).fit(X, y)
    curve = reg.validation_loss_curve_
    assert len(curve) == len(reg.validation_scores_) == reg.n_iter_ == 60
    assert reg.best_validation_loss_ == min(curve)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    # the kept weights are those of the epoch with the smallest validation loss
    val = seen[-1]
    J = reg.network_.loss(X[val], y[val, None], "half_squared_error")
    assert J == pytest.approx(reg.best_validation_loss_, rel=1e-12)
    # the same model watched by the score keeps the best-scoring epoch instead
    by_score = MLPRegressor(**params).fit(X, y)
    np.testing.assert_allclose(by_score.validation_loss_curve_, curve, rtol=1e-12)
    best = int(np.argmax(by_score.validation_scores_))
    J = by_score.network_.loss(X[val], y[val, None], "half_squared_error")
    assert J == pytest.approx(curve[best], rel=1e-12)


def test_early_stopping_on_the_loss_stops_on_the_loss():
    X, y = three_classes(200)
    clf = MLPClassifier(
        (32,),
        early_stopping=True,
        early_stopping_metric="loss",
        n_iter_no_change=3,
        tol=0.0,
        learning_rate_init=0.05,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    curve = clf.validation_loss_curve_
    assert clf.n_iter_ < 300  # stopped: the last 4 epochs did not beat the best before them
    assert min(curve[-4:]) >= min(curve[:-4])
    with pytest.raises(ValueError):
        MLPClassifier(early_stopping_metric="accuracy").fit(X, y)


def test_no_validation_curve_without_early_stopping():
    X, y = three_classes()
    clf = MLPClassifier((4,), max_iter=3).fit(X, y)
    assert clf.validation_loss_curve_ is None and clf.best_validation_loss_ is None


# -- warm start keeps the optimizer state ----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", learning_rate_init=0.01),
        dict(solver="sgd", momentum=0.9, learning_rate_init=0.05),
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05),
        dict(solver="adam", learning_rate_init=0.01, dropout=0.2),
    ],
    ids=["adam", "sgd-nesterov", "sgd-momentum", "adam-dropout"],
)
def test_two_warm_fits_of_k_equal_one_fit_of_2k(params):
    """Same process, same code path, every state carried over: equal to the bit."""
    X, y = three_classes(150)
    common = dict(hidden_layer_sizes=(8,), batch_size=32, random_state=0, tol=0.0, **params)
    one = MLPClassifier(max_iter=8, **common).fit(X, y)
    two = MLPClassifier(max_iter=4, warm_start=True, **common)
    two.fit(X, y).fit(X, y)
    np.testing.assert_array_equal(two.network_.params, one.network_.params)
    # equal to the bit, as issue 13 asks: the same arithmetic in the same order, one process
    assert two.loss_curve_ == one.loss_curve_ and two.t_ == one.t_
    # forgetting the optimizer's state (what scikit-learn does) lands elsewhere
    three = MLPClassifier(max_iter=4, warm_start=True, **common).fit(X, y)
    three._optimizer.reset()
    three.fit(X, y)
    assert not np.array_equal(three.network_.params, one.network_.params)


def test_warm_start_applies_a_changed_learning_rate_to_the_kept_state():
    X, y = three_classes(60)
    clf = MLPClassifier((4,), solver="adam", max_iter=3, warm_start=True, random_state=0)
    clf.fit(X, y)
    t = clf._optimizer.state.t
    clf.set_params(learning_rate_init=0.05).fit(X, y)
    assert clf._optimizer.lr == 0.05 and clf._optimizer.state.t == 2 * t
    clf.set_params(warm_start=False).fit(X, y)
    assert clf._optimizer.state.t == t  # a cold fit starts the optimizer afresh
