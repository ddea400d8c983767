"""examples/mnist.py chooses its data and says which.

The notes' experiment (train on the training set, test on the test set) when the training set is
there, else mnist_10k. Small IDX files written here stand in for MNIST.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpnet.datasets import write_idx

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]


def write_split(folder, prefix, n, seed):
    """Images whose class is readable (a bright row per digit) and their labels."""
    rng = np.random.default_rng(seed)
    labels = np.resize(np.arange(10, dtype=np.uint8), n)
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    images[np.arange(n), 2 * labels + 4, :] = 255
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)


def run_mnist_example(tmp_path, data_dir):
    # one BLAS thread: these tiny fits gain nothing from more, and lose much on a loaded machine
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "mnist.py"), "--quick", "--out", str(tmp_path)]
        + ["--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_with_the_training_set_it_runs_the_notes_experiment(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    write_split(data, "train", 600, seed=0)
    write_split(data, "t10k", 200, seed=1)
    result = run_mnist_example(tmp_path, data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "data: MNIST's training and test sets, the notes' experiment"
    assert lines[1].startswith("MNIST: 600 training and 200 test images; SGD lr 0.5, batch 100")
    errors = [float(e) for e in re.findall(r"test error\s+(\S+)%", result.stdout)]
    assert len(errors) == 2 and all(e < 20 for e in errors)  # the bright row gives the class away


def test_without_it_falls_back_to_mnist_10k_and_says_so(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    write_split(data, "t10k", 10_000, seed=1)
    result = run_mnist_example(tmp_path, data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("data: mnist_10k, the MNIST test set split 8,000/2,000")
    assert "`mlpnet download mnist`" in lines[0]
    assert lines[1].startswith("mnist_10k: 8000 training and 2000 test images")


def test_without_any_mnist_it_says_how_to_get_it(tmp_path):
    result = run_mnist_example(tmp_path, tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("MNIST not available: MNIST test images not found")
    assert f"`mlpnet download mnist --dir {tmp_path}`" in line
