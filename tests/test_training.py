"""The fit loop: each optimizer on the notes' problems, stopping, divergence, Ctrl-C, seeds."""

import math
import sys

import numpy as np
import pytest

import mlpnet
from mlpnet import schedules
from mlpnet.callbacks import Callback
from mlpnet.errors import TrainingDiverged
from mlpnet.history import EpochLogs
from mlpnet.optim import LBFGS, OPTIMIZERS, SGD, Adam, Armijo, GradientDescent, Optimizer
from mlpnet.training import fit

# -- data, made here with seeded generators --------------------------------------------------------


def two_class(n=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 2)) + 1.5 * np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y[:, None].astype(float)


XOR = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float), np.array([[0.0], [1.0], [1.0], [0.0]]))


def curve(f, n=50, seed=0):
    X = np.random.default_rng(seed).uniform(-1, 1, (n, 1))
    return X, f(X)


def blobs(seed=0):
    """Three overlapping Gaussian classes in 2-D (softmax regression has a finite optimum)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 30)
    return np.array([[0, 0], [2, 0], [0, 2]])[y] + rng.standard_normal((90, 2)), y


def tanh_net(sizes, output="identity", seed=0):
    return mlpnet.Network(
        sizes, activation="tanh", output_activation=output, seed=seed, dtype="float64"
    )


SQUARE = curve(np.square)


def fit_square(net=None, **kwargs):
    """Fit a 1-3-1 tanh network (a fresh one unless given) to x² on 50 points: (net, history)."""
    net = tanh_net([1, 3, 1]) if net is None else net
    return net, fit(net, *SQUARE, loss="half_squared_error", **kwargs)


class RecordingSGD(SGD):
    """SGD keeping copies of θ before (whose J was finite) and after every step."""

    def __init__(self, lr):
        super().__init__(lr)
        self.before, self.after = [], []

    def step(self, theta, J, grad, objective):
        self.before.append(theta.copy())
        lr = super().step(theta, J, grad, objective)
        self.after.append(theta.copy())
        return lr


class LeastSquares:
    """J = ½ mean (xᵀθ − y)²: a `Trainable` without a network (fit needs only the protocol)."""

    def __init__(self, n_features):
        self.params = np.zeros(n_features)
        self.calls = 0
        self.interrupt_at = None

    def objective(self, X, Y, loss, check=True):
        return _LSObjective(self, np.asarray(X, float), np.asarray(Y, float).reshape(-1))

    def predict(self, X):
        return np.asarray(X, float) @ self.params[:, None]

    def loss_and_gradient(self, X, Y, loss):
        return self.objective(X, Y, loss)(self.params)


class _LSObjective:
    def __init__(self, model, X, y):
        self.model, self.X, self.y = model, X, y

    def __call__(self, theta):
        self.model.calls += 1
        if self.model.calls == self.model.interrupt_at:
            raise KeyboardInterrupt
        r = self.X @ theta - self.y
        return 0.5 * float(r @ r) / len(r), self.X.T @ r / len(r)

    def value(self, theta):
        r = self.X @ theta - self.y
        return 0.5 * float(r @ r) / len(r)


def least_squares_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)


# -- every optimizer lowers the loss where it must ---------------------------------------------

PROBLEMS = {
    "two_class": (lambda: tanh_net([2, 3, 1], "sigmoid"), two_class, "binary_cross_entropy"),
    "xor": (lambda: tanh_net([2, 3, 1], "sigmoid", seed=1), lambda: XOR, "binary_cross_entropy"),
    "square": (lambda: tanh_net([1, 3, 1]), lambda: SQUARE, "half_squared_error"),
}


@pytest.mark.parametrize("problem", PROBLEMS)
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_each_optimizer_lowers_the_loss(optimizer, problem):
    make_net, data, loss = PROBLEMS[problem]
    net, (X, Y) = make_net(), data()
    J0 = net.loss(X, Y, loss)
    history = fit(net, X, Y, loss=loss, optimizer=optimizer, epochs=30, seed=0, progress=False)
    assert net.loss(X, Y, loss) < J0
    assert history.epochs <= 30 and history.loss[-1] <= history.loss[0]


@pytest.mark.parametrize("batch_size", [1, 7])
def test_online_and_mini_batch_sgd_learn_two_classes(batch_size):
    X, Y = two_class()
    net = tanh_net([2, 3, 1], "sigmoid")
    history = fit(
        net,
        X,
        Y,
        loss="binary_cross_entropy",
        optimizer=SGD(0.1),
        batch_size=batch_size,
        epochs=5,
        seed=0,
    )
    assert history.metrics["accuracy"][-1] > 0.9
    assert len(history.step_loss) == 5 * math.ceil(100 / batch_size)


def test_xor_is_learned_exactly():
    net = tanh_net([2, 3, 1], "sigmoid", seed=1)
    history = fit(net, *XOR, loss="binary_cross_entropy", optimizer="lbfgs", epochs=200)
    assert history.metrics["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(net.predict(XOR[0]) > 0.5, XOR[1] > 0.5)


@pytest.mark.parametrize(
    ("f", "optimizer", "seed"),
    [
        (np.square, LBFGS(), 0),
        (lambda x: np.sin(np.pi * x), LBFGS(), 0),
        (np.square, Adam(0.05), 0),
        (lambda x: np.sin(np.pi * x), Adam(0.05), 1),
    ],
    ids=["square-lbfgs", "sin-lbfgs", "square-adam", "sin-adam"],
)
def test_three_tanh_units_fit_the_notes_curves(f, optimizer, seed):
    """The notes' function fits: x² and sin(πx) on 50 points of (−1, 1) by one hidden layer of 3."""
    X, Y = curve(f)
    net = mlpnet.Network(
        [1, 3, 1], activation="tanh", output_activation="identity", seed=seed, dtype="float64"
    )
    net.fit(X, Y, loss="half_squared_error", optimizer=optimizer, epochs=2000, seed=0)
    assert np.mean((net.predict(X) - Y) ** 2) < 0.01


