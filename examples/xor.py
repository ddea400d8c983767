"""XOR with one hidden layer: the notes' hand-built ReLU network, then networks trained by L-BFGS.

The notes' network has W1 = [[1, 1], [1, 1]], b1 = (0, -1), W2 = [[1, -2]], b2 = 0, ReLU hidden
units and an identity output, so f(x) = ReLU(x1 + x2) - 2 ReLU(x1 + x2 - 1): exactly XOR on the
four corners. Then 2-2-1 networks (tanh hidden units, sigmoid output, binary cross-entropy) are
trained by L-BFGS from ten seeded random starts. Some reach the four right answers; the others stop
where the gradient vanishes (the well-known XOR local minima and plateaus), which the script
reports rather than hides. The figure shows both networks' decision regions; on the right, dashed,
the lines where each trained hidden unit's tanh changes sign.
"""

import numpy as np
from _common import arguments, figure, hidden_layer, save, stop_if_interrupted

import mlpnet
from mlpnet.datasets import xor
from mlpnet.plots import plot_decision_boundary

args = arguments(__doc__.splitlines()[0])
X, Y = xor()

notes = mlpnet.Network([2, 2, 1], activation="relu", dtype="float64")
notes.params = [1, 1, 1, 1, 0, -1, 1, -2, 0]  # θ = [vec(W1), b1, vec(W2), b2], eq. (6.17)
outputs = notes.predict(X).ravel()
print("the notes' ReLU network, W1 = [[1, 1], [1, 1]], b1 = (0, -1), W2 = [[1, -2]], b2 = 0:")
for x, f, target in zip(X.astype(int), outputs, Y.ravel().astype(int), strict=True):
    print(f"  f({x[0]}, {x[1]}) = {f:g}   (XOR = {target})")
print(f"  computes XOR exactly: {bool(np.array_equal(outputs, Y.ravel()))}")

seeds = range(3) if args.quick else range(10)
print(f"\n2-2-1 network, tanh hidden, sigmoid output, binary cross-entropy, L-BFGS, seeds {seeds}:")
solved = []
for seed in seeds:
    net = mlpnet.Network(
        [2, 2, 1], activation="tanh", output_activation="sigmoid", seed=seed, dtype="float64"
    )
    history = net.fit(X, Y, loss="binary_cross_entropy", optimizer="lbfgs", epochs=1000)
    stop_if_interrupted(history, f"seed {seed}")
    out = net.predict(X).ravel()
    right = bool(np.array_equal(np.round(out), Y.ravel()))
    note = "" if right else "  <- stuck: gradient ~ 0"
    shown = ", ".join(f"{v:.3f}" for v in out)
    print(
        f"  seed {seed}: loss {history.loss[-1]:.3g} after {history.epochs} iterations, "
        f"outputs ({shown}){note}"
    )
    if right:
        solved.append((seed, net, history.loss[-1]))
print(f"  {len(solved)} of {len(seeds)} seeds reach the four right answers")

fig, axes = figure(1, 2, size=(11, 4.5))
plot_decision_boundary(notes.predict, X, Y, ax=axes[0, 0])
axes[0, 0].set_title("the notes' ReLU network")
if solved:
    seed, net, loss = solved[0]
    rounded = np.round(net.predict(X).ravel()).astype(int).tolist()
    print(f"trained network (seed {seed}): rounded outputs {rounded}, loss {loss:.3g}")
    plot_decision_boundary(net.predict, X, Y, hidden_layer(net), ax=axes[0, 1], hidden_level=0.0)
    axes[0, 1].set_title(f"trained 2-2-1 tanh network (seed {seed})")
save(fig, args.out, "xor.png")
