"""The array-API backends (torch-CPU, array_api_strict) against the NumPy engine.

"Equal" is the largest absolute difference over the largest magnitude: the backends run other
kernels (BLAS, reduction orders) than NumPy, so only a tolerance can be asserted — 1e-5 in float32,
1e-10 in float64, as the issue asks.
"""

import pickle

import numpy as np
import pytest

import mlpnet
from mlpnet.backends import get_backend, to_numpy
from mlpnet.errors import TrainingDiverged
from mlpnet.optim import SGD, Adam, Armijo

TOL = {"float32": 1e-5, "float64": 1e-10}
# the `backend` fixture (tests/conftest.py): array_api_strict, torch-CPU, and CuPy on a GPU


def close(a, b, tol):
    a, b = np.asarray(to_numpy(a), np.float64), np.asarray(to_numpy(b), np.float64)
    assert a.shape == b.shape
    scale = max(np.abs(b).max(), 1e-30)
    assert np.abs(a - b).max() / scale <= tol, np.abs(a - b).max() / scale


def data(n=37, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    labels = rng.integers(0, k, n)
    return X, labels, np.eye(k)[labels], rng.uniform(size=(n, k))


PAIRS = [  # (output activation, loss, target kind)
    ("identity", "squared_error", "real"),
    ("identity", "half_squared_error", "real"),
    ("tanh", "squared_error", "real"),
    ("softmax", "squared_error", "real"),  # unmatched: the softmax Jacobian product
    ("sigmoid", "binary_cross_entropy", "prob"),
    ("identity", "softmax_cross_entropy", "labels"),
    ("identity", "softmax_cross_entropy", "rows"),
    ("softmax", "cross_entropy", "labels"),
    ("softmax", "cross_entropy", "rows"),
]
HIDDEN = ["relu", "tanh", "sigmoid", "softsign", "leaky_relu", "identity"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_forward_equals_numpy(backend, hidden, dtype):
    X = data()[0]
    ref = mlpnet.Network(
        [5, 7, 4, 3], activation=hidden, output_activation="softmax", seed=2, dtype=dtype
    )
    net = ref.to(backend)
    assert net.backend == backend and ref.backend == "numpy"
    Y = net.predict(X)
    assert type(Y).__module__.split(".")[0] == backend.split(".")[0]
    close(Y, ref.predict(X), TOL[dtype])
    close(net.predict(X[0]), ref.predict(X[0]), TOL[dtype])  # one sample → 1-D


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("out", "loss", "kind"), PAIRS)
def test_loss_and_gradient_equal_numpy(backend, out, loss, kind, dtype):
    X, labels, onehot, prob = data()
    Y = {"real": prob * 2 - 1, "prob": prob, "labels": labels, "rows": onehot}[kind]
    for hidden in ("relu", "tanh") if kind == "labels" else ("sigmoid",):
        ref = mlpnet.Network(
            [5, 6, 3], activation=hidden, output_activation=out, seed=1, dtype=dtype
        )
        net = mlpnet.Network(
            [5, 6, 3],
            activation=hidden,
            output_activation=out,
            seed=1,
            dtype=dtype,
            backend=backend,
        )
        close(net.params, ref.params, 0.0)  # the same θ drawn for the same seed
        J, grad = net.loss_and_gradient(X, Y, loss)
        J0, grad0 = ref.loss_and_gradient(X, Y, loss)
        assert isinstance(J, float) and abs(J - J0) <= TOL[dtype] * abs(J0)
        close(grad, grad0, TOL[dtype])
        assert abs(net.loss(X, Y, loss) - J0) <= TOL[dtype] * abs(J0)


def test_gradient_matches_finite_differences_float64(backend):
    """Not only NumPy's numbers: the backend gradient is the derivative of its own J."""
    X, labels, _, _ = data(n=11)
    net = mlpnet.Network([5, 4, 3], activation="tanh", seed=3, dtype="float64", backend=backend)
    theta = to_numpy(net.params).copy()
    _, grad = net.loss_and_gradient(X, labels, "softmax_cross_entropy")
    grad, h = to_numpy(grad), 1e-6
    for i in range(0, theta.size, 7):
        e = np.zeros_like(theta)
        e[i] = h
        net.params = theta + e
        up = net.loss(X, labels, "softmax_cross_entropy")
        net.params = theta - e
        down = net.loss(X, labels, "softmax_cross_entropy")
        assert abs((up - down) / (2 * h) - grad[i]) <= 1e-7


OPTIMIZERS = {
    "gd": (lambda: "gd", None),
    "sgd": (lambda: SGD(0.1), 8),
    "momentum": (lambda: SGD(0.05, momentum=0.9), 8),
    "nesterov": (lambda: SGD(0.05, momentum=0.9, nesterov=True), 8),
    "adam": (lambda: Adam(0.01), 8),
    "armijo": (lambda: Armijo(), None),
    "random_search": (lambda: "random_search", None),
    "lbfgs": (lambda: "lbfgs", None),
}


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_fit_equals_numpy(backend, name, shuffle):
    if name == "lbfgs":
        pytest.importorskip("scipy", reason="L-BFGS needs SciPy")
    make, batch = OPTIMIZERS[name]
    X, labels, _, _ = data(n=40)
    runs = {}
    for be in ("numpy", backend):
        net = mlpnet.Network([5, 6, 3], activation="tanh", seed=4, backend=be)
        h = net.fit(
            X,
            labels,
            loss="softmax_cross_entropy",
            optimizer=make(),
            epochs=2,
            batch_size=batch,
            shuffle=shuffle,
            seed=7,
            validation_data=(X[:15], labels[:15]),
        )
        runs[be] = (to_numpy(net.params), h)
    (theta0, h0), (theta, h) = runs["numpy"], runs[backend]
    close(theta, theta0, TOL["float32"])
    assert len(h.step_loss) == len(h0.step_loss) and h.stop_reason == h0.stop_reason
    np.testing.assert_allclose(h.loss, h0.loss, rtol=1e-5)
    np.testing.assert_allclose(h.val_loss, h0.val_loss, rtol=1e-5)
    np.testing.assert_allclose(h.grad_norm, h0.grad_norm, rtol=1e-4)
    assert h.metrics["accuracy"] == pytest.approx(h0.metrics["accuracy"])
    assert h.val_metrics["accuracy"] == pytest.approx(h0.val_metrics["accuracy"])


def test_fit_takes_device_arrays_and_regression(backend):
    be = get_backend(backend)
    X, _, _, prob = data(n=30)
    ref = mlpnet.Network([5, 4, 3], activation="relu", seed=5, dtype="float64")
    net = ref.to(backend)
    Xd, Yd = be.xp.asarray(X), be.xp.asarray(prob)
    ref.fit(
        X, prob, loss="squared_error", optimizer=SGD(0.05), epochs=1, batch_size=7, shuffle=False
    )
    net.fit(
        Xd, Yd, loss="squared_error", optimizer=SGD(0.05), epochs=1, batch_size=7, shuffle=False
    )
    close(net.params, ref.params, TOL["float64"])
    labels = be.xp.asarray(np.array([0, 2, 1] * 10))
    J = net.loss(Xd, labels, "softmax_cross_entropy")
    assert J == pytest.approx(ref.loss(X, np.array([0, 2, 1] * 10), "softmax_cross_entropy"))


def test_bad_device_input_is_refused(backend):
    xp = get_backend(backend).xp
    net = mlpnet.Network([3, 2, 2], seed=0, backend=backend)
    with pytest.raises(ValueError, match="expected 3 features"):
        net.predict(xp.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        net.predict(xp.full((4, 3), float("nan")))
    with pytest.raises(ValueError, match="labels must"):
        net.loss(xp.zeros((2, 3)), xp.asarray([0, 5]), "softmax_cross_entropy")
    with pytest.raises(ValueError, match="samples"):
        net.loss(xp.zeros((2, 3)), xp.asarray([0, 1, 1]), "softmax_cross_entropy")
    with pytest.raises(ValueError, match="parameters"):
        net.params = np.zeros(3)


def test_weights_and_dropout_say_they_need_numpy(backend):
    X, y = np.zeros((4, 3)), np.array([0, 1, 0, 1])
    net = mlpnet.Network([3, 2, 2], seed=0, backend=backend)
    with pytest.raises(ValueError, match="numpy backend"):
        net.loss_and_gradient(X, y, "softmax_cross_entropy", sample_weight=np.ones(4))
    with pytest.raises(ValueError, match="not supported on the"):
        net.fit(X, y, loss="softmax_cross_entropy", sample_weight=np.ones(4), epochs=1)
    with pytest.raises(ValueError, match="not supported on the"):
        net.fit(X, y, loss="softmax_cross_entropy", dropout=0.5, epochs=1, batch_size=2)


def test_divergence_restores_theta_of_the_epoch_start(backend):
    X, _, _, prob = data(n=20)
    net = mlpnet.Network([5, 4, 3], activation="identity", seed=0, backend=backend)
    X = X * 1e4
    before = to_numpy(net.params).copy()
    with pytest.raises(TrainingDiverged) as info:
        net.fit(X, prob, loss="squared_error", optimizer=SGD(10.0), epochs=3, batch_size=5)
    close(net.params, before, 0.0)
    assert info.value.history.stop_reason == "diverged"


def test_save_load_to_copy_pickle(backend, tmp_path):
    net = mlpnet.Network([3, 4, 2], activation="tanh", seed=1, backend=backend)
    path = tmp_path / "net.npz"
    net.save(path)
    with np.load(path) as f:  # always NumPy on disk
        assert all(isinstance(f[k], np.ndarray) for k in f.files)
    back = mlpnet.load(path, backend=backend)
    assert back.backend == backend
    close(back.params, net.params, 0.0)
    host = mlpnet.load(path)
    assert host.backend == "numpy" and isinstance(host.params, np.ndarray)
    close(host.params, net.params, 0.0)
    twin = net.copy()
    assert twin.backend == backend
    twin.params = twin.params * 2.0  # a copy: the original keeps its θ
    close(net.params, host.params, 0.0)
    home = net.to("numpy")
    assert isinstance(home.params, np.ndarray) and home.n_params == net.n_params
    state = net.__getstate__()  # host arrays only: a GPU network unpickles where CuPy can't
    assert all(isinstance(a, np.ndarray) for layer in state["layers"] for a in (layer.W, layer.b))
    assert type(net.layers[0].W) is type(net.params)  # the network's own layers untouched
    thawed = pickle.loads(pickle.dumps(net))  # noqa: S301 - our own bytes
    close(thawed.params, net.params, 0.0)
    assert thawed.backend == backend
    assert "total: 26 parameters" in net.summary()


def test_layer_views_write_through(backend):
    """θ stays one array: layer.W/b of a backend network are slices of it (views here)."""
    net = mlpnet.Network([2, 2, 1], seed=0, backend=backend)
    net.params = [1, 1, 1, 1, 0, -1, 1, -2, 0]  # the notes' XOR network
    close(net.layers[0].W, np.ones((2, 2)), 0.0)
    close(net.predict([[0, 0], [0, 1], [1, 0], [1, 1]])[:, 0], [0, 1, 1, 0], 0.0)


def test_unknown_backend_and_devices():
    with pytest.raises(ValueError, match="unknown backend"):
        mlpnet.Network([2, 1], backend="jax")
    with pytest.raises(ValueError, match="cpu only"):
        mlpnet.Network([2, 1], device="cuda")
    torch = pytest.importorskip("torch", reason="needs PyTorch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            mlpnet.Network([2, 1], backend="torch", device="cuda")


def test_user_activation_is_refused_on_backends(backend):
    with pytest.raises(ValueError, match="built-in activations"):
        mlpnet.Network([2, 2, 1], activation=(np.sin, np.cos), backend=backend)


def test_cli_predict_and_evaluate_on_a_backend(backend, tmp_path):
    from click.testing import CliRunner

    from mlpnet.cli import cli

    X, labels, _, _ = data(n=12)
    net = mlpnet.Network([5, 6, 3], activation="tanh", seed=8)
    net.save(tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", X)
    np.savez(tmp_path / "xy.npz", X=X, y=labels)
    outs = {}
    for be in ("numpy", backend):
        args = ["predict", str(tmp_path / "m.npz"), str(tmp_path / "x.npy"), "--backend", be]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outs[be] = np.loadtxt(result.stdout.splitlines()[1:], delimiter=",", ndmin=2)
        args = ["evaluate", str(tmp_path / "m.npz"), "--data", str(tmp_path / "xy.npz")]
        args += ["--loss", "softmax_cross_entropy", "--backend", be]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0 and "accuracy" in result.stdout, result.output
        outs[be + "J"] = float(result.stdout.split("loss (softmax_cross_entropy): ")[1].split()[0])
    np.testing.assert_allclose(outs[backend], outs["numpy"], rtol=1e-5, atol=1e-6)
    assert outs[backend + "J"] == pytest.approx(outs["numpyJ"], rel=1e-5)


def test_numpy_only_methods_say_so(backend):
    net = mlpnet.Network([2, 2, 1], seed=0, backend=backend)
    with pytest.raises(ValueError, match="forward_cache needs the numpy backend"):
        net.forward_cache(np.zeros((3, 2)))


def test_early_stopping_restores_the_best_theta_on_the_backend(backend):
    """patience= keeps the best epoch's θ in the backend's own arrays and puts it back."""
    X, labels, _, _ = data(n=40)
    Xv, yv = X[:15] + 0.5, labels[:15][::-1].copy()  # a validation set it soon stops improving on
    runs = {}
    for name in ("numpy", backend):
        net = mlpnet.Network([5, 6, 3], seed=3, backend=name)
        h = net.fit(X, labels, loss="softmax_cross_entropy", optimizer=SGD(0.5), epochs=40,
                    batch_size=8, validation_data=(Xv, yv), patience=2, seed=0,
                    progress=False)  # fmt: skip
        runs[name] = (net, h)
    (ref, h0), (net, h) = runs["numpy"], runs[backend]
    assert h.stop_reason == h0.stop_reason == "patience" and h.epochs == h0.epochs
    assert type(net.params).__module__.split(".")[0] == backend.split(".")[0]
    close(net.params, ref.params, 1e-5)  # the restored best epoch, not the last
