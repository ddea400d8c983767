"""The benchmark harness runs and reports (no timing is asserted: speed is measured, not tested)."""

import numpy as np
import pytest

from mlpnet import bench


def test_table_format():
    text = bench.table([{"peer": "a", "seconds": 0.5}, {"peer": "b", "ratio": 2.0}])
    assert text.splitlines()[0] == "| peer | seconds | ratio |"
    assert "| b |  | 2 |" in text


def test_epoch_flops_counts_forward_and_backward_products():
    # 784-200-10: layer 1 forward + ∇W (no δ below it), layer 2 forward + ∇W + δ
    assert bench.epoch_flops(1) == 2 * 784 * 200 * 2 + 2 * 200 * 10 * 3


def test_numpy_floor_matches_mlpnet_step():
    """The bare NumPy loop is a faithful peer: one SGD step equals mlpnet's."""
    import mlpnet

    X, y = bench.synthetic(100)
    layers = bench.initial_layers()
    net = mlpnet.Network(bench.SIZES, activation="relu", seed=0)
    bench.numpy_epoch(layers, X, y, 100, 0.5)
    bench.mlpnet_epoch(net, X, y, 100, 0.5)
    np.testing.assert_allclose(net.layers[0].W, layers[0][0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(net.layers[1].b, layers[1][1], rtol=1e-4, atol=1e-6)


def test_quick_run_of_cheap_benchmarks():
    out = bench.run(["inference", "gradcheck"], quick=True, repeats=1, echo=lambda s: None)
    assert "### inference" in out and "| mlpnet |" in out and "n_params" in out
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        bench.run(["nope"], echo=lambda s: None)
