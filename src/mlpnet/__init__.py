"""mlpnet: multilayer perceptrons trained by exact backpropagation.

The formulas of the lecture notes as readable, verifiable NumPy: a network
f = f_L ∘ … ∘ f_1 with f_l(q) = ψ_l(W_l q + b_l), all parameters in one vector
θ = [vec(W_1), b_1, …, vec(W_L), b_L] (eq. 6.17), batched forward and backward passes whose rows
are samples (Algorithm 6.1), gradient checks against finite differences, and the notes' training
algorithms.
"""

from . import activations, initializers, losses, metrics
from .backprop import Cache
from .errors import TrainingDiverged
from .gradcheck import finite_difference_gradient, gradient_check, hessian, jacobian
from .layers import Dense
from .network import Network, Objective, load
from .perceptron import Perceptron

__version__ = "0.1.0"

__all__ = [
    "Cache",
    "Dense",
    "Network",
    "Objective",
    "Perceptron",
    "TrainingDiverged",
    "activations",
    "finite_difference_gradient",
    "gradient_check",
    "hessian",
    "initializers",
    "jacobian",
    "load",
    "losses",
    "metrics",
]
