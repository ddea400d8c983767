"""The cost of a gradient: backpropagation O(|w|) against finite differences O(|w|²).

The notes' reason for backpropagation: one forward and one backward pass give all of ∇θ J in time
proportional to the number of weights |w|, whereas central differences
ĝ_i = (J(θ + εe_i) − J(θ − εe_i)) / 2ε need two forward passes per weight, 2|w| passes of cost
O(|w|) each. Here a 16-h-4 tanh network (softmax cross-entropy, 128 samples, float64) doubles |w|
five times (h = 16 … 512) and both gradients are timed. Expect each doubling to multiply the time
by about 2 for backpropagation and 4 for differences, so log-log slopes near 1 and 2: lower at the
small sizes, where the fixed cost of a call weighs most, which is why the slopes over the largest
three sizes are printed too. BLAS runs on one thread: on products this small, OpenBLAS's threads
make the timings jump. Both gradients agree to about 1e-9 (relative error, as
`mlpnet.gradient_check` measures it). The seconds depend on the machine and its load.
"""

import time
import timeit

import numpy as np
from _common import arguments, figure, save
from threadpoolctl import threadpool_limits

import mlpnet

args = arguments(__doc__.splitlines()[0])
threadpool_limits(1, user_api="blas")
rng = np.random.default_rng(0)
X, y = rng.standard_normal((128, 16)), rng.integers(0, 4, 128)
widths = [16 * 2**k for k in range(3 if args.quick else 6)]
loss = "softmax_cross_entropy"

print(f"16-h-4 tanh network, {len(X)} samples, float64, one BLAS thread; seconds per gradient")
print("(x: time over the previous row's, about 2 for O(|w|) and 4 for O(|w|^2)):")
header = ("h", "|w|", "backprop", "x", "differences", "x", "rel. error")
widths_of_columns = (4, 6, 9, 5, 11, 5, 10)
print("  " + " ".join(f"{name:>{w}}" for name, w in zip(header, widths_of_columns, strict=True)))
rows, previous = [], None
for h in widths:
    net = mlpnet.Network([16, h, 4], activation="tanh", seed=0, dtype="float64")
    # the fastest of 21 runs: the least disturbed by whatever else the machine is doing
    backprop = min(
        timeit.repeat(lambda net=net: net.loss_and_gradient(X, y, loss), number=1, repeat=21)
    )
    start = time.perf_counter()
    g_hat = mlpnet.finite_difference_gradient(net, X, y, loss)
    differences = time.perf_counter() - start
    g = net.loss_and_gradient(X, y, loss)[1]
    error = np.abs(g - g_hat).max() / max(np.abs(g).max(), np.abs(g_hat).max())
    bp_x, fd_x = (
        (f"{backprop / previous[0]:.1f}", f"{differences / previous[1]:.1f}")
        if previous
        else ("", "")
    )
    print(
        f"  {h:>4} {net.n_params:>6} {backprop:>9.2e} {bp_x:>5} {differences:>11.2e} {fd_x:>5} "
        f"{error:>10.1e}"
    )
    rows.append((net.n_params, backprop, differences))
    previous = backprop, differences
n_params, backprop, differences = np.log(np.array(rows)).T
slopes = [np.polyfit(n_params, t, 1)[0] for t in (backprop, differences)]
top = [np.polyfit(n_params[-3:], t[-3:], 1)[0] for t in (backprop, differences)]
print(f"log-log slopes over all sizes: backprop {slopes[0]:.2f}, differences {slopes[1]:.2f}")
print(f"over the largest three sizes:  backprop {top[0]:.2f}, differences {top[1]:.2f}")
smallest = mlpnet.Network([16, widths[0], 4], activation="tanh", seed=0, dtype="float64")
check = mlpnet.gradient_check(smallest, X, y, loss)
print(f"mlpnet.gradient_check on h = {widths[0]}: {check:.1e}")

fig, axes = figure(size=(6.4, 4.8))
ax = axes[0, 0]
sizes = np.exp(n_params)
for t, slope, name in zip(
    (backprop, differences), slopes, ("backprop", "differences"), strict=True
):
    ax.loglog(sizes, np.exp(t), "o-", label=f"{name} (slope {slope:.2f})")
for power, t in ((1, backprop), (2, differences)):  # reference lines through the last point
    ax.loglog(sizes, np.exp(t[-1]) * (sizes / sizes[-1]) ** power, "k:", lw=0.8)
ax.set(xlabel="number of parameters |w|", ylabel="seconds per gradient")
ax.set_title("gradient cost: O(|w|) vs O(|w|²) (dotted: slopes 1 and 2)")
ax.legend()
save(fig, args.out, "gradient_cost.png")
