"""The declared protocols the fit loop runs on: Optimizer (abc), BatchObjective, model hooks."""

import inspect

import numpy as np
import pytest

import mlpnet
from mlpnet import optim
from mlpnet._types import BatchObjective, as_batch_objective, model_hooks
from mlpnet.optim.base import Optimizer, as_optimizer
from mlpnet.training import fit


def test_optimizer_is_abstract_until_step_is_defined():
    with pytest.raises(TypeError):
        Optimizer()

    class NoStep(Optimizer):
        pass

    with pytest.raises(TypeError):
        NoStep()
    with pytest.raises(TypeError, match="needs|optimizer must"):
        optim.get_optimizer(object())


@pytest.mark.parametrize("name", list(optim.DEFAULTS))
def test_every_named_optimizer_declares_the_hooks(name):
    opt = optim.get_optimizer(name, seed=0)
    assert isinstance(opt, Optimizer)
    assert opt.owns_loop == (name == "lbfgs")
    assert opt.fusable == (name in ("gd", "sgd"))  # plain θ ← θ − γ_k ∇J only
    assert opt.full_batch == optim.DEFAULTS[name].full_batch


def test_a_step_rule_runs_itself_through_the_default_run():
    quadratic = optim.as_objective(lambda th: (0.5 * float(th @ th), th.copy()))
    theta = np.array([4.0, -2.0])
    seen = []
    optim.GradientDescent(0.5).run(
        theta, quadratic, max_iter=3, callback=lambda J, g: seen.append(J)
    )
    np.testing.assert_allclose(theta, [0.5, -0.25])  # halved three times
    np.testing.assert_allclose(seen, [2.5, 0.625, 0.15625])


def test_a_duck_typed_optimizer_trains_like_its_subclass_twin():
    class PlainStep:  # no base class: only step(θ, J, ∇J, objective)
        def step(self, theta, J, grad, objective):
            theta -= 0.1 * grad

    X, y = mlpnet.datasets.xor()
    duck, twin = (mlpnet.Network([2, 3, 1], activation="tanh", seed=1) for _ in range(2))
    fit(duck, X, y, loss="half_squared_error", optimizer=PlainStep(), epochs=20)
    fit(twin, X, y, loss="half_squared_error", optimizer=mlpnet.GradientDescent(0.1), epochs=20)
    # the same rule; GD may fuse the step into backprop, so rounding may differ in the last bits
    np.testing.assert_allclose(duck.params, twin.params, rtol=1e-5, atol=1e-6)
    assert as_optimizer(PlainStep()).owns_loop is False


def test_a_foreign_objective_gets_the_defaults():
    class Bare:
        X = np.zeros((2, 1))

        def __call__(self, theta):
            return 0.0, theta

        def value(self, theta):
            return 0.0

    wrapped = as_batch_objective(Bare())
    assert isinstance(wrapped, BatchObjective)
    assert wrapped.X is Bare.X and wrapped.Y is None and wrapped.output is None
    assert wrapped.on_host and not wrapped.held_elsewhere and not wrapped.can_descend
    assert np.isnan(wrapped.accuracy)
    wrapped.release()  # a no-op by default
    net = mlpnet.Network([2, 2], seed=0)
    assert as_batch_objective(
        net.objective(np.zeros((1, 2)), np.zeros((1, 2)), "half_squared_error")
    ).can_descend


def test_a_foreign_objective_keeps_the_hooks_it_has():
    class Sharded:
        on_host, held_elsewhere, accuracy = False, True, 0.75

        def __call__(self, theta):
            return 0.0, theta

        def value(self, theta):
            return 0.0

        def release(self):
            self.released = True

        def mini_batches(self, batch_size, shuffle, seed):
            return ("batches", batch_size)

    inner = Sharded()
    wrapped = as_batch_objective(inner)
    assert not wrapped.on_host and wrapped.held_elsewhere and wrapped.accuracy == 0.75
    assert wrapped.mini_batches(5, False, 0) == ("batches", 5) and not wrapped.can_descend
    wrapped.release()
    assert inner.released


def test_model_hooks_fill_in_what_a_trainable_leaves_out():
    class Minimal:
        params = np.zeros(3)

    hooks = model_hooks(Minimal())
    assert (hooks.n_params, hooks.layer_slices, hooks.dropout_masks) == (3, (), None)
    net = mlpnet.Network([2, 3, 1], seed=0)
    assert model_hooks(net).n_params == net.n_params == 13


def test_network_fit_shows_the_parameters_of_training_fit():
    shown = inspect.signature(mlpnet.Network.fit).parameters
    wanted = inspect.signature(fit).parameters
    assert list(shown)[1:] == list(wanted)[1:]  # self / model, then the same names in order
    for name in list(wanted)[1:]:
        assert shown[name].default == wanted[name].default, name
        assert shown[name].kind == wanted[name].kind, name
