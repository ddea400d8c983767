"""The Jacobian, the Hessian and the finite-difference check itself."""

import numpy as np
import pytest

import mlpnet
from mlpnet.gradcheck import sample_coordinates


def numeric_jacobian(net, x, eps=1e-6):
    net = net.copy(dtype="float64")
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        cols.append((net.predict(x + e) - net.predict(x - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("out", ["identity", "sigmoid", "softmax", "tanh"])
def test_jacobian_by_backprop_matches_differences(out):
    net = mlpnet.Network([3, 5, 4, 2], activation="tanh", output_activation=out, seed=1)
    X = np.random.default_rng(0).standard_normal((6, 3))
    J = mlpnet.jacobian(net, X)
    assert J.shape == (6, 2, 3)
    for i in range(6):
        np.testing.assert_allclose(J[i], numeric_jacobian(net, X[i].astype(float)), atol=1e-7)
    assert mlpnet.jacobian(net, X[0]).shape == (2, 3)


def test_jacobian_of_a_linear_network_is_the_weight_product():
    net = mlpnet.Network([3, 4, 2], activation="identity", seed=0, dtype="float64")
    W1, W2 = net.layers[0].W, net.layers[1].W
    np.testing.assert_allclose(mlpnet.jacobian(net, np.ones(3)), W2 @ W1, rtol=1e-12)


def test_hessian_of_least_squares_is_exact():
    # A single identity layer with ½‖ŷ − y‖²: J(θ) is quadratic with a known Hessian.
    net = mlpnet.Network([2, 1], output_activation="identity", seed=0)
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    H = mlpnet.hessian(net, X, np.zeros((3, 1)), "half_squared_error")
    A = np.hstack([X, np.ones((3, 1))])  # θ = (w1, w2, b)
    np.testing.assert_allclose(H, A.T @ A / 3, atol=1e-8)


def test_hessian_is_symmetric_and_matches_gradient_differences():
    net = mlpnet.Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=3)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 2)), rng.integers(0, 2, (5, 1))
    H = mlpnet.hessian(net, X, Y, "binary_cross_entropy")
    assert H.shape == (net.n_params, net.n_params)
    np.testing.assert_array_equal(H, H.T)
    # directional check: H v ≈ (∇J(θ + εv) − ∇J(θ − εv)) / 2ε
    net64 = net.copy(dtype="float64")
    v = rng.standard_normal(net.n_params)
    objective = net64.objective(X, Y, "binary_cross_entropy")
    eps = 1e-5
    Hv = (objective(net64.params + eps * v)[1].copy() - objective(net64.params - eps * v)[1]) / (
        2 * eps
    )
    np.testing.assert_allclose(H @ v, Hv, rtol=1e-5, atol=1e-8)


def test_gradient_check_detects_a_wrong_gradient_and_leaves_the_network_alone():
    class WrongHalfSquares:  # value ½‖ŷ − y‖² but gradient 2(ŷ − y): off by a factor 4
        def value(self, Yhat, Y):
            return 0.5 * ((Yhat - Y) ** 2).sum(axis=1)

        def gradient(self, Yhat, Y):
            return 2 * (Yhat - Y)

    net = mlpnet.Network([2, 3, 1], activation="tanh", seed=0)
    before = net.params.copy()
    X, Y = np.ones((3, 2)), np.zeros((3, 1))
    assert mlpnet.gradient_check(net, X, Y, WrongHalfSquares()) > 0.5
    assert mlpnet.gradient_check(net, X, Y, "half_squared_error") < 1e-6
    np.testing.assert_array_equal(net.params, before)
    assert net.dtype == np.float32


def test_finite_difference_error_is_second_order():
    net = mlpnet.Network([2, 3, 1], activation="tanh", seed=0, dtype="float64")
    X, Y = np.random.default_rng(1).standard_normal((4, 2)), np.ones((4, 1))
    g = net.loss_and_gradient(X, Y, "squared_error")[1]
    errs = [
        np.abs(mlpnet.finite_difference_gradient(net, X, Y, "squared_error", eps) - g).max()
        for eps in (1e-2, 1e-3)
    ]
    assert 50 < errs[0] / errs[1] < 200  # O(ε²): ten times smaller ε, a hundred times smaller error


