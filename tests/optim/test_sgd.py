"""SGD's update rules recomputed by hand from their formulas (PyTorch's momentum convention)."""

import numpy as np
import pytest

from mlpnet import schedules
from mlpnet.optim import SGD, GradientDescent, SGDState, sgd_update

THETA0 = [1.0, -2.0]
G0, G1 = np.array([1.0, 2.0]), np.array([0.5, -1.0])


def two_steps(optimizer):
    theta = np.array(THETA0)
    returned = [optimizer.step(theta, 0.0, G0, None)]
    first = theta.copy()
    returned.append(optimizer.step(theta, 0.0, G1, None))
    return first, theta, returned


def test_plain_sgd_steps_against_the_gradient():
    first, second, returned = two_steps(SGD(lr=0.1))
    np.testing.assert_allclose(first, [1.0 - 0.1 * 1.0, -2.0 - 0.1 * 2.0])  # θ − γ g_0
    np.testing.assert_allclose(second, first - 0.1 * G1)
    assert returned == [None, None]  # a fixed step is not recorded


def test_momentum_by_hand():
    # v_1 = g_0 = (1, 2);  v_2 = 0.9 v_1 + g_1 = (1.4, 0.8)
    first, second, _ = two_steps(SGD(lr=0.1, momentum=0.9))
    np.testing.assert_allclose(first, [1.0 - 0.1, -2.0 - 0.2])
    np.testing.assert_allclose(second, first - 0.1 * np.array([1.4, 0.8]))


def test_nesterov_by_hand():
    # d_1 = g_0 + 0.9 v_1 = (1.9, 3.8);  d_2 = g_1 + 0.9 v_2 = (0.5 + 1.26, −1 + 0.72)
    first, second, _ = two_steps(SGD(lr=0.1, momentum=0.9, nesterov=True))
    np.testing.assert_allclose(first, np.array(THETA0) - 0.1 * np.array([1.9, 3.8]))
    np.testing.assert_allclose(second, first - 0.1 * np.array([1.76, -0.28]))


def test_schedule_gives_gamma_k_and_step_returns_it():
    first, second, returned = two_steps(SGD(lr=schedules.inverse_time(0.6)))
    assert returned == [0.6, 0.3]  # γ_k = γ_0 / (k + 1), k = 0, 1
    np.testing.assert_allclose(second, first - 0.3 * G1)


def test_gradient_descent_is_the_fixed_step_rule():
    first, _, returned = two_steps(GradientDescent(lr=0.25))
    np.testing.assert_allclose(first, np.array(THETA0) - 0.25 * G0)
    assert returned == [None, None]


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.8, True)])
def test_in_place_step_equals_the_pure_rule_bit_for_bit(momentum, nesterov):
    rng = np.random.default_rng(0)
    lr = schedules.invscaling(0.3)
    optimizer = SGD(lr, momentum=momentum, nesterov=nesterov)
    theta, pure_theta, state = rng.standard_normal(50), None, SGDState(0, None)
    pure_theta = theta.copy()
    for k in range(5):
        grad = rng.standard_normal(50)
        optimizer.step(theta, 0.0, grad, None)
        delta, state = sgd_update(grad, state, lr(k), momentum, nesterov)
        pure_theta = pure_theta + delta
        np.testing.assert_array_equal(theta, pure_theta)
    assert optimizer.state.k == state.k == 5


def test_state_continues_until_reset():
    optimizer = SGD(schedules.inverse_time(1.0), momentum=0.5)
    theta = np.zeros(2)
    for _ in range(3):
        optimizer.step(theta, 0.0, np.ones(2), None)
    assert optimizer.state.k == 3
    np.testing.assert_allclose(optimizer.state.velocity, 1.75)  # 1, 1.5, 1.75
    assert optimizer.step(theta, 0.0, np.ones(2), None) == 0.25  # k = 3 continues
    optimizer.reset()
    assert optimizer.state == SGDState(0, None)


def test_float32_theta_stays_float32_with_float64_step_size():
    theta = np.ones(4, dtype=np.float32)
    SGD(lr=lambda k: np.float64(0.1), momentum=0.9).step(theta, 0.0, np.ones(4, np.float32), None)
    assert theta.dtype == np.float32
    np.testing.assert_allclose(theta, 0.9, rtol=1e-6)
