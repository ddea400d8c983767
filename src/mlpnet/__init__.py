"""mlpnet: multilayer perceptrons trained by exact backpropagation.

The formulas of the lecture notes as readable, verifiable NumPy: a network
f = f_L ∘ … ∘ f_1 with f_l(q) = ψ_l(W_l q + b_l), all parameters in one vector
θ = [vec(W_1), b_1, …, vec(W_L), b_L] (eq. 6.17), batched forward and backward passes whose rows
are samples (Algorithm 6.1), gradient checks against finite differences, and the notes' training
algorithms.
"""

from . import activations, callbacks, datasets, initializers, losses, metrics, optim, schedules
from .backprop import Cache
from .callbacks import Callback, EarlyStopping
from .errors import TrainingDiverged
from .gradcheck import finite_difference_gradient, gradient_check, hessian, jacobian
from .history import History
from .layers import Dense
from .network import Network, Objective, load
from .optim import (
    LBFGS,
    SGD,
    Adam,
    Armijo,
    ExactLineSearch,
    GradientDescent,
    Optimizer,
    RandomSearch,
)
from .perceptron import Perceptron

__version__ = "0.1.0"


def __getattr__(name: str):  # MLPClassifier/MLPRegressor need scikit-learn: import on first use
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import estimators

        return getattr(estimators, name)
    if name == "to_onnx":  # needs the onnx package (imported when called)
        from .onnx_export import to_onnx

        return to_onnx
    raise AttributeError(f"module 'mlpnet' has no attribute {name!r}")


__all__ = [
    "LBFGS",
    "SGD",
    "Adam",
    "Armijo",
    "Cache",
    "Callback",
    "Dense",
    "EarlyStopping",
    "ExactLineSearch",
    "GradientDescent",
    "History",
    "MLPClassifier",
    "MLPRegressor",
    "Network",
    "Objective",
    "Optimizer",
    "Perceptron",
    "RandomSearch",
    "TrainingDiverged",
    "activations",
    "callbacks",
    "datasets",
    "finite_difference_gradient",
    "gradient_check",
    "hessian",
    "initializers",
    "jacobian",
    "load",
    "losses",
    "metrics",
    "optim",
    "schedules",
    "to_onnx",
]
