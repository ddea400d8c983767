"""The torch backend on a CUDA GPU against NumPy (all marked `gpu`: skipped without a GPU).

What tests/test_backends.py and tests/test_backend_estimators.py check on torch-CPU, checked again
on ``device="cuda"``: forward passes, J and ∇J for every activation/loss pairing, the estimators and
the CLI. TF32 is switched off: with it cuBLAS rounds float32 products to 10-bit mantissas, and
nothing would equal NumPy to 1e-5. Run by benchmarks/gpu_check.sh.
"""

import numpy as np
import pytest

import mlpnet

torch = pytest.importorskip("torch", reason="needs PyTorch")
pytest.importorskip("array_api_compat", reason="backends need array-api-compat")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
TOL = {"float32": 1e-5, "float64": 1e-10}


@pytest.fixture(autouse=True)
def _no_tf32():
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = before


def close(a, b, tol):
    from mlpnet.backends import to_numpy

    a, b = np.asarray(to_numpy(a), np.float64), np.asarray(to_numpy(b), np.float64)
    assert a.shape == b.shape
    scale = max(np.abs(b).max(), 1e-30)
    assert np.abs(a - b).max() / scale <= tol, np.abs(a - b).max() / scale


def data(n=57, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    labels = rng.integers(0, k, n)
    return X, labels, np.eye(k)[labels], rng.uniform(size=(n, k))


PAIRS = [  # (output activation, loss, targets)
    ("identity", "squared_error", "real"),
    ("identity", "half_squared_error", "real"),
    ("softmax", "squared_error", "real"),
    ("sigmoid", "binary_cross_entropy", "prob"),
    ("identity", "softmax_cross_entropy", "labels"),
    ("softmax", "cross_entropy", "rows"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("out", "loss", "kind"), PAIRS)
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "softsign"])
def test_cuda_loss_gradient_and_forward_equal_numpy(hidden, out, loss, kind, dtype):
    X, labels, onehot, prob = data()
    Y = {"real": prob * 2 - 1, "prob": prob, "labels": labels, "rows": onehot}[kind]
    ref = mlpnet.Network([5, 8, 6, 3], activation=hidden, output_activation=out, seed=1,
                         dtype=dtype)  # fmt: skip
    net = ref.to("torch", "cuda")
    assert net.params.device.type == "cuda"
    J0, g0 = ref.objective(X, Y, loss)(ref.params)
    J1, g1 = net.objective(X, Y, loss)(net.params)
    assert float(J1) == pytest.approx(float(J0), rel=TOL[dtype])
    close(g1, g0, TOL[dtype])
    close(net.predict(X), ref.predict(X), TOL[dtype])


def test_cuda_estimators_equal_numpy():
    from mlpnet.estimators import MLPClassifier, MLPRegressor

    X, labels, _, prob = data(n=80)
    X = X.astype(np.float32)
    for cls, y, solver in (
        (MLPClassifier, labels, "sgd"),
        (MLPClassifier, labels, "adam"),
        (MLPClassifier, labels, "lbfgs"),
        (MLPRegressor, prob[:, :2], "adam"),
    ):
        params = dict(hidden_layer_sizes=(9,), random_state=3, shuffle=False, max_iter=6,
                      batch_size=16, learning_rate_init=0.05, solver=solver)  # fmt: skip
        ours, gpu = cls(**params), cls(backend="torch", device="cuda", **params)
        with pytest.warns(Warning):  # 6 iterations: not converged, on purpose
            ours.fit(X, y)
        with pytest.warns(Warning):
            gpu.fit(X, y)
        method = "predict_proba" if cls is MLPClassifier else "predict"
        result = getattr(gpu, method)(X)
        assert type(result) is np.ndarray
        close(result, getattr(ours, method)(X), 1e-4 if solver == "lbfgs" else 1e-5)


def test_cuda_cli_round_trip(tmp_path):
    from click.testing import CliRunner

    from mlpnet.cli import cli

    X, labels, _, _ = data(n=60)
    rows = [",".join([*map(str, x), str(c)]) for x, c in zip(X, labels, strict=True)]
    (tmp_path / "xy.csv").write_text("a,b,c,d,e,y\n" + "\n".join(rows) + "\n")
    runner, loss = CliRunner(), {}
    for backend, device in (("numpy", []), ("torch", ["--device", "cuda"])):
        model = tmp_path / f"{backend}.npz"
        args = ["train", "--data", str(tmp_path / "xy.csv"), "--hidden", "6", "--epochs", "3",
                "--optimizer", "adam", "--batch-size", "8", "-o", str(model),
                "--backend", backend, *device]  # fmt: skip
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        args = ["evaluate", str(model), "--data", str(tmp_path / "xy.csv"), "--backend", backend,
                *device]  # fmt: skip
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        loss[backend] = float(result.stdout.split("loss (softmax_cross_entropy): ")[1].split()[0])
    assert loss["torch"] == pytest.approx(loss["numpy"], rel=1e-5)


def test_cuda_load_and_move_back(tmp_path):
    ref = mlpnet.Network([4, 6, 2], activation="tanh", seed=5)
    ref.save(tmp_path / "m.npz")
    net = mlpnet.load(tmp_path / "m.npz", backend="torch", device="cuda")
    assert net.params.device.type == "cuda"
    X = np.random.default_rng(0).normal(size=(10, 4))
    close(net.predict(X), ref.predict(X), 1e-5)
    back = net.to("numpy")
    assert type(back.params) is np.ndarray
    np.testing.assert_array_equal(back.params, ref.params)  # moving copies, never rounds


@pytest.mark.parametrize("momentum", [0.0, 0.9, "nesterov"])
def test_cuda_fit_runs_sgd_as_graph_epochs_equal_to_numpy(epoch_graph_runs, momentum):
    """`fit` with SGD on CUDA replays EpochGraph epochs, and records what NumPy records."""
    from mlpnet.optim import SGD

    def make():
        if momentum == "nesterov":
            return SGD(0.05, momentum=0.8, nesterov=True)
        return SGD(0.2 if momentum == 0.0 else 0.05, momentum=momentum)

    built = epoch_graph_runs
    X, labels, _, _ = data(n=500, d=5, k=3)
    Xv, yv = X[:50] * 0.9, labels[:50]
    ref = mlpnet.Network([5, 16, 3], activation="relu", seed=7, dtype="float32")
    net = ref.to("torch", "cuda")
    args = dict(loss="softmax_cross_entropy", epochs=4, batch_size=32, seed=2,
                validation_data=(Xv, yv), progress=False)  # fmt: skip
    h0 = ref.fit(X, labels, optimizer=make(), **args)
    h = net.fit(X, labels, optimizer=make(), **args)
    assert len(built) == 1 and built[0]["graph"] is True
    close(net.params, ref.params, 1e-5)
    close(h.step_loss, h0.step_loss, 1e-5)
    close(h.val_loss, h0.val_loss, 1e-5)
    close(h.grad_norm, h0.grad_norm, 1e-4)
    close(h.metrics["accuracy"], h0.metrics["accuracy"], 1e-9)
