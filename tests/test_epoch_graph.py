"""EpochGraph: the whole-epoch path. On the CPU its step function runs eagerly (graph=False) and
must equal NumPy's mini-batch SGD; the capture itself is checked by the `gpu` tests."""

import numpy as np
import pytest

import mlpnet
from mlpnet.backends import to_numpy
from mlpnet.errors import TrainingDiverged
from mlpnet.optim import SGD

torch = pytest.importorskip("torch", reason="EpochGraph needs PyTorch")
pytest.importorskip("array_api_compat", reason="backends need array-api-compat")
from mlpnet.epoch_graph import EpochGraph  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def data(n=53, d=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, k, n)


def rel(a, b):
    a, b = np.asarray(to_numpy(a), np.float64), np.asarray(to_numpy(b), np.float64)
    return np.abs(a - b).max() / np.abs(b).max()


class SeparateReLU(EpochGraph):
    _fuse_relu = False  # ReLU as its own kernel, not in the GEMM's epilogue


@pytest.mark.parametrize("fused", [False, True, "separate relu"])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("batch", [1, 10, 53, 100])
def test_eager_epochs_equal_numpy_sgd(batch, hidden, fused):
    X, y = data()
    ref = mlpnet.Network([6, 8, 5, 4], activation=hidden, seed=1)
    net = ref.to("torch")
    h0 = ref.fit(
        X,
        y,
        loss="softmax_cross_entropy",
        optimizer=SGD(0.2),
        epochs=2,
        batch_size=batch,
        shuffle=False,
    )
    runner = (SeparateReLU if fused == "separate relu" else EpochGraph)(
        net,
        X,
        y,
        loss="softmax_cross_entropy",
        lr=0.2,
        batch_size=batch,
        shuffle=False,
        graph=False,
        fused=bool(fused),
    )
    h = runner.fit(2)
    assert rel(net.params, ref.params) <= 1e-5  # float32, other kernels: a tolerance
    np.testing.assert_allclose(h.step_loss, h0.step_loss, rtol=1e-5)
    np.testing.assert_allclose(h.loss, h0.loss, rtol=1e-5)


@pytest.mark.parametrize("fused", [False, True])
def test_target_rows_not_summing_to_one(fused):
    """Soft targets (rows of any sum): δ_L = ŷ Σ_k y_k − y, as losses.SoftmaxCrossEntropy."""
    X, y = data()
    Y = np.random.default_rng(1).uniform(size=(len(X), 4)) * 2
    ref = mlpnet.Network([6, 5, 4], activation="relu", seed=3)
    net = ref.to("torch")
    ref.fit(X, Y, loss="softmax_cross_entropy", optimizer=SGD(0.1), epochs=1, batch_size=9,
            shuffle=False)  # fmt: skip
    EpochGraph(net, X, Y, loss="softmax_cross_entropy", lr=0.1, batch_size=9, shuffle=False,
               graph=False, fused=fused).fit(1)  # fmt: skip
    assert rel(net.params, ref.params) <= 1e-5


def test_shuffled_epoch_is_a_device_permutation():
    X, y = data()
    ref = mlpnet.Network([6, 5, 4], activation="tanh", output_activation="softmax", seed=2)
    net = ref.to("torch")
    runner = EpochGraph(net, X, y, loss="cross_entropy", lr=0.1, batch_size=8, seed=3, graph=False)
    runner.fit(1)
    order = to_numpy(runner.order)
    assert sorted(order.tolist()) == list(range(len(X))) and order.tolist() != sorted(order)
    # the same epoch on NumPy, visiting the rows in that order
    ref.fit(
        X[order],
        y[order],
        loss="cross_entropy",
        optimizer=SGD(0.1),
        epochs=1,
        batch_size=8,
        shuffle=False,
    )
    assert rel(net.params, ref.params) <= 1e-5
    first = to_numpy(runner.order).copy()
    runner.fit(1)
    assert to_numpy(runner.order).tolist() != first.tolist()  # a new order each epoch


