"""scikit-learn's estimator checks for `MLPClassifier` and `MLPRegressor`."""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from mlpnet.estimators import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small networks and few epochs keep the whole file fast; the learning rates are raised so that
# the checks' accuracy and R² thresholds are still met within that many epochs. The L-BFGS
# instances cover the solver without partial_fit.

CHECKED = [
    MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=100, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=100, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0),
    # this library's additions switched on: they must not break any of scikit-learn's checks
    MLPClassifier(
        hidden_layer_sizes=(8, 8),
        activation=["tanh", "relu"],
        dropout=0.1,
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ),
]


def expected_failures(estimator):
    """Dropout draws one mask per row: a row weighted 3 sees one sub-network per step, the same row
    repeated three times sees three, so integer weights cannot equal repeated rows bit for bit."""
    if getattr(estimator, "dropout", 0.0):
        return {"check_sample_weight_equivalence_on_dense_data": "dropout masks are drawn per row"}
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
