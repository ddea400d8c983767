"""Each ψ' against differences of ψ; softmax's Jacobian; the stability of σ."""

import numpy as np
import pytest

from mlpnet.activations import ACTIVATIONS, get_activation

SMOOTH = ["identity", "sigmoid", "tanh", "softsign"]


@pytest.mark.parametrize("name", [*SMOOTH, "relu", "leaky_relu", "heaviside"])
def test_derivative_matches_central_differences(name):
    act = get_activation(name)
    z = np.linspace(-3, 3, 61) + 0.0123  # off the kinks at 0
    eps = 1e-6
    np.testing.assert_allclose(
        act.derivative(z), (act(z + eps) - act(z - eps)) / (2 * eps), atol=1e-7
    )
    G = np.random.default_rng(0).standard_normal(z.shape)
    np.testing.assert_allclose(act.backprop(z, act(z), G), G * act.derivative(z), rtol=1e-12)


def test_values():
    z = np.array([-2.0, 0.0, 3.0])
    assert get_activation("relu")(z).tolist() == [0, 0, 3]
    assert get_activation("leaky_relu")(z).tolist() == [-0.02, 0, 3]
    assert get_activation("softsign")(z).tolist() == [-2 / 3, 0, 0.75]
    assert get_activation("heaviside")(z).tolist() == [0, 1, 1]
    np.testing.assert_allclose(get_activation("logistic")(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_array_equal(get_activation("sigmoid")(np.array([-1e4, 1e4])), [0, 1])
    assert get_activation("heaviside").derivative(z).tolist() == [0, 0, 0]


def test_softmax_rows_and_jacobian():
    act = get_activation("softmax")
    Z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    S = act(Z)
    np.testing.assert_allclose(S.sum(axis=1), 1)
    np.testing.assert_allclose(S[1], [0.5, 0.5, 0])
    J = act.derivative(Z)
    eps = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps
        np.testing.assert_allclose(
            J[0][:, j], (act(Z[:1] + e) - act(Z[:1] - e))[0] / (2 * eps), atol=1e-8
        )
    G = np.random.default_rng(0).standard_normal(Z.shape)
    np.testing.assert_allclose(act.backprop(Z, S, G), np.einsum("nij,ni->nj", J, G))


def test_table_and_errors():
    assert {
        "heaviside",
        "identity",
        "sigmoid",
        "logistic",
        "tanh",
        "softsign",
        "relu",
        "leaky_relu",
        "softmax",
    } <= set(ACTIVATIONS)
    with pytest.raises(ValueError, match="choose one of"):
        get_activation("swish")
