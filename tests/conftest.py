"""Shared test configuration: hypothesis profiles and data fixtures."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
"""Where the real MNIST test set lives: ``../shared/data/mnist`` seen from the repository root."""


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the real MNIST test-set files; skips the test when they are absent."""
    names = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    missing = [
        name
        for name in names
        if not (MNIST_DIR / name).is_file() and not (MNIST_DIR / f"{name}.gz").is_file()
    ]
    if missing:
        pytest.skip(
            f"MNIST not found at {MNIST_DIR}: missing {', '.join(missing)} (with or without .gz)"
        )
    return MNIST_DIR


# CuPy (a GPU) runs every backend test too where it is installed: the `gpu` tests of gpu_check.sh
OTHER_BACKENDS = ["array_api_strict", "torch", pytest.param("cupy", marks=pytest.mark.gpu)]


@pytest.fixture(params=OTHER_BACKENDS)
def backend(request) -> str:
    """The name of an array-API backend other than NumPy; skips when its library is missing."""
    if request.param == "torch":
        pytest.importorskip("torch", reason="the torch backend needs PyTorch")
    if request.param == "cupy":
        pytest.importorskip("cupy", reason="the cupy backend needs CuPy and a GPU")
    pytest.importorskip("array_api_compat", reason="backends need array-api-compat")
    if request.param == "array_api_strict":
        pytest.importorskip("array_api_strict", reason="needs array-api-strict")
    return request.param


@pytest.fixture
def epoch_graph_runs(monkeypatch) -> list:
    """The keyword arguments of every `mlpnet.epoch_graph.EpochGraph` built during the test."""
    pytest.importorskip("torch", reason="EpochGraph needs PyTorch")
    from mlpnet import epoch_graph

    built: list = []
    original = epoch_graph.EpochGraph.__init__

    def spy(self, *args, **kwargs):
        built.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(epoch_graph.EpochGraph, "__init__", spy)
    return built
