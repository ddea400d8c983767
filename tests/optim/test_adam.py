"""Adam recomputed by hand from Kingma & Ba (2015), Algorithm 1."""

import math

import numpy as np

from mlpnet import schedules
from mlpnet.optim import Adam, AdamState, adam_update


def test_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta = np.array([1.0, -1.0])
    optimizer = Adam(lr, b1, b2, eps)
    g1, g2 = np.array([0.5, -2.0]), np.array([1.0, 1.0])
    expected = theta.copy()
    m = v = np.zeros(2)
    for t, g in enumerate((g1, g2), start=1):
        optimizer.step(theta, 0.0, g, None)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected = expected - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(theta, expected, rtol=1e-13)
    assert optimizer.state.t == 2


def test_first_step_is_lr_times_sign_of_gradient():
    # m̂_1 = g and v̂_1 = g², so the first step is −α g / (|g| + ε)
    theta = np.zeros(3)
    Adam(lr=0.1).step(theta, 0.0, np.array([3.0, -0.2, 1e-3]), None)
    np.testing.assert_allclose(theta, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_in_place_step_equals_the_pure_rule():
    rng = np.random.default_rng(1)
    optimizer = Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    theta = rng.standard_normal(40)
    pure, state = theta.copy(), AdamState(0, None, None)
    for _ in range(6):
        grad = rng.standard_normal(40)
        optimizer.step(theta, 0.0, grad, None)
        delta, state = adam_update(grad, state, 0.05, 0.8, 0.99, 1e-6)
        pure = pure + delta
    np.testing.assert_allclose(theta, pure, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(optimizer.state.m, state.m, rtol=1e-15)
    np.testing.assert_allclose(optimizer.state.v, state.v, rtol=1e-15)
    assert optimizer.state.t == state.t == 6


def test_state_continues_and_resets():
    optimizer = Adam()
    theta = np.zeros(2)
    optimizer.step(theta, 0.0, np.ones(2), None)
    optimizer.step(theta, 0.0, np.ones(2), None)
    assert optimizer.state.t == 2
    np.testing.assert_allclose(optimizer.state.m, 1 - 0.9**2)
    optimizer.reset()
    assert optimizer.state.t == 0 and optimizer.state.m is None


def test_schedule_is_read_at_t_minus_one():
    optimizer = Adam(lr=schedules.step(0.1, 0.5, every=1))
    theta = np.zeros(1)
    used = [optimizer.step(theta, 0.0, np.ones(1), None) for _ in range(3)]
    assert used == [0.1, 0.05, 0.025]
    assert math.isclose(float(theta[0]), -0.175, rel_tol=1e-6)


def test_float32_buffers():
    theta = np.zeros(5, dtype=np.float32)
    optimizer = Adam(0.01)
    optimizer.step(theta, 0.0, np.ones(5, dtype=np.float32), None)
    assert theta.dtype == optimizer.state.m.dtype == optimizer.state.v.dtype == np.float32
