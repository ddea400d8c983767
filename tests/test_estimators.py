"""MLPClassifier and MLPRegressor: learning, scikit-learn's conventions, and agreement with
``sklearn.neural_network`` itself (same initial weights, same steps where the rules coincide)."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits, load_iris, make_multilabel_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from mlpnet.estimators import MLPClassifier, MLPRegressor  # noqa: E402
from mlpnet.estimators._adaptors import Penalized  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1.5, 1.0, (60, 2)), rng.normal(1.5, 1.0, (60, 2))])
    y = np.array(["no"] * 60 + ["yes"] * 60)
    return X, y


def smooth(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(np.pi * X[:, 0]) * np.cos(X[:, 1])


# -- learning ------------------------------------------------------------------------------------


def test_digits_multiclass(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPClassifier((64,), max_iter=30, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 10
    assert list(clf.classes_) == list(range(10))
    P = clf.predict_proba(X_test)
    assert P.shape == (len(X_test), 10)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X_test))
    np.testing.assert_allclose(clf.predict_log_proba(X_test[:5]), np.log(P[:5]))


def test_binary_with_string_labels(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), learning_rate_init=0.01, max_iter=100, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert set(clf.predict(X)) <= {"no", "yes"}
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))


def test_multilabel():
    X, Y = make_multilabel_classification(200, n_features=8, n_classes=4, random_state=0)
    clf = MLPClassifier((32,), solver="lbfgs", max_iter=200, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    pred = clf.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    assert clf.score(X, Y) > 0.75  # subset accuracy on the training data (sklearn: 0.795)
    P = clf.predict_proba(X)
    assert P.shape == Y.shape and np.all((P >= 0) & (P <= 1))
    np.testing.assert_array_equal(pred, (P > 0.5).astype(int))


def test_regression_on_a_smooth_function():
    X, y = smooth()
    reg = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", solver="lbfgs", random_state=0)
    reg.fit(X, y)
    assert reg.score(X, y) > 0.99
    assert reg.out_activation_ == "identity" and reg.predict(X).shape == (len(X),)
    X_new, y_new = smooth(100, seed=1)
    assert reg.score(X_new, y_new) > 0.98


def test_multioutput_regression():
    X, y = smooth()
    Y = np.c_[y, -2 * y]
    reg = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", solver="lbfgs", random_state=0)
    assert reg.fit(X, Y).predict(X).shape == (len(X), 2)
    assert reg.score(X, Y) > 0.98


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(X @ [0.5, -0.3, 0.2])).astype(float)
    reg = MLPRegressor("poisson", hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    pred = reg.fit(X, y).predict(X)
    assert reg.out_activation_ == "exp" and np.all(pred > 0)
    assert reg.score(X, y) > 0.2  # counts are noisy: R² of the true mean is about 0.3
    with pytest.raises(ValueError, match="negative"):
        reg.fit(X, y - 1)


@pytest.mark.parametrize("solver", ["gd", "armijo", "exact_line_search", "random_search"])
def test_each_extra_solver_learns(iris, solver):
    X, y = iris
    lr = {"gd": 0.5}.get(solver, 0.001)
    clf = MLPClassifier((10,), solver=solver, learning_rate_init=lr, max_iter=60, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ >= 1 and len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.score(X, y) > (0.6 if solver == "random_search" else 0.85)


def test_sgd_and_lbfgs_learn(iris):
    X, y = iris
    for solver in ("sgd", "lbfgs"):
        clf = MLPClassifier((10,), solver=solver, learning_rate_init=0.1, random_state=0)
        assert clf.fit(X, y).score(X, y) > 0.95


# -- scikit-learn's layout and conventions --------------------------------------------------------


def test_coefs_have_sklearns_layout_and_are_views(iris):
    X, y = iris
    ours = MLPClassifier((5, 4), max_iter=2, random_state=0).fit(X, y)
    theirs = SkMLPClassifier((5, 4), max_iter=2, random_state=0).fit(X, y)
    assert (
        [c.shape for c in ours.coefs_]
        == [c.shape for c in theirs.coefs_]
        == [
            (4, 5),
            (5, 4),
            (4, 3),
        ]
    )
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert ours.n_layers_ == theirs.n_layers_ == 4
    net = ours.network_
    for coef, layer in zip(ours.coefs_, net.layers, strict=True):
        np.testing.assert_array_equal(coef, layer.W.T)
        assert np.shares_memory(coef, net.params)
    before = ours.predict_proba(X[:3])
    ours.coefs_ = [np.zeros_like(c) for c in ours.coefs_]  # the setter writes into θ
    assert not np.allclose(ours.predict_proba(X[:3]), before)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="lbfgs", alpha=0.1, max_iter=15),
        dict(solver="sgd", shuffle=False, batch_size=30, learning_rate_init=0.05, max_iter=15),
        dict(
            solver="sgd",
            shuffle=False,
            momentum=0.0,
            learning_rate="invscaling",
            learning_rate_init=0.5,
            max_iter=15,
        ),
        dict(
            solver="sgd",
            shuffle=False,
            momentum=0.0,
            batch_size=30,
            learning_rate="adaptive",
            learning_rate_init=0.1,
            tol=0.01,
            n_iter_no_change=2,
            early_stopping=True,
            max_iter=40,
        ),
    ],
    ids=["lbfgs", "sgd-momentum", "sgd-invscaling", "sgd-adaptive-early-stopping"],
)
def test_same_steps_as_sklearn(iris, params):
    """Same initial weights, loss, L2 term, schedule and stopping rule → the same training."""
    X, y = iris
    ours = MLPClassifier((10,), random_state=0, **params).fit(X, y)
    theirs = SkMLPClassifier((10,), random_state=0, **params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9)
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
        # Same arithmetic in another order: the BLAS kernel (AVX-512 on Skylake-X, Haswell's on
        # AMD EPYC) and its thread split change the last bits, so equal to rounding, not to the bit.
        for name in ("best_loss_", "validation_scores_"):  # None where the other one is set
            mine, sklearns = getattr(ours, name), getattr(theirs, name)
            assert (mine is None) == (sklearns is None), name
            if sklearns is not None:
                np.testing.assert_allclose(mine, sklearns, rtol=1e-9, err_msg=name)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_same_steps_as_sklearn_regression(loss):
    X, y = smooth(100)
    y = np.c_[y, y**2] + (1.5 if loss == "poisson" else 0.0)
    params = dict(hidden_layer_sizes=(7,), activation="tanh", random_state=0, shuffle=False)
    params.update(solver="sgd", batch_size=20, learning_rate_init=0.01, max_iter=10, alpha=0.5)
    ours = MLPRegressor(loss, **params).fit(X, y)
    theirs = SkMLPRegressor(loss, **params).fit(X, y)
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_fitted_attributes_and_params(iris):
    X, y = iris
    clf = MLPClassifier((6,), max_iter=5, random_state=0)
    assert clf.get_params()["hidden_layer_sizes"] == (6,)
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "n_iter_")
    clf.set_params(alpha=0.01).fit(X, y)
    assert clf.alpha == 0.01 and clf.n_features_in_ == 4 and not hasattr(clf, "feature_names_in_")
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.t_ == 5 * len(X)
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_defaults_mirror_sklearn():
    for ours, theirs in ((MLPClassifier(), SkMLPClassifier()), (MLPRegressor(), SkMLPRegressor())):
        sk = theirs.get_params()
        ours = ours.get_params()
        extras = {
            "dtype": None,
            "dropout": 0.0,
            "early_stopping_metric": "score",
            "backend": "numpy",
            "device": None,
        }
        if "class_weight" in ours:
            extras["class_weight"] = None
        assert {k: v for k, v in ours.items() if k not in extras} == sk
        assert {k: ours[k] for k in extras} == extras  # this library's additions, off by default


def test_feature_names_from_a_dataframe(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier((4,), max_iter=3, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


# -- incremental and continued training -----------------------------------------------------------


def test_partial_fit_is_incremental(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPClassifier((32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_train[:50], y_train[:50])
    chunks = np.array_split(np.arange(len(X_train)), 4)
    for _ in range(5):
        for idx in chunks:
            clf.partial_fit(X_train[idx], y_train[idx], classes=np.arange(10))
            assert clf.n_iter_ == 1
    assert len(clf.loss_curve_) == 20 and clf.t_ == 5 * len(X_train)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 3
    assert clf.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X_train[:5], y_train[:5] + 10)


def test_partial_fit_continues_the_optimizer_like_fit(iris):
    """partial_fit epochs on all the data make the same steps as fit's epochs (shuffle off)."""
    X, y = iris
    params = dict(solver="sgd", shuffle=False, batch_size=50, learning_rate_init=0.05)
    full = MLPClassifier((5,), max_iter=4, random_state=0, **params).fit(X, y)
    inc = MLPClassifier((5,), random_state=0, **params)
    for _ in range(4):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_allclose(inc.loss_curve_, full.loss_curve_, rtol=1e-12)