def test_refusals_and_divergence():
    X, y = data()
    with pytest.raises(ValueError, match="backend='torch'"):
        EpochGraph(mlpnet.Network([6, 4]), X, y, loss="softmax_cross_entropy", lr=0.1, batch_size=4)
    net = mlpnet.Network([6, 4], backend="torch")
    with pytest.raises(ValueError, match="lr must be positive"):
        EpochGraph(net, X, y, loss="softmax_cross_entropy", lr=0.0, batch_size=4)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            EpochGraph(net, X, y, loss="softmax_cross_entropy", lr=0.1, batch_size=4, graph=True)
    with pytest.raises(ValueError, match="fused=True needs"):
        EpochGraph(net, X, np.eye(4)[y], loss="squared_error", lr=0.1, batch_size=4, fused=True)
    start = to_numpy(net.params).copy()
    runner = EpochGraph(
        net, X * 1e6, np.eye(4)[y] * 1e6, loss="squared_error", lr=1e3, batch_size=4, graph=False
    )
    with pytest.raises(TrainingDiverged):
        runner.fit(2)
    np.testing.assert_array_equal(to_numpy(net.params), start)  # the first epoch's start


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("fused", [False, True, "separate relu"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_cuda_graph_replay_equals_eager(shuffle, fused):
    X, y = data(n=1000, d=20, k=10)
    base = mlpnet.Network([20, 32, 10], activation="relu", seed=4)
    torch.backends.cuda.matmul.allow_tf32 = False
    nets = [base.to("torch", "cuda") for _ in range(2)]
    runs = [
        (SeparateReLU if fused == "separate relu" else EpochGraph)(
            nets[i],
            X,
            y,
            loss="softmax_cross_entropy",
            lr=0.3,
            batch_size=100,
            shuffle=shuffle,
            seed=5,
            graph=bool(i),
            fused=bool(fused),
        )
        for i in range(2)
    ]
    hs = [r.fit(3) for r in runs]
    assert rel(nets[1].params, nets[0].params) <= 1e-5
    np.testing.assert_allclose(hs[1].loss, hs[0].loss, rtol=1e-5)
    if not shuffle:  # and both equal the NumPy run
        base.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=SGD(0.3),
            epochs=3,
            batch_size=100,
            shuffle=False,
        )
        assert rel(nets[1].params, base.params) <= 1e-5


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("name", ["gd", "sgd", "momentum", "adam", "armijo"])
def test_cuda_fit_equals_numpy(name):
    torch.backends.cuda.matmul.allow_tf32 = False
    X, y = data(n=300, d=20, k=10)
    ref = mlpnet.Network([20, 32, 10], activation="tanh", seed=6)
    net = ref.to("torch", "cuda")
    batch = None if name in ("gd", "armijo") else 32
    for model in (ref, net):
        model.fit(
            X,
            y,
            loss="softmax_cross_entropy",
            optimizer=name,
            epochs=1,
            batch_size=batch,
            shuffle=False,
        )
    assert net.params.device.type == "cuda"
    assert rel(net.params, ref.params) <= 1e-5


TRITON_CHECK = """
import numpy as np, mlpnet
from mlpnet._triton_delta import softmax_delta
from mlpnet.backends import to_numpy
from mlpnet.epoch_graph import EpochGraph
from mlpnet.optim import SGD

class WithTriton(EpochGraph):
    _triton = staticmethod(softmax_delta)

rng = np.random.default_rng(0)
X, y = rng.normal(size=(53, 6)), rng.integers(0, 4, 53)
soft = rng.uniform(size=(53, 4)) * 2  # rows of any sum: δ_L = P Σy − y
worst = 0.0
for hidden in ("relu", "tanh", "sigmoid", "identity"):
    for batch, targets, dtype in ((1, y, "float32"), (10, soft, "float32"), (53, y, "float64")):
        ref = mlpnet.Network([6, 8, 5, 4], activation=hidden, seed=1, dtype=dtype)
        net = ref.to("torch")
        h0 = ref.fit(X, targets, loss="softmax_cross_entropy", optimizer=SGD(0.2), epochs=2,
                     batch_size=batch, shuffle=False, progress=False)
        run = WithTriton(net, X, targets, loss="softmax_cross_entropy", lr=0.2,
                         batch_size=batch, shuffle=False, graph=False)
        assert run._lean.triton is softmax_delta
        h = run.fit(2)
        a, b = to_numpy(net.params).astype(float), ref.params.astype(float)
        tol = 1e-5 if dtype == "float32" else 1e-12
        rel = np.abs(a - b).max() / np.abs(b).max()
        assert rel <= tol, (hidden, batch, dtype, rel)
        np.testing.assert_allclose(h.step_loss, h0.step_loss, rtol=tol)
        worst = max(worst, rel)
print("ok", worst)
"""


def test_triton_kernel_in_the_interpreter_equals_numpy():
    """The softmax-δ Triton kernel, run by Triton's CPU interpreter, against NumPy's SGD."""
    import os
    import subprocess
    import sys

    pytest.importorskip("triton", reason="Triton is not installed (it comes with CUDA PyTorch)")
    env = {**os.environ, "TRITON_INTERPRET": "1"}  # read when the kernel is defined: a subprocess
    done = subprocess.run([sys.executable, "-c", TRITON_CHECK], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-3000:]


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "identity"])
def test_cuda_lean_graph_every_activation_equals_numpy(hidden):
    """The default CUDA path (Triton's softmax-δ kernel where Triton is), captured, vs NumPy."""
    torch.backends.cuda.matmul.allow_tf32 = False
    X, y = data(n=1000, d=20, k=10)
    soft = np.random.default_rng(1).uniform(size=(1000, 10))
    for targets in (y, soft):
        ref = mlpnet.Network([20, 32, 16, 10], activation=hidden, seed=4)
        net = ref.to("torch", "cuda")
        run = EpochGraph(net, X, targets, loss="softmax_cross_entropy", lr=0.3, batch_size=64,
                         shuffle=False)  # fmt: skip
        assert run.graph and run.fused
        try:
            import triton  # noqa: F401

            assert run._lean.triton is not None
        except ImportError:
            assert run._lean.triton is None
        h = run.fit(2)
        h0 = ref.fit(X, targets, loss="softmax_cross_entropy", optimizer=SGD(0.3), epochs=2,
                     batch_size=64, shuffle=False)  # fmt: skip
        assert rel(net.params, ref.params) <= 1e-5
        np.testing.assert_allclose(h.step_loss, h0.step_loss, rtol=1e-5)


