"""scikit-learn estimators on top of the engine: `MLPClassifier` and `MLPRegressor`.

They follow ``sklearn.neural_network`` (same parameter names, defaults, attributes, initial weights
and stopping rules) and pass ``sklearn.utils.estimator_checks.check_estimator``; the network, its
backpropagation and the optimizers are this library's. This package is the only part of mlpnet that
imports scikit-learn.
"""

from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
