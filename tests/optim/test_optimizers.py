"""A table of optimizers × test problems (optax's habit), and what all optimizers share."""

import math

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from mlpnet.optim import (
    LBFGS,
    OPTIMIZERS,
    SGD,
    Adam,
    Armijo,
    ExactLineSearch,
    GradientDescent,
    RandomSearch,
    as_objective,
    get_optimizer,
)

A, C = np.array([1.0, 10.0]), np.array([1.0, -2.0])
PARABOLA = (as_objective(lambda th: (0.5 * float(A @ (th - C) ** 2), A * (th - C))), [0.0, 0.0], C)
ROSENBROCK = (as_objective(lambda th: (float(rosen(th)), rosen_der(th))), [-1.2, 1.0], [1.0, 1.0])


def minimise(optimizer, objective, theta, steps):
    """Drive an optimizer as the fit loop does: evaluate (J, ∇J), step in place."""
    if hasattr(optimizer, "run"):
        optimizer.run(theta, objective, max_iter=steps)
        return theta
    for _ in range(steps):
        J, grad = objective(theta) if optimizer.uses_gradient else (objective.value(theta), None)
        optimizer.step(theta, J, grad, objective)
    return theta


# (problem, optimizer factory, steps, max |θ − θ*| required; None: J must only fall)
CASES = {
    "parabola-gd": (PARABOLA, lambda: GradientDescent(0.15), 200, 1e-8),
    "parabola-sgd-schedule": (PARABOLA, lambda: SGD(lambda k: 0.15), 200, 1e-8),
    "parabola-momentum": (PARABOLA, lambda: SGD(0.05, momentum=0.9), 500, 1e-6),
    "parabola-nesterov": (PARABOLA, lambda: SGD(0.05, momentum=0.9, nesterov=True), 500, 1e-6),
    "parabola-adam": (PARABOLA, lambda: Adam(0.1), 1000, 1e-4),
    "parabola-armijo": (PARABOLA, Armijo, 200, 1e-8),
    "parabola-exact": (PARABOLA, ExactLineSearch, 20, 1e-6),
    "parabola-lbfgs": (PARABOLA, LBFGS, 100, 1e-6),
    "parabola-random": (PARABOLA, lambda: RandomSearch(0.05, seed=0), 3000, 5e-3),
    "rosenbrock-gd": (ROSENBROCK, lambda: GradientDescent(2e-3), 10000, 1e-3),
    "rosenbrock-momentum": (ROSENBROCK, lambda: SGD(5e-4, momentum=0.9), 3000, 1e-2),
    "rosenbrock-nesterov": (ROSENBROCK, lambda: SGD(5e-4, 0.9, nesterov=True), 3000, 1e-2),
    "rosenbrock-adam": (ROSENBROCK, lambda: Adam(0.02), 3000, 1e-2),
    "rosenbrock-armijo": (ROSENBROCK, Armijo, 4000, 1e-2),
    "rosenbrock-exact": (ROSENBROCK, ExactLineSearch, 300, None),
    "rosenbrock-lbfgs": (ROSENBROCK, LBFGS, 100, 1e-5),
    "rosenbrock-random": (ROSENBROCK, lambda: RandomSearch(0.02, seed=0), 3000, 2e-2),
}


@pytest.mark.parametrize(("problem", "make", "steps", "atol"), CASES.values(), ids=CASES.keys())
def test_optimizer_minimises_test_problem(problem, make, steps, atol):
    objective, start, optimum = problem
    theta = np.array(start)
    J0 = objective.value(theta)
    minimise(make(), objective, theta, steps)
    assert objective.value(theta) < J0
    if atol is not None:
        np.testing.assert_allclose(theta, optimum, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "lbfgs"])
def test_steps_move_theta_in_place_keeping_dtype(name, dtype):
    objective = PARABOLA[0]
    theta = np.zeros(2, dtype=dtype)
    buffer = theta
    optimizer = get_optimizer(name, seed=0)
    for _ in range(5):
        J, grad = objective(theta)
        optimizer.step(theta, J, grad.astype(dtype), objective)
    assert theta is buffer and theta.dtype == dtype
    assert objective.value(theta) < objective.value(np.zeros(2))