# ---------------------------------------------------------------- fit's route through EpochGraph
@pytest.fixture
def graph_on_cpu(monkeypatch, epoch_graph_runs):
    """Let `fit` take the EpochGraph route on the CPU (eager), and count the runs it builds."""
    from mlpnet import _xp_training

    monkeypatch.setattr(_xp_training, "GRAPH_DEVICES", ("cuda", "cpu"))
    return epoch_graph_runs


def fit_both(monkeypatch, built, make, fit_args):
    """The same fit on the device loop and on the EpochGraph route; → (nets, histories)."""
    from mlpnet import _xp_training

    out = []
    for devices in (("cuda",), ("cuda", "cpu")):
        monkeypatch.setattr(_xp_training, "GRAPH_DEVICES", devices)
        net = make()
        before = len(built)
        history = net.fit(**fit_args)
        out.append((net, history, len(built) > before))
    (a, ha, routed_a), (b, hb, routed_b) = out
    assert not routed_a and routed_b  # the second took the graph route
    return (a, b), (ha, hb)


SGDS = {
    "plain": lambda: SGD(0.3),
    "momentum": lambda: SGD(0.1, momentum=0.9),
    "nesterov": lambda: SGD(0.1, momentum=0.8, nesterov=True),
}


@pytest.mark.parametrize("sgd", list(SGDS))
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("hidden", ["relu", "sigmoid"])
def test_fit_takes_the_graph_route_and_records_the_same(
    graph_on_cpu, monkeypatch, hidden, shuffle, sgd
):
    X, y = data(n=203)
    Xv, yv = data(n=40, seed=1)
    make = lambda: mlpnet.Network([6, 9, 5, 4], activation=hidden, seed=1, backend="torch")  # noqa: E731
    opt = [SGDS[sgd](), SGDS[sgd]()]  # one each: the step count k is part of what must agree
    args = dict(X=X, Y=y, loss="softmax_cross_entropy", epochs=3, batch_size=16, shuffle=shuffle,
                seed=5, validation_data=(Xv, yv), progress=False)  # fmt: skip
    from mlpnet import _xp_training

    runs = []
    for devices, o in ((("cuda",), opt[0]), (("cuda", "cpu"), opt[1])):
        monkeypatch.setattr(_xp_training, "GRAPH_DEVICES", devices)
        before, net = len(graph_on_cpu), make()
        runs.append((net, net.fit(**(args | {"optimizer": o}))))
        assert (len(graph_on_cpu) > before) == ("cpu" in devices)  # the route taken
    (a, ha), (b, hb) = runs
    assert opt[1].state[0] == opt[0].state[0] == 3 * 13  # 13 steps an epoch
    if sgd != "plain":  # the momentum buffer, in θ's layout, carried from epoch to epoch
        assert rel(opt[1].state[1], opt[0].state[1]) <= 1e-5
    assert rel(b.params, a.params) <= 1e-5
    np.testing.assert_allclose(hb.step_loss, ha.step_loss, rtol=1e-5)
    for name in ("loss", "val_loss", "grad_norm"):
        np.testing.assert_allclose(getattr(hb, name), getattr(ha, name), rtol=1e-5)
    np.testing.assert_allclose(hb.layer_grad_norm, ha.layer_grad_norm, rtol=1e-5)
    for key in ha.metrics:  # the running accuracy: the same rows right before their steps
        np.testing.assert_allclose(hb.metrics[key], ha.metrics[key], atol=1e-9)
    np.testing.assert_allclose(hb.val_metrics["accuracy"], ha.val_metrics["accuracy"], atol=1e-9)
    assert hb.stop_reason == ha.stop_reason == "epochs"


