"""Armijo backtracking and the exact line search: their steps checked against their definitions."""

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from mlpnet.optim import Armijo, ExactLineSearch, armijo_step_size, as_objective


class CountingObjective:
    """Rosenbrock's function, counting gradient evaluations and value-only evaluations."""

    def __init__(self):
        self.gradients = self.values = 0

    def __call__(self, theta):
        self.gradients += 1
        return float(rosen(theta)), rosen_der(theta)

    def value(self, theta):
        self.values += 1
        return float(rosen(theta))


def walk(optimizer, steps, start=(-1.2, 1.0)):
    """Yield (θ_k, J_k, ∇J_k, t_k, θ_{k+1}) for `steps` steps on Rosenbrock's function."""
    objective = CountingObjective()
    theta = np.array(start)
    for _ in range(steps):
        before = theta.copy()
        J, grad = objective(theta)
        t = optimizer.step(theta, J, grad, objective)
        yield before, J, grad.copy(), t, theta.copy(), objective


@pytest.mark.parametrize(("lr0", "beta", "sigma"), [(1.0, 0.5, 1e-4), (0.1, 0.3, 0.4)])
def test_armijo_accepts_the_largest_step_satisfying_sufficient_decrease(lr0, beta, sigma):
    for theta, J, grad, t, moved, _ in walk(Armijo(lr0, beta, sigma), 30):
        g2 = grad @ grad
        assert rosen(theta - t * grad) <= J - sigma * t * g2
        np.testing.assert_array_equal(moved, theta - t * grad)
        if t != lr0:  # the previous, larger trial failed the condition
            larger = t / beta
            assert rosen(theta - larger * grad) > J - sigma * larger * g2
        assert t == pytest.approx(lr0 * beta ** round(np.log(t / lr0) / np.log(beta)))


def test_armijo_trials_are_forward_passes_only():
    *_, objective = list(walk(Armijo(), 5))[-1]
    assert objective.gradients == 5  # the fit loop's own evaluations
    assert objective.values >= 5


def test_armijo_takes_no_step_when_no_trial_passes():
    t = armijo_step_size(1.0, 4.0, lambda t: 2.0, lr0=1.0, beta=0.5, sigma=1e-4, max_backtracks=3)
    assert t == 0.0
    nan_first = iter([float("nan"), 0.0])
    t = armijo_step_size(1.0, 1.0, lambda t: next(nan_first), 1.0, 0.5, 1e-4, 10)
    assert t == 0.5  # a NaN trial counts as failing and backtracks


def test_exact_line_search_minimises_along_the_ray():
    for theta, J, grad, t, moved, _ in walk(ExactLineSearch(), 15):
        assert 0 < t < 10
        J_t = rosen(theta - t * grad)
        assert J_t < J
        for neighbour in (t * (1 - 1e-3), t * (1 + 1e-3)):
            assert rosen(theta - neighbour * grad) >= J_t
        np.testing.assert_array_equal(moved, theta - t * grad)


def test_exact_line_search_step_on_a_quadratic_is_the_closed_form():
    # J = ½ θᵀAθ: along −g the minimiser is t* = gᵀg / gᵀAg
    A = np.diag([1.0, 4.0, 9.0])
    objective = as_objective(lambda th: (0.5 * th @ A @ th, A @ th))
    theta = np.array([1.0, 1.0, 1.0])
    J, grad = objective(theta)
    t = ExactLineSearch(max_lr=1.0).step(theta, J, grad, objective)
    assert t == pytest.approx((grad @ grad) / (grad @ A @ grad), rel=1e-6)


def test_exact_line_search_shrinks_the_interval_when_the_far_minimiser_is_higher():
    # J(θ − t∇J) = f(t): a dip below f(0) = 0 at t = 0.01, and a wider valley at t = 5 above it
    def f(t):
        return (t - 0.01) ** 2 - 1e-4 if t < 0.05 else 0.5 + (t - 5.0) ** 2 / 100

    objective = as_objective(lambda th: (f(-th[0]), np.array([1.0])), value=lambda th: f(-th[0]))
    for max_shrinks, expected in ((0, 0.0), (8, 0.01)):
        theta = np.zeros(1)
        t = ExactLineSearch(10.0, max_shrinks=max_shrinks).step(theta, 0.0, np.ones(1), objective)
        assert t == pytest.approx(expected, abs=1e-6)
        assert theta[0] == -t


def test_exact_line_search_stays_at_a_stationary_point():
    objective = as_objective(lambda th: (float(th @ th), 2 * th))
    theta = np.zeros(2)
    assert ExactLineSearch(max_shrinks=1).step(theta, 0.0, np.zeros(2), objective) == 0.0
    assert theta.tolist() == [0.0, 0.0]


def test_direction_is_copied_before_trials():
    """An objective may reuse its gradient buffer; the line search must not read it afterwards."""
    buffer = np.zeros(2)

    class Reusing:
        def __call__(self, theta):
            buffer[:] = rosen_der(theta)
            return float(rosen(theta)), buffer

        def value(self, theta):
            buffer[:] = np.nan  # what a careless objective might do between calls
            return float(rosen(theta))

    theta = np.array([-1.2, 1.0])
    J, grad = Reusing()(theta)
    expected = theta - 1e-3 * rosen_der(theta)
    t = Armijo(lr0=1e-3).step(theta, J, grad, Reusing())
    assert t == 1e-3
    np.testing.assert_array_equal(theta, expected)
