"""Two overlapping Gaussian classes: a small tanh network's curved boundary and its hidden units.

The notes' two-class figure: 200 points from `mlpnet.datasets.two_class` (seed 0), a 2-3-1 network
with tanh hidden units and a sigmoid output trained on the binary cross-entropy by L-BFGS from a
seeded random θ. The boundary (solid) is bent where the hidden units' lines (dashed: where each
unit's tanh changes sign) cross. The classes overlap, so no classifier is perfect: for reference the
script also scores the Bayes rule, which knows the two true Gaussian densities (equal priors), on
the same fresh test points (seed 1).
"""

import numpy as np
from _common import arguments, hidden_layer, stop_if_interrupted
from scipy.stats import multivariate_normal

import mlpnet
from mlpnet.datasets import two_class
from mlpnet.datasets.synthetic import TWO_CLASS_COVARIANCES, TWO_CLASS_MEANS
from mlpnet.plots import plot_decision_boundary

args = arguments(__doc__.splitlines()[0])
X, y = two_class(200, seed=0)
X_test, y_test = two_class(1000 if args.quick else 10_000, seed=1)

net = mlpnet.Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)
history = net.fit(
    X, y, loss="binary_cross_entropy", optimizer="lbfgs", epochs=50 if args.quick else 1000
)
stop_if_interrupted(history, "the 2-3-1 network")


def accuracy(predict_proba, X, y):
    return float(np.mean((np.asarray(predict_proba(X)).ravel() > 0.5) == y))


def bayes(X):
    """P(class 1 | x) from the two true densities, equal priors."""
    p0, p1 = (
        multivariate_normal(mean, cov).pdf(X)
        for mean, cov in zip(TWO_CLASS_MEANS, TWO_CLASS_COVARIANCES, strict=True)
    )
    return p1 / (p0 + p1)


print(f"2-3-1 tanh network, binary cross-entropy, L-BFGS: {history.epochs} iterations")
print(f"  training loss     {history.loss[-1]:.4f}")
print(f"  train accuracy    {accuracy(net.predict, X, y):.3f}  ({len(X)} points)")
print(
    f"  test accuracy     {accuracy(net.predict, X_test, y_test):.3f}  ({len(X_test)} fresh points)"
)
print(
    f"  Bayes rule (true densities) on the same test points: {accuracy(bayes, X_test, y_test):.3f}"
)

path = args.out / "two_class.png"
fig = plot_decision_boundary(net.predict, X, y, hidden_layer(net), hidden_level=0.0)
fig.axes[0].set_title("2-3-1 tanh network: boundary (solid) and hidden units (dashed)")
fig.savefig(path, dpi=100)
print(f"wrote {path}")
