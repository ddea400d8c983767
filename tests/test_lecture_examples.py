"""The notes' worked examples, checked to the digit."""

import numpy as np
import pytest

import mlpnet

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


@pytest.mark.parametrize(
    ("theta", "expected"),
    [((1, 0, 1, -1), 1), ((1, 0.5, -1, 0), 0)],
)
def test_perceptron_examples(theta, expected):
    # θ = (w_1, w_2, w_3, b) on x = (0, 1, 1): 1·0 + 0·1 + 1·1 − 1 = 0 → H(0) = 1;
    # 1·0 + 0.5·1 − 1·1 + 0 = −0.5 → H(−0.5) = 0.
    x = np.array([0, 1, 1])
    p = mlpnet.Perceptron(3)
    p.theta = theta
    assert p.predict(x) == expected
    net = mlpnet.Network([3, 1], output_activation="heaviside", dtype="float64")
    net.params = theta
    assert net.predict(x).tolist() == [expected]


def test_heaviside_at_zero_is_one():
    H = mlpnet.activations.get_activation("heaviside")
    assert H(np.array([-1e-12, 0.0, 1e-12])).tolist() == [0.0, 1.0, 1.0]


def test_xor_network_from_dense_layers():
    # W1 = [[1, 1], [1, 1]], b1 = (0, −1), ReLU, W2 = [[1, −2]], b2 = 0.
    hidden = mlpnet.Dense(2, 2, activation="relu")
    out = mlpnet.Dense(2, 1)
    hidden.W = [[1, 1], [1, 1]]
    hidden.b = [0, -1]
    out.W = [[1, -2]]
    net = mlpnet.Network([hidden, out])
    assert net.predict(XOR_X).ravel().tolist() == [0, 1, 1, 0]
    # the hidden layer's outputs, by hand: (x1 + x2, max(0, x1 + x2 − 1))
    cache = net.forward_cache(XOR_X)
    assert cache.Q[1].tolist() == [[0, 0], [1, 0], [1, 0], [2, 1]]


def test_xor_network_from_theta_layout():
    net = mlpnet.Network([2, 2, 1], activation="relu", seed=0)
    net.params = [1, 1, 1, 1, 0, -1, 1, -2, 0]  # [vec(W1), b1, vec(W2), b2], eq. (6.17)
    np.testing.assert_array_equal(net.layers[0].W, [[1, 1], [1, 1]])
    np.testing.assert_array_equal(net.layers[0].b, [0, -1])
    assert net.predict(XOR_X).ravel().tolist() == [0, 1, 1, 0]
    for x, y in zip(XOR_X, [0, 1, 1, 0], strict=True):
        assert net(x).tolist() == [y]


def test_perceptron_learns_and_and_reports_xor():
    X = XOR_X
    p = mlpnet.Perceptron(2, seed=0).fit(X, [0, 0, 0, 1], epochs=50)
    assert p.converged_
    assert p.predict(X).tolist() == [0, 0, 0, 1]
    assert p.mistakes_[-1] == 0
    with pytest.warns(RuntimeWarning, match="did not converge"):
        q = mlpnet.Perceptron(2).fit(X, [0, 1, 1, 0], epochs=20)
    assert not q.converged_


def test_perceptron_rule_by_hand():
    # Zero start, η = 1, x = (1, 2), y = 0: H(0) = 1 is a mistake, so w ← −x, b ← −1.
    p = mlpnet.Perceptron(2)
    with pytest.warns(RuntimeWarning):
        p.fit(np.array([[1.0, 2.0]]), [0], epochs=1)
    assert p.w.tolist() == [-1.0, -2.0]
    assert p.b == -1.0
    p.fit(np.array([[1.0, 2.0]]), [0], epochs=1)  # now 1·(−1) + 2·(−2) − 1 < 0: no mistake
    assert p.converged_


def test_perceptron_converges_on_separable_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 2))
    y = (X @ [2.0, -1.0] + 0.3 > 0).astype(int)
    margin = np.abs(X @ [2.0, -1.0] + 0.3) > 0.1
    X, y = X[margin], y[margin]
    p = mlpnet.Perceptron(2, lr=0.5, seed=1).fit(X, y, epochs=1000)
    assert p.converged_
    assert (p.predict(X) == y).all()