def test_name_table_builds_each_optimizer_and_lists_choices_on_error():
    assert set(OPTIMIZERS) == {
        "gd", "sgd", "momentum", "adam", "armijo", "exact_line_search", "lbfgs", "random_search"
    }  # fmt: skip
    assert type(get_optimizer("momentum")) is SGD and get_optimizer("momentum").momentum == 0.9
    assert get_optimizer("SGD").lr == 0.01
    assert get_optimizer("gd").lr == 0.1
    optimizer = Adam()
    assert get_optimizer(optimizer) is optimizer
    with pytest.raises(ValueError, match=r"unknown optimizer 'newton'.*'gd'.*'random_search'"):
        get_optimizer("newton")
    with pytest.raises(TypeError, match="optimizer must be a name"):
        get_optimizer(3.0)


def test_full_batch_and_gradient_needs_are_declared():
    assert [n for n in OPTIMIZERS if get_optimizer(n).full_batch] == [
        "armijo", "exact_line_search", "lbfgs"
    ]  # fmt: skip
    assert [n for n in OPTIMIZERS if not get_optimizer(n).uses_gradient] == ["random_search"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD(lr=-1), "lr must be positive, got -1"),
        (lambda: SGD(lr=0.0), "lr must be positive, got 0.0"),
        (lambda: SGD(lr=math.inf), "lr must be finite, got inf"),
        (lambda: SGD(0.1, momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: SGD(0.1, momentum=-0.1), r"momentum must be in \[0, 1\), got -0.1"),
        (lambda: SGD(0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda: GradientDescent(lr=-2), "lr must be positive, got -2"),
        (lambda: Adam(lr=-1e-3), "lr must be positive, got -0.001"),
        (lambda: Adam(beta1=1.0), r"beta1 must be in \[0, 1\), got 1.0"),
        (lambda: Adam(beta2=-0.5), r"beta2 must be in \[0, 1\), got -0.5"),
        (lambda: Adam(eps=0), "eps must be positive, got 0"),
        (lambda: Armijo(lr0=0), "lr0 must be positive, got 0"),
        (lambda: Armijo(beta=1.0), r"beta must be in \(0, 1\), got 1.0"),
        (lambda: Armijo(sigma=0.0), r"sigma must be in \(0, 1\), got 0.0"),
        (lambda: Armijo(max_backtracks=0), "max_backtracks must be a positive integer, got 0"),
        (lambda: ExactLineSearch(max_lr=-1), "max_lr must be positive, got -1"),
        (lambda: ExactLineSearch(xtol=2), r"xtol must be in \(0, 1\), got 2"),
        (lambda: ExactLineSearch(max_shrinks=-1), "max_shrinks must be a non-negative integer"),
        (lambda: LBFGS(history_size=0), "history_size must be a positive integer, got 0"),
        (lambda: LBFGS(gtol=-1.0), r"gtol must be in \[0, inf\), got -1.0"),
        (lambda: RandomSearch(scale=-0.1), "scale must be positive, got -0.1"),
        (lambda: SGD(lr="big"), "lr must be a positive number or a schedule"),
    ],
)
def test_hyper_parameters_refused_in_init_quoting_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [lambda: SGD(0.01, momentum=0.5), Adam])
def test_state_for_another_network_size_is_refused(make):
    optimizer = make()
    optimizer.step(np.zeros(3), 0.0, np.ones(3), None)
    with pytest.raises(ValueError, match="holds state for 3 parameters but theta has 4"):
        optimizer.step(np.zeros(4), 0.0, np.ones(4), None)
    optimizer.reset()
    optimizer.step(np.zeros(4), 0.0, np.ones(4), None)


def test_as_objective_value_defaults_to_the_function():
    objective = as_objective(lambda th: (float(th @ th), 2 * th))
    assert objective.value(np.array([3.0, 4.0])) == 25.0
    J, grad = objective(np.array([1.0, 2.0]))
    assert J == 5.0 and grad.tolist() == [2.0, 4.0]
    assert as_objective(lambda th: (0.0, th), value=lambda th: 7.0).value(np.zeros(1)) == 7.0


def test_repr_shows_hyper_parameters():
    assert repr(SGD(0.5, momentum=0.9)).startswith("SGD(lr=0.5, momentum=0.9, nesterov=False")
    assert repr(GradientDescent(0.2)) == "GradientDescent(lr=0.2)"
