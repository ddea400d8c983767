"""MNIST: softmax regression (784-10) against the notes' 784-200-10 ReLU network.

Both are trained by mini-batch SGD (lr 0.5, batch 100, 15 epochs, seed 0) on the softmax
cross-entropy. The notes train on the 60,000 MNIST training images, test on the 10,000 test images
and report about 8 % test error for softmax regression and about 2 % for the network; this script
does exactly that when it finds the training set (``mlpnet download mnist`` puts all four files in
the cache, where `mlpnet.datasets.find_mnist` looks; or ``--data-dir`` a folder holding them).
Otherwise it falls back to `mlpnet.datasets.mnist_10k`: 8,000 of the test images to train on, the
other 2,000 to test on; with 7.5 times less training data the errors come out higher. Its first
line says which it used. The figure's "validation" curves are the test images; nothing is chosen
by them.
"""

import sys
import time

import numpy as np
from _common import arguments, figure, save, stop_if_interrupted

import mlpnet
from mlpnet.datasets import find_mnist, load_mnist, mnist_10k
from mlpnet.plots import plot_training_curves


def notes_data(data_dir):
    """MNIST's training and test sets (the notes' experiment), or None without the training set."""
    try:
        X_train, y_train = load_mnist(find_mnist(data_dir, split="train"), split="train")
    except FileNotFoundError:
        return None
    X_test, y_test = load_mnist(find_mnist(data_dir, split="test"), split="test")
    return X_train, y_train, X_test, y_test


args = arguments(__doc__.splitlines()[0], mnist=True)
try:
    data = notes_data(args.data_dir)
    source = "MNIST"
    if data is None:
        data, source = mnist_10k(find_mnist(args.data_dir)), "mnist_10k"
except (FileNotFoundError, ValueError) as exc:
    print(f"MNIST not available: {exc}", file=sys.stderr)
    sys.exit(2)
X_train, y_train, X_test, y_test = data
if source == "MNIST":
    print("data: MNIST's training and test sets, the notes' experiment")
else:
    print(
        "data: mnist_10k, the MNIST test set split 8,000/2,000 (the 60,000-image training set was "
        "not found; `mlpnet download mnist` fetches it for the notes' experiment)"
    )
epochs = 2 if args.quick else 15
print(
    f"{source}: {len(X_train)} training and {len(X_test)} test images; SGD lr 0.5, batch 100, "
    f"{epochs} epochs, softmax cross-entropy"
)

fig, axes = figure(2, 2, size=(11, 8))
for row, sizes in zip(axes, ([784, 10], [784, 200, 10]), strict=True):
    name = "softmax regression 784-10" if len(sizes) == 2 else "784-200-10 ReLU"
    net = mlpnet.Network(sizes, activation="relu", seed=0)
    start = time.perf_counter()
    history = net.fit(
        X_train,
        y_train,
        loss="softmax_cross_entropy",
        optimizer=mlpnet.optim.SGD(lr=0.5),
        batch_size=100,
        epochs=epochs,
        validation_data=(X_test, y_test),
        seed=0,
    )
    stop_if_interrupted(history, name)
    seconds = time.perf_counter() - start
    wrong = int(np.sum(net.predict(X_test).argmax(axis=1) != y_test))
    train_error = 1 - history.metrics["accuracy"][-1]
    print(
        f"  {name:<26} test error {100 * wrong / len(y_test):5.2f}% ({wrong} of {len(y_test)}), "
        f"last-epoch training error {100 * train_error:5.2f}%, {seconds:.1f} s"
    )
    plot_training_curves(history.as_dict(), axes=row)
    row[0].set_title(f"{name}: loss")
    row[1].set_title(f"{name}: test error {100 * wrong / len(y_test):.2f}%")
save(fig, args.out, "mnist.png")