@pytest.mark.parametrize(
    "optimizer", [GradientDescent(2.0), LBFGS(), "armijo", "exact_line_search"]
)
def test_full_batch_methods_reach_gradient_tolerance_on_softmax_regression(optimizer):
    X, y = blobs()
    net = mlpnet.Network([2, 3], output_activation="identity", seed=0, dtype="float64")
    history = fit(
        net, X, y, loss="softmax_cross_entropy", optimizer=optimizer, epochs=2000, tol=1e-5
    )
    assert history.stop_reason == "tol"
    assert history.grad_norm[-1] <= 1e-5
    _, grad = net.loss_and_gradient(X, y, "softmax_cross_entropy")
    assert np.linalg.norm(grad) <= 1e-5


def test_fit_needs_only_the_trainable_protocol():
    X, y = least_squares_data()
    model = LeastSquares(3)
    history = fit(model, X, y, loss="half_squared_error", optimizer="gd", epochs=500, tol=1e-8)
    assert history.stop_reason == "tol"
    np.testing.assert_allclose(model.params, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-7)


# -- what the history records ---------------------------------------------------------------------


def test_inverse_time_steps_are_what_the_optimizer_used():
    optimizer = SGD(lr=schedules.inverse_time(0.5))
    _, history = fit_square(optimizer=optimizer, batch_size=1, epochs=3)  # online SGD
    assert history.lr == [0.5 / (k + 1) for k in range(150)]  # γ_k = γ_0 / (k + 1)
    _, history = fit_square(optimizer=optimizer, batch_size=1, epochs=1)
    assert history.lr[0] == 0.5 / 151  # the same optimizer continues its step count


def test_fixed_steps_are_not_recorded_but_line_search_steps_are():
    X, Y = two_class()
    kwargs = {"loss": "binary_cross_entropy", "epochs": 4}
    assert fit(tanh_net([2, 3, 1], "sigmoid"), X, Y, optimizer=SGD(0.1), **kwargs).lr == []
    steps = fit(tanh_net([2, 3, 1], "sigmoid"), X, Y, optimizer=Armijo(), **kwargs).lr
    assert len(steps) == 4 and all(0 < t <= 1.0 for t in steps)


def test_history_records_losses_metrics_and_norms_per_layer():
    X, Y = two_class()
    Xv, Yv = two_class(40, seed=1)
    net = tanh_net([2, 4, 3, 1], "sigmoid")
    history = fit(
        net,
        X,
        Y,
        loss="binary_cross_entropy",
        optimizer=SGD(0.2),
        batch_size=10,
        epochs=3,
        validation_data=(Xv, Yv),
        seed=0,
    )
    assert len(history.loss) == len(history.val_loss) == len(history.grad_norm) == 3
    assert len(history.step_loss) == 30
    assert history.loss[0] == pytest.approx(np.mean(history.step_loss[:10]))
    assert set(history.metrics) == set(history.val_metrics) == {"accuracy"}
    # validation runs in batches of batch_size (memory): the weighted mean differs only by rounding
    assert history.val_loss[-1] == pytest.approx(
        net.loss(Xv, Yv, "binary_cross_entropy"), rel=1e-12
    )
    assert history.val_metrics["accuracy"][-1] == mlpnet.metrics.accuracy(net.predict(Xv), Yv)
    assert all(len(layers) == 3 for layers in history.layer_grad_norm)
    for total, layers in zip(history.grad_norm, history.layer_grad_norm, strict=True):
        assert total == pytest.approx(math.sqrt(sum(v * v for v in layers)))
    assert history.seconds == sorted(history.seconds) and history.seconds[0] > 0
    assert history.stop_reason == "epochs"


