"""The four-point loss surface over (w11, w12), with the paths of GD, SGD and Armijo line search.

The notes' example D = {((-3, -3), 1), ((-2, -2), 1), ((4, 4), 0), ((2, -5), 0)}, one sigmoid unit
ŷ = σ(w11 x1 + w12 x2) whose bias is held at 0, and the squared error averaged over the four
points. J then depends on the two weights only and can be drawn over the plane
(`mlpnet.plots.plot_loss_surface`). It has no minimiser: J falls towards 0 as w grows along the
valley w11 < 0, and it has a plateau (J ≈ 3/4) where w points the wrong way and every σ is
saturated on the wrong side, so the gradient nearly vanishes. From the same start w = (1, 2) on
that plateau: gradient descent with the fixed step 1, online SGD with
step 1 on one randomly drawn point per step (seed 0), and gradient descent with Armijo
backtracking (first trial step 8, β = 0.5, σ = 1e-4). The table gives the last J and the first
step at which J < 0.01.
"""

import numpy as np
from _common import arguments, save

import mlpnet
from mlpnet.datasets import four_points
from mlpnet.optim import SGD, Armijo, GradientDescent, as_objective
from mlpnet.plots import plot_loss_surface

args = arguments(__doc__.splitlines()[0])
X, y = four_points()
Y = y[:, None]  # one output column for the squared error
unit = mlpnet.Network([2, 1], output_activation="sigmoid", dtype="float64")  # θ = (w11, w12, b)


def restricted(rows):
    """J on the samples `rows` as a function of w = (w11, w12) alone, the bias held at 0."""
    full = unit.objective(X[rows], Y[rows], "squared_error")

    def value_and_gradient(w):
        J, grad = full(np.append(w, 0.0))
        return J, grad[:2].copy()

    return as_objective(value_and_gradient, lambda w: full.value(np.append(w, 0.0)))


everything = restricted(slice(None))


def descend(optimizer, steps, online=False):
    """`steps` updates from START (online: on one random point each); the w visited, J at each."""
    rng = np.random.default_rng(0)
    w = START.copy()
    visited, losses = [w.copy()], [everything.value(w)]
    for _ in range(steps):
        objective = restricted([rng.integers(4)]) if online else everything
        J, grad = objective(w)
        optimizer.step(w, J, grad, objective)
        visited.append(w.copy())
        losses.append(everything.value(w))
    return np.array(visited), losses


START = np.array([1.0, 2.0])
steps = 30 if args.quick else 100
methods = {
    "GD, lr 1": (GradientDescent(lr=1.0), False),
    "SGD, lr 1, one point a step": (SGD(lr=1.0), True),
    "Armijo, lr0 8, beta 0.5": (Armijo(lr0=8.0, beta=0.5), False),
}
print(
    f"one sigmoid unit on the four points, start w = {START.tolist()}, "
    f"J = {everything.value(START):.4f}"
)
print(f"  {'method':<28} {'steps':>5} {'final J':>9} {'first step with J < 0.01':>25}")
paths = {}
for name, (optimizer, online) in methods.items():
    paths[name], losses = descend(optimizer, steps, online)
    first = next((str(k) for k, J in enumerate(losses) if J < 0.01), "never")
    print(f"  {name:<28} {steps:>5} {losses[-1]:>9.2e} {first:>25}")

fig = plot_loss_surface(
    lambda a, b: everything.value(np.array([a, b])), (-5.0, 3.0), (-3.0, 4.0), paths
)
fig.axes[0].set_title("squared error of one sigmoid unit on the four points")
save(fig, args.out, "loss_surface.png")
