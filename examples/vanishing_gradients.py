"""Vanishing and exploding gradients: per-layer gradient norms of a deep sigmoid vs ReLU network.

The notes' warning about depth: backpropagation multiplies the error δ by W_lᵀ and by ψ'(Z) at every
layer. With sigmoid units ψ' ≤ 1/4, so in a 10-layer network (9 hidden layers of 32 units, Xavier
init) the gradient norms ‖∇_{W_l, b_l} J‖ shrink by orders of magnitude towards the input and the
first layers barely learn; ReLU units with He init keep them level. With the notes' N(0, 1) init the
ReLU network's signal grows layer by layer instead: its gradients explode and SGD diverges (mlpnet
stops with TrainingDiverged and restores the last finite θ). Data: 1,000 points of
`mlpnet.datasets.two_class` (seed 0), binary cross-entropy, SGD lr 0.1, batch 50. The table gives
the first-layer / last-layer norm ratio at initialisation (full batch), the largest layer norm
there, the same ratio at the last epoch of training (from History.layer_grad_norm) and the
training accuracy.
"""

import numpy as np
from _common import arguments, figure, save, stop_if_interrupted

import mlpnet
from mlpnet.datasets import two_class
from mlpnet.plots import plot_grad_norms

args = arguments(__doc__.splitlines()[0])
X, y = two_class(n=1000, seed=0)
sizes = [2] + [32] * 9 + [1]
epochs = 5 if args.quick else 50
configs = {
    "sigmoid": ("sigmoid", None),
    "relu": ("relu", None),
    "relu, N(0, 1) init": ("relu", "normal"),
}

print(f"10-layer networks {sizes}, SGD lr 0.1, batch 50, {epochs} epochs:")
print(
    f"  {'hidden units':<20} {'init: first/last':>16} {'largest':>9} "
    f"{'trained: first/last':>19} {'accuracy':>9}"
)
fig, axes = figure(1, 3, size=(16, 4.5))
at_init = {}
for k, (name, (activation, init)) in enumerate(configs.items()):
    net = mlpnet.Network(
        sizes, activation=activation, output_activation="sigmoid", init=init, seed=0
    )
    grad = net.loss_and_gradient(X, y, "binary_cross_entropy")[1]
    norms = np.array([np.linalg.norm(grad[s]) for s in net.layer_slices])
    at_init[name] = norms
    start = f"  {name:<20} {norms[0] / norms[-1]:>16.2e} {norms.max():>9.2e}"
    try:
        history = net.fit(
            X, y, loss="binary_cross_entropy", optimizer=mlpnet.optim.SGD(lr=0.1),
            batch_size=50, epochs=epochs, seed=0,
        )  # fmt: skip
    except mlpnet.TrainingDiverged as exc:
        print(f"{start} {'diverged':>19}  ({str(exc).split(':')[0]})")
        continue
    stop_if_interrupted(history, name)
    per_layer = np.array(history.layer_grad_norm)
    accuracy = history.metrics["accuracy"][-1]
    print(f"{start} {per_layer[-1, 0] / per_layer[-1, -1]:>19.2e} {accuracy:>9.3f}")
    plot_grad_norms(per_layer, ax=axes[0, k])
    axes[0, k].set_title(f"{name}: per-layer gradient norm (accuracy {accuracy:.2f})")

ax = axes[0, 2]
for name, norms in at_init.items():
    ax.semilogy(range(1, len(norms) + 1), norms, "o-", label=name)
ax.set(xlabel="layer l", ylabel=r"$\|\nabla_{W_l, b_l}\|$ at initialisation")
ax.set_title("gradient norm by layer before training")
ax.legend(fontsize="small")
save(fig, args.out, "vanishing_gradients.png")