def test_regression_has_no_accuracy_and_random_search_no_gradient_norm():
    _, history = fit_square(optimizer="random_search", epochs=3, seed=0)
    assert history.metrics == {} and history.val_loss == []
    assert all(math.isnan(g) for g in history.grad_norm)


# -- stopping rules -------------------------------------------------------------------------------


def test_tol_on_the_epoch_loss_stops_mini_batch_training():
    X, Y = two_class()
    history = fit(
        tanh_net([2, 3, 1], "sigmoid"),
        X,
        Y,
        loss="binary_cross_entropy",
        optimizer=SGD(0.05),
        batch_size=10,
        epochs=50,
        tol=0.05,
        seed=0,
    )
    assert history.stop_reason == "tol"
    assert history.epochs < 50
    assert history.loss[-1] > min(history.loss[:-1]) - 0.05


def test_patience_stops_and_restores_the_best_parameters():
    Xv, Yv = SQUARE[0], -SQUARE[1]  # validation that gets worse as training improves
    net, history = fit_square(
        optimizer=Adam(0.05), epochs=100, validation_data=(Xv, Yv), patience=3
    )
    assert history.stop_reason == "patience"
    best = int(np.argmin(history.val_loss))
    assert history.epochs == best + 4
    assert net.loss(Xv, Yv, "half_squared_error") == history.val_loss[best]


def test_a_callback_stops_training_and_sees_every_epoch():
    seen = []

    class Recorder(Callback):
        def on_train_begin(self, model):
            seen.append(("begin", model.params.size))

        def on_epoch_end(self, epoch, logs):
            assert isinstance(logs, EpochLogs)
            seen.append((epoch, logs.loss))
            return epoch == 2

        def on_train_end(self, history):
            seen.append(("end", history.stop_reason))

    _, history = fit_square(epochs=10, callbacks=[Recorder()])
    assert seen == [("begin", 10), *((e, history.loss[e]) for e in range(3)), ("end", "callback")]


# -- nothing lost ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("batch_size", [None, 10])
def test_divergence_raises_with_the_last_finite_parameters(batch_size):
    net, optimizer = tanh_net([1, 3, 1]), RecordingSGD(1e6)
    with pytest.raises(TrainingDiverged, match="diverged") as info:
        fit_square(net, optimizer=optimizer, batch_size=batch_size, epochs=100, seed=0)
    history = info.value.history
    thetas = optimizer.before  # θ_k of every step: J(θ_k) was finite
    assert history.stop_reason == "diverged"
    assert np.isfinite(net.params).all()
    np.testing.assert_array_equal(net.params, thetas[-1])
    assert all(np.isfinite(history.step_loss)) and len(history.step_loss) == len(thetas)


def test_same_seed_gives_the_same_parameters_bit_for_bit():
    X, Y = two_class()

    def train(seed):
        net = tanh_net([2, 4, 1], "sigmoid")
        net.fit(
            X,
            Y,
            loss="binary_cross_entropy",
            optimizer=SGD(0.1, momentum=0.9),
            batch_size=8,
            epochs=3,
            seed=seed,
        )
        return net.params

    np.testing.assert_array_equal(train(1), train(1))
    assert not np.array_equal(train(1), train(2))


@pytest.mark.parametrize("name", ["random_search", "sgd"])
def test_named_optimizers_are_seeded_by_fit(name):
    thetas = [fit_square(optimizer=name, batch_size=5, epochs=3, seed=7)[0].params for _ in "ab"]
    np.testing.assert_array_equal(*thetas)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.05)])
def test_fitting_again_continues_theta_and_optimizer_state(make):
    once, _ = fit_square(optimizer=make(), epochs=6)
    optimizer = make()
    twice, _ = fit_square(optimizer=optimizer, epochs=3)
    fit_square(twice, optimizer=optimizer, epochs=3)
    np.testing.assert_array_equal(once.params, twice.params)
    restarted, _ = fit_square(optimizer=make(), epochs=3)
    fit_square(restarted, optimizer=make(), epochs=3)
    assert not np.array_equal(once.params, restarted.params)