def test_partial_fit_rules():
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    X, y = smooth(50)
    reg = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        reg.partial_fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="armijo", random_state=0)
    reg.partial_fit(X, y).partial_fit(X, y)
    assert reg.loss_curve_[1] < reg.loss_curve_[0]


def test_warm_start_continues(iris):
    X, y = iris
    cold = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    first = list(cold.loss_curve_)
    cold.fit(X, y)  # without warm_start: starts again from the same initial weights
    assert cold.loss_curve_ == first
    warm = MLPClassifier((8,), max_iter=5, random_state=0, warm_start=True).fit(X, y)
    theta = warm.network_.params.copy()
    warm.fit(X, y)
    assert len(warm.loss_curve_) == 10 and warm.n_iter_ == 5 and warm.t_ == 10 * len(X)
    assert warm.loss_curve_[5] < warm.loss_curve_[0]
    assert not np.array_equal(warm.network_.params, theta)
    with pytest.raises(ValueError, match="same classes"):
        warm.fit(X[y < 2], y[y < 2])


def test_early_stopping(digits):
    X_train, _, y_train, _ = digits
    clf = MLPClassifier(
        (16,),
        learning_rate_init=0.01,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=200,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X_train, y_train)
    assert clf.n_iter_ < 200
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the stop comes n_iter_no_change + 1 epochs after the last improvement by tol
    assert clf.n_iter_ - 1 - int(np.argmax(clf.validation_scores_)) <= 4
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.1).fit(X_train[:10], y_train[:10])


