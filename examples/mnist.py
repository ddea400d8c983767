"""MNIST: softmax regression (784-10) against the notes' 784-200-10 ReLU network.

Both are trained by mini-batch SGD (lr 0.5, batch 100, 15 epochs, seed 0) on the softmax
cross-entropy. The notes train on the 60,000 MNIST training images and report about 8 % test error
for softmax regression and about 2 % for the network. This project ships only the 10,000-image
test set, so both train here on `mlpnet.datasets.mnist_10k`'s 8,000 images and are tested on its
other 2,000: with 7.5 times less training data the errors come out higher. The figure's
"validation" curves are these 2,000 test images; nothing is chosen by them.
"""

import sys
import time

import numpy as np
from _common import arguments, figure, save, stop_if_interrupted

import mlpnet
from mlpnet.datasets import find_mnist, mnist_10k
from mlpnet.plots import plot_training_curves

args = arguments(__doc__.splitlines()[0], mnist=True)
try:
    X_train, y_train, X_test, y_test = mnist_10k(find_mnist(args.data_dir))
except (FileNotFoundError, ValueError) as exc:
    print(f"MNIST not available: {exc}", file=sys.stderr)
    sys.exit(2)
epochs = 2 if args.quick else 15
print(
    f"mnist_10k: {len(X_train)} training and {len(X_test)} test images; SGD lr 0.5, batch 100, "
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
