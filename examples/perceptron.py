"""Rosenblatt's perceptron: the notes' two worked examples; it learns AND and OR but not XOR.

The unit computes ŷ = H(w·x + b) with H(0) = 1, θ = (w, b). The perceptron rule changes θ only on
mistakes and stops after finitely many on linearly separable data (AND, OR); on XOR no line
separates the classes, so mistakes never stop.
"""

import warnings

import numpy as np
from _common import arguments, figure, save

import mlpnet
from mlpnet.plots import plot_decision_boundary

args = arguments(__doc__.splitlines()[0])

print("worked examples, theta = (w_1, w_2, w_3, b), x = (0, 1, 1):")
x = np.array([0.0, 1.0, 1.0])
for theta in ([1, 0, 1, -1], [1, 0.5, -1, 0]):
    unit = mlpnet.Perceptron(3)
    unit.theta = theta
    z = float(unit.decision_function(x))
    print(f"  theta = {tuple(theta)}: w.x + b = {z:g}, H({z:g}) = {int(unit.predict(x))}")

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
problems = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
epochs = 10 if args.quick else 100
fig, axes = figure(1, 3, size=(13, 4))
print(f"\nperceptron rule, lr 1, theta starts at 0, at most {epochs} epochs:")
for ax, (name, y) in zip(axes[0], problems.items(), strict=True):
    unit = mlpnet.Perceptron(2, lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # XOR: "did not converge" is the point
        unit.fit(X, np.array(y), epochs=epochs)
    right = int(np.sum(unit.predict(X) == y))
    status = (
        f"converged after {len(unit.mistakes_)} epochs"
        if unit.converged_
        else f"NOT converged in {epochs} epochs"
    )
    print(
        f"  {name:<3}: {status}, {sum(unit.mistakes_)} updates, w = {unit.w.tolist()}, "
        f"b = {unit.b:g}, {right}/4 correct"
    )
    plot_decision_boundary(unit.predict, X, y, ax=ax, margin=0.5)
    ax.set_title(f"{name}: {'separated' if unit.converged_ else 'no separating line'}")
save(fig, args.out, "perceptron.png")
