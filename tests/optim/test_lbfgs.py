"""L-BFGS through SciPy: a whole run, θ moved only to completed iterates."""

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from mlpnet.optim import LBFGS, as_objective

rng = np.random.default_rng(0)
M = rng.standard_normal((8, 8))
A = M @ M.T + np.eye(8)  # symmetric positive definite: a convex quadratic
b = rng.standard_normal(8)
QUADRATIC = as_objective(lambda th: (0.5 * th @ A @ th - b @ th, A @ th - b))


def test_reaches_gradient_tolerance_on_a_convex_quadratic():
    theta = np.zeros(8)
    norms = []

    def callback(J, grad):
        norms.append(np.linalg.norm(grad))
        return norms[-1] <= 1e-6

    result = LBFGS(gtol=0.0, ftol=0.0).run(theta, QUADRATIC, max_iter=200, callback=callback)
    assert norms[-1] <= 1e-6
    np.testing.assert_allclose(theta, np.linalg.solve(A, b), atol=1e-6)
    np.testing.assert_array_equal(theta, result.x)


def test_callback_sees_theta_at_the_new_iterate_and_can_stop():
    theta = np.array([-1.2, 1.0])
    seen = []
    objective = as_objective(lambda th: (float(rosen(th)), rosen_der(th)))

    def callback(J, grad):
        seen.append((theta.copy(), J))
        assert J == rosen(theta)
        np.testing.assert_allclose(grad, rosen_der(theta))
        return len(seen) == 3

    optimizer = LBFGS()
    optimizer.run(theta, objective, max_iter=100, callback=callback)
    assert len(seen) == 3
    np.testing.assert_array_equal(theta, seen[-1][0])
    assert seen[0][1] > seen[1][1] > seen[2][1]
    assert optimizer.state.k == 3
    optimizer.run(theta, objective, max_iter=2)
    assert optimizer.state.k == 5  # the count continues over runs


def test_interruption_leaves_theta_at_the_last_iterate():
    theta = np.array([-1.2, 1.0])
    iterates, calls = [], []

    def fun(th):
        calls.append(1)
        if len(iterates) == 2:
            raise KeyboardInterrupt
        return float(rosen(th)), rosen_der(th)

    with pytest.raises(KeyboardInterrupt):
        LBFGS().run(
            theta, as_objective(fun), 50, callback=lambda J, g: iterates.append(theta.copy())
        )
    np.testing.assert_array_equal(theta, iterates[-1])


def test_float32_theta():
    theta = np.zeros(8, dtype=np.float32)
    LBFGS().run(theta, QUADRATIC, max_iter=50)
    assert theta.dtype == np.float32
    np.testing.assert_allclose(theta, np.linalg.solve(A, b), atol=1e-4)


def test_step_is_not_available():
    with pytest.raises(TypeError, match="LBFGS runs whole"):
        LBFGS().step(np.zeros(2), 0.0, np.zeros(2), QUADRATIC)
