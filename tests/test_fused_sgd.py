"""The fused SGD path (Objective.descend) against the plain rule θ ← θ − γ∇J."""

import numpy as np
import pytest

import mlpnet
from mlpnet.optim import SGD


class UnfusedSGD(SGD):
    """The same rule through `step` (overriding it switches the fused path off)."""

    def step(self, theta, J, grad, objective):
        return super().step(theta, J, grad, objective)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid"])
def test_descend_equals_backward_then_step(dtype, act):
    net = mlpnet.Network([5, 7, 6, 3], activation=act, seed=1, dtype=dtype)
    X, y = data()
    J_ref, g = net.loss_and_gradient(X, y, "softmax_cross_entropy")
    expected = net.params - 0.3 * g
    J = net.objective(X, y, "softmax_cross_entropy").descend(net.params, 0.3)
    assert J == J_ref
    tol = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(net.params, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("lr", [0.1, mlpnet.schedules.inverse_time(0.5)])
def test_fit_with_fused_sgd_matches_the_unfused_rule(lr):
    X, y = data(200)
    a = mlpnet.Network([5, 8, 3], activation="relu", seed=3, dtype="float64")
    b = a.copy()
    assert SGD(lr).fusable and not UnfusedSGD(lr).fusable and not SGD(lr, momentum=0.5).fusable
    ha = a.fit(
        X, y, loss="softmax_cross_entropy", optimizer=SGD(lr), batch_size=16, epochs=3, seed=0
    )
    hb = b.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=UnfusedSGD(lr),
        batch_size=16,
        epochs=3,
        seed=0,
    )
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ha.step_loss, hb.step_loss, rtol=1e-10)
    assert ha.lr == hb.lr and len(ha.step_loss) == 3 * 13
    np.testing.assert_allclose(ha.metrics["accuracy"], hb.metrics["accuracy"])
    np.testing.assert_allclose(ha.grad_norm, hb.grad_norm, rtol=1e-8)


def test_fused_divergence_restores_the_last_parameters_with_a_finite_loss():
    X, y = data(40)
    X *= 50

    def net():
        return mlpnet.Network([5, 6, 3], activation="relu", seed=0, dtype="float64")

    trained = net()
    with pytest.raises(mlpnet.TrainingDiverged) as info:
        trained.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=SGD(1e8),
            batch_size=4,
            epochs=50,
            shuffle=False,
        )
    losses = info.value.history.step_loss
    assert np.isfinite(losses).all() and np.isfinite(trained.params).all()
    # replay: the restored θ is θ_K, where J(θ_K) was the last finite loss recorded (step K)
    replay = net()
    for k in range(len(losses) - 1):
        i = (4 * k) % 40
        objective = replay.objective(X[i : i + 4], y[i : i + 4], "softmax_cross_entropy")
        if i + 4 < 40:
            objective.descend(replay.params, 1e8)
        else:  # an epoch's last batch takes the ordinary path (it reports the gradient norm)
            replay.params -= 1e8 * objective(replay.params)[1]
    np.testing.assert_array_equal(trained.params, replay.params)


def test_descend_refuses_a_foreign_theta_and_skips_non_finite_losses():
    net = mlpnet.Network([2, 3, 1], seed=0, dtype="float64")
    objective = net.objective(np.ones((2, 2)), np.zeros((2, 1)), "squared_error")
    with pytest.raises(ValueError, match="own params"):
        objective.descend(net.params.copy(), 0.1)
    net.layers[1].b[...] = 1e200  # J = (1e200)² overflows
    before = net.params.copy()
    assert not np.isfinite(objective.descend(net.params, 0.1))
    np.testing.assert_array_equal(net.params, before)
