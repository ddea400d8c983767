"""Universal approximation: x², sin(πx), |x| and the step H(x), each by three tanh units.

The notes' figure: a 1-3-1 network f(x) = Σ_j v_j tanh(w_j x + b_j) + c fitted to 50 samples of each
target on (-1, 1) (`mlpnet.datasets.curve`, seed 0), here by L-BFGS on the half squared error from
a seeded random θ. The table gives the mean squared error on the 50 training points and on a
1,001-point grid of [-1, 1]; for the step the grid error is larger because its jump falls between
two samples, where nothing pins the fit. In the figure the dashed curves are the hidden units'
contributions v_j tanh(w_j x + b_j): the fit is their sum plus c.
"""

import numpy as np
from _common import arguments, hidden_layer, stop_if_interrupted

import mlpnet
from mlpnet.datasets import CURVES, curve
from mlpnet.plots import plot_function_fits

args = arguments(__doc__.splitlines()[0])
iterations = 100 if args.quick else 1000
titles = {"square": "$x^2$", "sin": r"$\sin(\pi x)$", "abs": "$|x|$", "heaviside": "$H(x)$"}
grid = np.linspace(-1.0, 1.0, 1001).reshape(-1, 1)


def contributions(net):
    """x ↦ (v_j tanh(w_j x + b_j))_j: what each hidden unit adds to the output."""
    v = net.layers[1].W[0].copy()
    return lambda G: hidden_layer(net)(G) * v


print(f"1-3-1 tanh network, L-BFGS (at most {iterations} iterations), 50 points of (-1, 1):")
print(f"  {'target':<10} {'iterations':>10} {'train MSE':>10} {'grid MSE':>10}")
fits = {}
for name, title in titles.items():
    X, Y = curve(name, n=50, seed=0)
    net = mlpnet.Network([1, 3, 1], activation="tanh", seed=0, dtype="float64")
    history = net.fit(X, Y, loss="half_squared_error", optimizer="lbfgs", epochs=iterations)
    stop_if_interrupted(history, f"the network for {name}")
    train_mse = float(np.mean((net.predict(X) - Y) ** 2))
    grid_mse = float(np.mean((net.predict(grid) - CURVES[name](grid)) ** 2))
    print(f"  {name:<10} {history.epochs:>10} {train_mse:>10.2e} {grid_mse:>10.2e}")
    fits[f"{title}: MSE {train_mse:.1e}"] = (X, Y, net.predict, contributions(net))

path = args.out / "universal_approximation.png"
plot_function_fits(fits, path=path)
print(f"wrote {path}")