# -- sampled checks (issue 9: a full check of 784-200-10 takes minutes) ---------------------------


def small_problem(seed=0):
    net = mlpnet.Network([4, 6, 3], activation="tanh", seed=seed, dtype="float64")
    rng = np.random.default_rng(seed)
    return net, rng.standard_normal((5, 4)), rng.integers(0, 3, 5)


def test_the_default_still_checks_every_coordinate_as_api_md_defines():
    net, X, y = small_problem()
    g = net.loss_and_gradient(X, y, "softmax_cross_entropy")[1]
    g_hat = mlpnet.finite_difference_gradient(net, X, y, "softmax_cross_entropy")
    expected = np.abs(g - g_hat).max() / max(np.abs(g).max(), np.abs(g_hat).max())
    error = mlpnet.gradient_check(net, X, y, "softmax_cross_entropy")
    assert error == expected  # the same arithmetic on the same arrays
    every = np.arange(net.n_params)
    assert mlpnet.gradient_check(net, X, y, "softmax_cross_entropy", coordinates=every) == error


def test_a_sample_is_seeded_distinct_and_covers_every_block():
    net = mlpnet.Network([30, 20, 10, 3], seed=0)
    index = sample_coordinates(net, 40, seed=1)
    assert len(index) == 40 and len(np.unique(index)) == 40 and np.all(np.diff(index) > 0)
    np.testing.assert_array_equal(index, sample_coordinates(net, 40, seed=1))
    assert not np.array_equal(index, sample_coordinates(net, 40, seed=2))
    for part, layer in zip(net.layer_slices, net.layers, strict=True):
        in_w = (index >= part.start) & (index < part.start + layer.W.size)
        in_b = (index >= part.start + layer.W.size) & (index < part.stop)
        assert in_w.any() and in_b.any()  # no W_l or b_l goes unchecked
    np.testing.assert_array_equal(sample_coordinates(net, 10**6), np.arange(net.n_params))
    with pytest.raises(ValueError, match="positive integer"):
        sample_coordinates(net, 0)


def test_a_sampled_check_sees_errors_in_its_sample_only(monkeypatch):
    net, X, y = small_problem()
    sample = sample_coordinates(net, 8, seed=0)
    outside = np.setdiff1d(np.arange(net.n_params), sample)[0]
    true_gradient = mlpnet.Network.loss_and_gradient

    def broken_at(i):
        def loss_and_gradient(self, *args, **kwargs):
            J, g = true_gradient(self, *args, **kwargs)
            g = g.copy()
            g[i] += 1.0
            return J, g

        return loss_and_gradient

    monkeypatch.setattr(mlpnet.Network, "loss_and_gradient", broken_at(sample[3]))
    assert mlpnet.gradient_check(net, X, y, "softmax_cross_entropy", coordinates=8, seed=0) > 0.1
    monkeypatch.setattr(mlpnet.Network, "loss_and_gradient", broken_at(outside))
    assert mlpnet.gradient_check(net, X, y, "softmax_cross_entropy", coordinates=8, seed=0) < 1e-6
    assert mlpnet.gradient_check(net, X, y, "softmax_cross_entropy") > 0.1  # the full check sees it


def test_progress_is_called_once_per_coordinate_and_bad_indices_are_refused():
    net, X, y = small_problem()
    calls = []
    mlpnet.gradient_check(
        net, X, y, "softmax_cross_entropy", coordinates=[0, 5, 7], progress=calls.append
    )
    assert calls == [1, 1, 1]
    for bad in ([net.n_params], [-1], [], [[1, 2]], [0.5]):
        with pytest.raises(ValueError, match="coordinates"):
            mlpnet.gradient_check(net, X, y, "softmax_cross_entropy", coordinates=bad)