def test_fit_graph_route_early_stopping_and_divergence(graph_on_cpu, monkeypatch):
    X, y = data(n=120)
    make = lambda: mlpnet.Network([6, 7, 4], seed=2, backend="torch")  # noqa: E731
    args = dict(X=X, Y=y, loss="softmax_cross_entropy", optimizer=SGD(0.05), epochs=30,
                batch_size=10, validation_data=data(n=30, seed=3), patience=2, seed=1,
                progress=False)  # fmt: skip
    (a, b), (ha, hb) = fit_both(monkeypatch, graph_on_cpu, make, args)
    assert hb.epochs == ha.epochs and hb.stop_reason == ha.stop_reason
    assert rel(b.params, a.params) <= 1e-5
    # divergence: θ back to the start of the epoch whose loss was not finite
    net = mlpnet.Network([6, 7, 4], seed=2, backend="torch")
    with pytest.raises(TrainingDiverged) as caught:
        net.fit(X * 1e30, y, loss="softmax_cross_entropy", optimizer=SGD(1e6), epochs=3,
                batch_size=10, progress=False)  # fmt: skip
    assert graph_on_cpu and np.isfinite(to_numpy(net.params)).all()
    assert caught.value.history.stop_reason == "diverged"


@pytest.mark.parametrize(
    "case",
    ["schedule", "squared error", "adam", "full batch"],
)
def test_fit_keeps_the_device_loop_where_the_graph_does_not_apply(graph_on_cpu, case):
    from mlpnet.schedules import inverse_time

    X, y = data(n=60)
    net = mlpnet.Network([6, 5, 4], seed=0, backend="torch")
    args = dict(loss="softmax_cross_entropy", optimizer=SGD(0.1), epochs=2, batch_size=8,
                progress=False)  # fmt: skip
    if case == "schedule":
        args["optimizer"] = SGD(inverse_time(0.1))
    elif case == "squared error":
        args["loss"], y = "squared_error", np.eye(4)[y]
    elif case == "adam":
        args["optimizer"] = "adam"
    else:
        args["batch_size"] = None
    net.fit(X, y, **args)
    assert not graph_on_cpu


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_carries_over_fit_calls_on_the_graph_route(graph_on_cpu, monkeypatch, nesterov):
    """Two fit calls with one optimizer: its velocity continues, as on NumPy (warm start)."""
    X, y = data(n=90)
    ref = mlpnet.Network([6, 8, 4], activation="tanh", seed=9)
    net = ref.to("torch")
    opts = [SGD(0.05, momentum=0.9, nesterov=nesterov) for _ in range(2)]
    for _ in range(2):
        for model, opt in ((ref, opts[0]), (net, opts[1])):
            model.fit(X, y, loss="softmax_cross_entropy", optimizer=opt, epochs=2, batch_size=20,
                      seed=4, progress=False)  # fmt: skip
    assert len(graph_on_cpu) == 2  # one EpochGraph per fit call on the torch network
    assert rel(net.params, ref.params) <= 1e-5
    assert rel(opts[1].state[1], opts[0].state[1]) <= 1e-5


def test_epoch_graph_momentum_refusals():
    X, y = data()
    net = mlpnet.Network([6, 5, 4], backend="torch")
    with pytest.raises(ValueError, match="nesterov=True needs momentum"):
        EpochGraph(net, X, y, loss="softmax_cross_entropy", lr=0.1, batch_size=8, nesterov=True)
    with pytest.raises(ValueError, match="momentum needs the lean step"):
        EpochGraph(net, X, y, loss="softmax_cross_entropy", lr=0.1, batch_size=8, momentum=0.5,
                   fused=False)  # fmt: skip
