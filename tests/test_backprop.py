"""Backpropagation against central differences, over random architectures (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlpnet

SMOOTH = ["tanh", "sigmoid", "softsign", "identity"]
KINKED = ["relu", "leaky_relu"]


def data(rng, n, n_in, n_out, loss):
    X = rng.standard_normal((n, n_in))
    if loss in ("softmax_cross_entropy", "cross_entropy"):
        return X, rng.integers(0, n_out, n)
    if loss == "binary_cross_entropy":
        return X, rng.random((n, n_out))
    return X, rng.standard_normal((n, n_out))


OUTPUT_FOR = {
    "squared_error": ["identity", "tanh", "sigmoid", "softsign", "softmax"],
    "half_squared_error": ["identity", "tanh", "sigmoid", "softsign", "softmax"],
    "binary_cross_entropy": ["sigmoid"],
    "softmax_cross_entropy": ["identity"],
    "cross_entropy": ["softmax"],
}
PAIRS = [(loss, out) for loss, outs in OUTPUT_FOR.items() for out in outs]


@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    act=st.sampled_from(SMOOTH),
    pair=st.sampled_from(PAIRS),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_backprop_agrees_with_central_differences(sizes, act, pair, n, seed):
    loss, out = pair
    if loss in ("softmax_cross_entropy", "cross_entropy") or out == "softmax":
        sizes = [*sizes[:-1], max(sizes[-1], 2)]
    net = mlpnet.Network(sizes, activation=act, output_activation=out, seed=seed, dtype="float64")
    X, Y = data(np.random.default_rng(seed), n, sizes[0], sizes[-1], loss)
    assert mlpnet.gradient_check(net, X, Y, loss) < 1e-6


@given(
    sizes=st.lists(st.integers(1, 5), min_size=3, max_size=4),
    act=st.sampled_from(KINKED),
    seed=st.integers(0, 2**32 - 1),
)
def test_backprop_with_kinked_activations(sizes, act, seed):
    net = mlpnet.Network(sizes, activation=act, seed=seed, dtype="float64")
    X, Y = data(np.random.default_rng(seed), 4, sizes[0], sizes[-1], "half_squared_error")
    # keep every hidden pre-activation away from the kink at 0, where ψ' jumps
    cache = net.forward_cache(X)
    if any(np.abs(Z).min() < 1e-3 for Z in cache.Z[:-1]):
        return
    assert mlpnet.gradient_check(net, X, Y, "half_squared_error") < 1e-6


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "cross_entropy"])
def test_integer_labels_and_one_hot_give_the_same_loss_and_gradient(loss):
    out = "identity" if loss == "softmax_cross_entropy" else "softmax"
    net = mlpnet.Network(
        [3, 5, 4], activation="tanh", output_activation=out, seed=1, dtype="float64"
    )
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 4, 7)
    J1, g1 = net.loss_and_gradient(X, y, loss)
    J2, g2 = net.loss_and_gradient(X, np.eye(4)[y], loss)
    assert J1 == pytest.approx(J2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)
    assert mlpnet.gradient_check(net, X, np.eye(4)[y], loss) < 1e-6


def test_loss_value_matches_formula():
    net = mlpnet.Network([2, 3], output_activation="identity", seed=0, dtype="float64")
    X = np.array([[0.5, -1.0], [2.0, 0.0]])
    y = np.array([2, 0])
    Z = X @ net.layers[0].W.T + net.layers[0].b
    by_hand = np.mean(-Z[[0, 1], y] + np.log(np.exp(Z).sum(axis=1)))
    assert net.loss(X, y, "softmax_cross_entropy") == pytest.approx(by_hand, rel=1e-12)
    T = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    assert net.loss(X, T, "squared_error") == pytest.approx(np.mean(((Z - T) ** 2).sum(1)))
    assert net.loss(X, T, "half_squared_error") == pytest.approx(
        np.mean(0.5 * ((Z - T) ** 2).sum(1))
    )


@pytest.mark.parametrize(
    ("out", "loss", "Y"),
    [
        ("sigmoid", "binary_cross_entropy", np.array([[1.0], [1.0]])),
        ("identity", "softmax_cross_entropy", np.array([0, 0])),
        ("softmax", "cross_entropy", np.array([0, 0])),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matched_pairs_stay_finite_for_huge_logits(out, loss, Y, dtype):
    n_out = 1 if out == "sigmoid" else 2
    net = mlpnet.Network([1, n_out], output_activation=out, dtype=dtype)
    net.layers[0].W = np.full((n_out, 1), 1e4) * (np.arange(n_out)[:, None] * -2 + 1)
    X = np.array([[1.0], [-1.0]])  # logits ±1e4: one sample right, one wrong by 2e4
    J, grad = net.loss_and_gradient(X, Y, loss)
    assert np.isfinite(J) and np.all(np.isfinite(grad))
    assert J == pytest.approx(1e4 * (1 if out == "sigmoid" else 2) / 2, rel=1e-3)
    # δ = ŷ − y is bounded by 1: the gradient is at most the input size
    assert np.abs(grad).max() <= 1.0 + 1e-6


def test_backward_by_hand_equals_loss_and_gradient():
    net = mlpnet.Network([4, 6, 3], activation="tanh", seed=2, dtype="float64")
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    cache = net.forward_cache(X)
    delta = net.output_delta(cache, Y, "half_squared_error")
    np.testing.assert_allclose(delta, (cache.output - Y) / 5)
    grad = net.backward(cache, delta)
    np.testing.assert_array_equal(grad, net.loss_and_gradient(X, Y, "half_squared_error")[1])
    # the last layer's gradient is δ_Lᵀ Q_1 and Σ_rows δ_L (Algorithm 6.1)
    s = net.layer_slices[1]
    np.testing.assert_allclose(grad[s][:18].reshape(3, 6), delta.T @ cache.Q[1])
    np.testing.assert_allclose(grad[s][18:], delta.sum(0))


def test_float32_gradient_close_to_float64():
    net64 = mlpnet.Network([5, 8, 3], activation="sigmoid", seed=4, dtype="float64")
    net32 = net64.copy(dtype="float32")
    assert net32.dtype == np.float32 and net32.params.dtype == np.float32
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((10, 5)), rng.integers(0, 3, 10)
    J64, g64 = net64.loss_and_gradient(X, y, "softmax_cross_entropy")
    J32, g32 = net32.loss_and_gradient(X, y, "softmax_cross_entropy")
    assert g32.dtype == np.float32
    assert J32 == pytest.approx(J64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-6)
    assert mlpnet.gradient_check(net32, X, y, "softmax_cross_entropy") < 1e-4  # float64 inside


def test_single_sample_gradient_is_the_batch_of_one():
    net = mlpnet.Network([3, 4, 2], activation="tanh", seed=0, dtype="float64")
    x, y = np.array([0.1, -0.2, 0.3]), np.array([1.0, -1.0])
    J1, g1 = net.loss_and_gradient(x, y, "squared_error")
    J2, g2 = net.loss_and_gradient(x[None], y[None], "squared_error")
    assert J1 == J2
    np.testing.assert_array_equal(g1, g2)
    net2 = mlpnet.Network([3, 4, 2], activation="tanh", output_activation="identity", seed=0)
    assert net2.loss_and_gradient(x, 1, "softmax_cross_entropy")[0] > 0  # one label


def test_gradient_is_mean_of_per_sample_gradients():
    net = mlpnet.Network([2, 3, 1], activation="tanh", seed=5, dtype="float64")
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    mean = np.mean(
        [net.loss_and_gradient(X[i], Y[i], "squared_error")[1] for i in range(6)], axis=0
    )
    np.testing.assert_allclose(net.loss_and_gradient(X, Y, "squared_error")[1], mean, rtol=1e-12)


def test_user_defined_activation_and_loss():
    class Cube:
        def __call__(self, z):
            return z**3

        def derivative(self, z):
            return 3 * z**2

    class Quartic:  # ℓ = Σ (ŷ − y)⁴
        def value(self, Yhat, Y):
            return ((Yhat - Y) ** 4).sum(axis=1)

        def gradient(self, Yhat, Y):
            return 4 * (Yhat - Y) ** 3

    pair = (np.sin, np.cos)
    net = mlpnet.Network(
        [mlpnet.Dense(2, 3, Cube()), mlpnet.Dense(3, 2, pair), mlpnet.Dense(2, 1)],
        seed=0,
        dtype="float64",
    )
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 1))
    assert mlpnet.gradient_check(net, X, Y, Quartic()) < 1e-6
    W1, b1 = net.layers[0].W, net.layers[0].b
    expected = np.sin((X @ W1.T + b1) ** 3 @ net.layers[1].W.T + net.layers[1].b)
    expected = expected @ net.layers[2].W.T + net.layers[2].b
    np.testing.assert_allclose(net.predict(X), expected)


@pytest.mark.parametrize("targets", ["labels", "one_hot", "soft"])
def test_fused_softmax_value_and_delta_equal_the_separate_formulas(targets):
    from mlpnet.losses import SoftmaxCrossEntropy

    rng = np.random.default_rng(0)
    Z = rng.standard_normal((6, 4)) * 30  # large logits too
    y = rng.integers(0, 4, 6)
    Y = {"labels": y, "one_hot": np.eye(4)[y], "soft": rng.dirichlet(np.ones(4), 6) * 2}[targets]
    loss = SoftmaxCrossEntropy()
    ell, delta = loss.value_and_delta(Z, Z, Y)
    np.testing.assert_allclose(ell, loss.value(Z, Y), rtol=1e-12)
    np.testing.assert_allclose(delta, loss.output_delta(Z, Z, Y), rtol=1e-12, atol=1e-15)