def test_ctrl_c_in_a_callback_returns_the_history_so_far():
    class Interrupt(Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                raise KeyboardInterrupt

    net, history = fit_square(batch_size=10, epochs=10, callbacks=[Interrupt()], seed=0)
    reference, _ = fit_square(batch_size=10, epochs=3, seed=0)
    assert history.stop_reason == "interrupted" and history.epochs == 3
    np.testing.assert_array_equal(net.params, reference.params)


def test_ctrl_c_inside_the_objective_keeps_the_last_completed_step():
    X, y = least_squares_data(n=8)
    model, optimizer = LeastSquares(3), RecordingSGD(0.1)
    model.interrupt_at = 6  # the second step of epoch 1 (4 steps an epoch)
    history = fit(
        model, X, y, loss="half_squared_error", optimizer=optimizer, batch_size=2, epochs=5, seed=0
    )
    assert history.stop_reason == "interrupted"
    assert (history.epochs, len(history.step_loss), len(optimizer.after)) == (1, 5, 5)
    np.testing.assert_array_equal(model.params, optimizer.after[-1])


def test_ctrl_c_during_an_update_restores_the_parameters_before_it():
    class HalfStep(Optimizer):
        def __init__(self):
            self.steps = 0

        def step(self, theta, J, grad, objective):
            self.steps += 1
            theta -= 0.1 * grad
            if self.steps == 3:
                theta[0] = 1e9  # half-way through an update
                raise KeyboardInterrupt

    X, y = least_squares_data()
    model, reference = LeastSquares(3), LeastSquares(3)
    history = fit(model, X, y, loss="half_squared_error", optimizer=HalfStep(), epochs=10)
    fit(reference, X, y, loss="half_squared_error", optimizer=GradientDescent(0.1), epochs=2)
    assert history.stop_reason == "interrupted" and len(history.step_loss) == 2
    np.testing.assert_array_equal(model.params, reference.params)


# -- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.5}, ValueError, "batch_size must be a positive integer, got 2.5"),
        ({"tol": -1.0}, ValueError, r"tol must be in \[0, inf\), got -1.0"),
        ({"patience": 3}, ValueError, "patience=3 needs validation_data"),
        (
            {"optimizer": "armijo", "batch_size": 10},
            ValueError,
            "Armijo needs the objective on all the data",
        ),
        (
            {"optimizer": "lbfgs", "batch_size": 1},
            ValueError,
            "LBFGS needs the objective on all the data",
        ),
        ({"optimizer": "newton"}, ValueError, "unknown optimizer 'newton'; choose one of"),
        ({"validation_data": ([[0.0]],)}, ValueError, "validation_data must be a pair"),
        (
            {"callbacks": [print]},
            TypeError,
            "callbacks must be mlpnet.callbacks.Callback instances",
        ),
        ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    kwargs = {"loss": "half_squared_error", **kwargs}
    with pytest.raises(error, match=message):
        fit(tanh_net([1, 3, 1]), *SQUARE, **kwargs)


def test_bad_data_is_refused_by_the_model_checks():
    with pytest.raises(ValueError, match="expected 1 features, got 2"):
        fit(tanh_net([1, 3, 1]), np.zeros((5, 2)), np.zeros(5), loss="half_squared_error")


def test_full_batch_methods_accept_a_batch_as_large_as_the_data():
    _, history = fit_square(optimizer="armijo", batch_size=50, epochs=2)
    assert len(history.step_loss) == 2


# -- progress -------------------------------------------------------------------------------------


def test_progress_bar_shows_loss_and_validation(capsys):
    pytest.importorskip("tqdm")
    X, Y = two_class()
    fit(
        tanh_net([2, 3, 1], "sigmoid"),
        X,
        Y,
        loss="binary_cross_entropy",
        epochs=2,
        validation_data=(X, Y),
        progress=True,
    )
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err and "val_loss=" in err and "val_accuracy=" in err


def test_no_progress_bar_when_off_or_not_a_terminal(capsys):
    fit_square(epochs=2, progress=False)
    fit_square(epochs=2)  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ""


def test_progress_without_tqdm_warns_and_trains(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.warns(UserWarning, match="pip install tqdm"):
        _, history = fit_square(epochs=2, progress=True)
    assert history.epochs == 2


def test_accuracy_false_skips_the_accuracy_bookkeeping():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    kept = mlpnet.Network([2, 4, 2], seed=0, dtype="float64")
    skipped = kept.copy()
    options = dict(loss="softmax_cross_entropy", optimizer="sgd", epochs=3, seed=0)
    with_accuracy = kept.fit(X, y, validation_data=(X, y), **options)
    without = skipped.fit(X, y, validation_data=(X, y), accuracy=False, **options)
    assert (
        len(with_accuracy.metrics["accuracy"]) == 3
        and len(with_accuracy.val_metrics["accuracy"]) == 3
    )
    assert not without.metrics and not without.val_metrics
    np.testing.assert_array_equal(kept.params, skipped.params)  # the same training either way
    assert without.loss == with_accuracy.loss
