"""Data for mlpnet: MNIST from IDX files, the lecture notes' small problems, users' own tables.

- `load_mnist`, `mnist_10k` (the test set split 8,000 / 2,000), `read_idx` / `write_idx`;
- `download_mnist` (``load_mnist(download=True)``, ``mlpnet download mnist``) into `mnist_cache`;
- `xor`, `curve`, `two_class`, `four_points`: the notes' examples, generated in memory;
- `digits`: scikit-learn's bundled 8×8 digits;
- `load_table`: a CSV, ``.npy`` or ``.npz`` file of features and targets, for the command line.
"""

from mlpnet.datasets.digits import digits
from mlpnet.datasets.download import download_mnist, mnist_cache
from mlpnet.datasets.files import load_table
from mlpnet.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, write_idx
from mlpnet.datasets.mnist import find_mnist, load_mnist, mnist_10k, stratified_split
from mlpnet.datasets.synthetic import CURVES, curve, four_points, two_class, xor

__all__ = [
    "CURVES",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "curve",
    "digits",
    "download_mnist",
    "find_mnist",
    "four_points",
    "load_mnist",
    "load_table",
    "mnist_10k",
    "mnist_cache",
    "read_idx",
    "stratified_split",
    "two_class",
    "write_idx",
    "xor",
]