def test_early_stopping_keeps_the_best_weights():
    X, y = smooth(200)
    reg = MLPRegressor(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate_init=0.05,
        early_stopping=True,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    # recompute the validation split as fit drew it: after the initial weights
    rng = np.random.RandomState(0)
    for n_in, n_out in ((2, 16), (16, 1)):
        bound = np.sqrt(6 / (n_in + n_out))
        rng.uniform(-bound, bound, (n_in, n_out))
        rng.uniform(-bound, bound, n_out)
    _, val = train_test_split(np.arange(len(X)), test_size=0.1, random_state=rng)
    assert reg.score(X[val], y[val]) == pytest.approx(reg.best_validation_score_, rel=1e-12)


def test_adaptive_learning_rate_divides_by_five_then_stops(iris):
    X, y = iris
    clf = MLPClassifier(
        (4,),
        solver="sgd",
        learning_rate="adaptive",
        tol=1e9,  # no epoch ever improves by this much
        n_iter_no_change=1,
        max_iter=100,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # epoch 1 improves on best_loss_ = ∞; after it, every n_iter_no_change + 1 = 2 epochs
    # without improvement divide the step by 5, until 1e-3 / 5^5 ≤ 1e-6 stops training
    assert clf._step_size.lr == pytest.approx(1e-3 / 5**5)
    assert clf.n_iter_ == 1 + 2 * 6


def test_invscaling_learning_rate(iris):
    X, y = iris
    clf = MLPClassifier(
        (4,), solver="sgd", learning_rate="invscaling", power_t=0.25, max_iter=7, random_state=0
    ).fit(X, y)
    assert clf._step_size.lr == pytest.approx(1e-3 / (7 * len(X) + 1) ** 0.25)


def test_convergence_warning_and_tol(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        MLPClassifier((4,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="max_fun=5"):
        MLPClassifier((4,), solver="lbfgs", max_fun=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = MLPClassifier((4,), tol=10.0, n_iter_no_change=2, random_state=0).fit(X, y)
    assert clf.n_iter_ == 4  # epoch 1 improves on ∞, then n_iter_no_change + 1 epochs do not


def test_verbose_prints_the_loss(iris, capsys):
    X, y = iris
    MLPClassifier((4,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    assert "Iteration 2, loss = " in capsys.readouterr().out


# -- the L2 penalty and the data type ------------------------------------------------------------


def test_alpha_shrinks_the_weights_not_the_biases(iris):
    X, y = iris
    norms = []
    for alpha in (0.0, 1.0, 10.0):
        clf = MLPClassifier((8,), solver="lbfgs", alpha=alpha, max_iter=300, random_state=0)
        clf.fit(X, y)
        norms.append(sum(float((c**2).sum()) for c in clf.coefs_))
    assert norms[0] > norms[1] > norms[2]


def test_penalized_objective_is_exact():
    """J_α = J + (α/2n) Σ‖W‖² and its gradient, against central differences in float64."""
    X, y = smooth(20)
    reg = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=1, random_state=0)
    reg.fit(X, y)
    net = reg.network_
    model = Penalized(net, alpha=0.7)
    objective = model.objective(X, y, "half_squared_error")
    theta = net.params.copy()
    J, grad = objective(theta)
    W2 = sum(float((layer.W**2).sum()) for layer in net.layers)
    assert J == pytest.approx(net.loss(X, y, "half_squared_error") + 0.7 / 40 * W2, rel=1e-12)
    eps = 1e-6
    numeric = [
        (objective.value(theta + eps * e) - objective.value(theta - eps * e)) / (2 * eps)
        for e in np.eye(len(theta))
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_float32_stays_float32(iris, Est):
    X, y = iris
    est = Est(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    est.fit(X.astype(np.float32), y)
    assert est.network_.dtype == np.float32
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    out = est.predict_proba(X) if Est is MLPClassifier else est.predict(X)
    assert out.dtype == np.float32
    est.fit(X, y)
    assert est.network_.dtype == np.float64 and est.coefs_[0].dtype == np.float64
    est.set_params(dtype="float32").fit(X, y)
    assert est.coefs_[0].dtype == np.float32


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(solver="newton"), "solver"),
        (dict(activation="softmax"), "activation"),
        (dict(alpha=-1.0), "alpha"),
        (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes"),
        (dict(momentum=1.0), "momentum"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(batch_size=0), "batch_size"),
        (dict(dtype="float16"), "dtype"),
    ],
)
def test_bad_parameters_are_refused_in_fit(iris, params, match):
    X, y = iris
    clf = MLPClassifier(**params)  # the constructor only stores them
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_bad_data(iris):
    X, y = iris
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        clf.predict(X[:, :3])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier().fit(bad, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_a_value_error():
    X, y = smooth(50)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), activation="identity", solver="gd", learning_rate_init=1e3
    )
    with pytest.raises(ValueError, match="non-finite"):
        reg.fit(X, 1e6 * y)
    assert np.all(np.isfinite(reg.network_.params))  # the last finite θ was kept


# -- in scikit-learn's machinery -----------------------------------------------------------------


def test_pickle_keeps_predictions_and_training(iris):
    X, y = iris
    clf = MLPClassifier((6,), max_iter=5, random_state=0, warm_start=True).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))  # noqa: S301 - our own bytes
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert np.shares_memory(copy.coefs_[0], copy.network_.params)  # views restored
    copy.fit(X, y)
    clf.fit(X, y)
    np.testing.assert_allclose(copy.loss_curve_, clf.loss_curve_)


def test_pipeline_and_grid_search(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=50, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__learning_rate_init": [0.01, 0.1]},
        cv=3,
        n_jobs=2,
    )
    grid.fit(X, y)
    assert grid.best_score_ > 0.9
    assert set(grid.best_params_) == {"mlpclassifier__alpha", "mlpclassifier__learning_rate_init"}
    assert grid.best_estimator_[-1].n_features_in_ == 4


def test_cross_val_score_in_parallel():
    X, y = smooth(200)
    reg = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver="lbfgs", random_state=0)
    scores = cross_val_score(reg, X, y, cv=4, n_jobs=2)
    assert scores.shape == (4,) and scores.min() > 0.95
    np.testing.assert_allclose(scores, cross_val_score(reg, X, y, cv=4, n_jobs=1))
