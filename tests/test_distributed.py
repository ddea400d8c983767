"""mlpnet.distributed on a real two-process LocalCluster on the loopback address.

"Equal" follows API.md: the largest absolute difference over the largest magnitude. Sharded sums
add the per-sample terms in another order than the single-machine mean (and BLAS may block a
shard's products differently), so results agree to rounding, not bit for bit: 1e-10 in float64.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pytest

pytest.importorskip("distributed", reason="mlpnet.distributed needs dask[distributed]")
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import mlpnet  # noqa: E402
from mlpnet import distributed as md  # noqa: E402
from mlpnet.callbacks import Callback  # noqa: E402


def rel(a, b) -> float:
    """Largest absolute difference over the largest magnitude (API.md's "equal")."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def classification(n=600, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, :k] + 0.3 * rng.normal(size=(n, k))).argmax(axis=1)
    return X, y


PROBLEMS = {  # (sizes, hidden ψ, output ψ, loss, targets)
    "labels": ([6, 7, 3], "tanh", "identity", "softmax_cross_entropy", "labels"),
    "one_hot": ([6, 5, 4, 3], "relu", "softmax", "cross_entropy", "one_hot"),
    "binary": ([6, 4, 1], "logistic", "sigmoid", "binary_cross_entropy", "binary"),
    "regression": ([6, 5, 2], "softsign", "identity", "half_squared_error", "real"),
}


def problem(name, seed=0, n=600):
    sizes, act, out, loss, kind = PROBLEMS[name]
    X, y = classification(n=n, seed=seed)
    Y = {
        "labels": y,
        "one_hot": np.eye(3)[y],
        "binary": (y == 0).astype(float)[:, None],
        "real": np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]],
    }[kind]
    net = mlpnet.Network(sizes, activation=act, output_activation=out, seed=seed, dtype="float64")
    return net, X, Y, loss


# -- the exact objective over shards --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_loss_and_gradient_equal_the_gathered_data(client, name):
    net, X, Y, loss = problem(name)
    chunks = ((100, 37, 263, 200),)  # uneven blocks; Y is re-split like X
    Xd = da.from_array(X, chunks=chunks + ((6,),))
    Yd = da.from_array(Y, chunks=150 if Y.ndim == 1 else (150, Y.shape[1]))
    J, grad = md.loss_and_gradient(net, Xd, Yd, loss, client=client)
    J0, grad0 = net.loss_and_gradient(X, Y, loss)
    assert abs(J - J0) <= 1e-10 * abs(J0)
    assert rel(grad, grad0) <= 1e-10
    assert grad.dtype == np.float64 and grad.shape == net.params.shape


def test_many_blocks_are_summed_in_a_tree_on_the_workers(client):
    net, X, Y, loss = problem("labels", n=1000)
    Xd = da.from_array(X, chunks=(50, 6))  # 20 blocks > FAN_IN: two levels of partial sums
    with md.ShardedObjective(net, Xd, Y, loss, client=client) as objective:
        assert len(objective.blocks) == 20 > md._objective.FAN_IN
        theta = net.params + 0.01
        J, grad = objective(theta)
        J0, grad0 = net.objective(X, Y, loss)(theta)
        assert abs(J - J0) <= 1e-10 * abs(J0) and rel(grad, grad0) <= 1e-10
        assert abs(objective.value(theta) - J0) <= 1e-10 * abs(J0)
        at_theta = net.copy()
        at_theta.params = theta
        assert objective.accuracy == mlpnet.metrics.accuracy(at_theta.predict(X), Y)  # counts
        assert np.array_equal(net.params, problem("labels", n=1000)[0].params)  # untouched


def test_theta_travels_once_per_evaluation_not_once_per_task(client):
    from distributed import Future

    calls = []

    class Recording:  # the real client, with its submit and map calls written down
        def __getattr__(self, name):
            return getattr(client, name)

        def submit(self, fn, *args, **kwargs):
            calls.append(("submit", fn.__name__, args))
            return client.submit(fn, *args, **kwargs)

        def map(self, fn, *iterables, **kwargs):
            calls.append(("map", fn.__name__, kwargs))
            return client.map(fn, *iterables, **kwargs)

    net, X, Y, loss = problem("labels")
    with md.ShardedObjective(
        net, da.from_array(X, chunks=(60, 6)), Y, loss, client=Recording()
    ) as o:
        calls.clear()
        o(net.params)
    sends = [c for c in calls if c[0] == "submit" and any(isinstance(a, np.ndarray) for a in c[2])]
    assert len(sends) == 1 and np.array_equal(sends[0][2][0], net.params)  # θ, once
    [(_, name, kwargs)] = [c for c in calls if c[0] == "map"]
    assert name == "_block_sums" and isinstance(kwargs["theta"], Future)  # the 10 tasks share it


def test_float32_network(client):
    X, y = classification()
    net = mlpnet.Network([6, 8, 3], activation="tanh", seed=3)  # float32
    J, grad = md.loss_and_gradient(net, da.from_array(X, chunks=200), y, "softmax_cross_entropy")
    J0, grad0 = net.loss_and_gradient(X, y, "softmax_cross_entropy")
    assert grad.dtype == np.float32
    assert abs(J - J0) <= 1e-5 * abs(J0) and rel(grad, grad0) <= 1e-5  # float32 rounding


# -- full-batch training with the optimizer on the client ------------------------------------------


def logs(history):
    """(J, ‖∇J‖, accuracy or None) of every epoch."""
    accuracy = history.metrics.get("accuracy", [None] * history.epochs)
    return list(zip(history.loss, history.grad_norm, accuracy, strict=True))


@pytest.mark.parametrize("optimizer", ["gd", "armijo", "lbfgs"])
@pytest.mark.parametrize("name", ["labels", "regression"])
def test_full_batch_fit_equals_net_fit(client, optimizer, name):
    net, X, Y, loss = problem(name, seed=1)
    local = net.copy()
    Xd, Yd = da.from_array(X, chunks=(250, 6)), da.from_array(Y, chunks=100)
    history = md.fit(net, Xd, Yd, loss=loss, optimizer=optimizer, epochs=6, client=client)
    expected = local.fit(X, Y, loss=loss, optimizer=optimizer, epochs=6)
    assert rel(net.params, local.params) <= 1e-10
    assert history.stop_reason == expected.stop_reason and history.epochs == expected.epochs
    for (J, g, acc), (J0, g0, acc0) in zip(logs(history), logs(expected), strict=True):
        assert abs(J - J0) <= 1e-10 * abs(J0) and abs(g - g0) <= 1e-10 * g0
        assert acc == acc0  # counts of correct rows: integers, the same at equal θ


def test_validation_data_on_dask_is_gathered_and_scored_like_net_fit(client):
    net, X, Y, loss = problem("labels", seed=3)
    local = net.copy()
    Xv, Yv = classification(n=100, seed=11)
    history = md.fit(net, da.from_array(X, chunks=(200, 6)), Y, loss=loss, optimizer="armijo",
                     epochs=3, validation_data=(da.from_array(Xv, chunks=50), Yv))  # fmt: skip
    expected = local.fit(X, Y, loss=loss, optimizer="armijo", epochs=3, validation_data=(Xv, Yv))
    assert rel(history.val_loss, expected.val_loss) <= 1e-10
    assert history.val_metrics == expected.val_metrics


def test_exact_line_search_agrees_to_the_precision_of_its_step(client):
    # Brent's search locates t only to about √ε·t where J is flat along the ray, so rounding-level
    # differences in J may move t (hence θ) by ~1e-8 relative: 1e-10 is not attainable here.
    net, X, Y, loss = problem("labels", seed=2)
    local = net.copy()
    md.fit(net, da.from_array(X, chunks=(200, 6)), Y, loss=loss, optimizer="exact_line_search",
           epochs=3, client=client)  # fmt: skip
    local.fit(X, Y, loss=loss, optimizer="exact_line_search", epochs=3)
    assert rel(net.params, local.params) <= 1e-6


def test_tol_stops_both_alike(client):
    net, X, Y, loss = problem("labels", seed=4)
    local = net.copy()
    # tol reached after ~12 iterations: L-BFGS on a non-convex J amplifies rounding over many
    # iterations (the in-memory fit on the same rows in another order drifts by 1e-12 after 40,
    # 5e-8 after 80), so equality to 1e-10 is a claim about tens of iterations, not hundreds
    options = dict(loss=loss, optimizer="lbfgs", epochs=200, tol=0.04)
    history = md.fit(net, da.from_array(X, chunks=(300, 6)), Y, client=client, **options)
    expected = local.fit(X, Y, **options)
    assert history.stop_reason == expected.stop_reason == "tol"
    assert history.epochs == expected.epochs < 30
    assert rel(net.params, local.params) <= 1e-10


# -- mini-batch SGD streamed block by block -------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer", [lambda: mlpnet.SGD(lr=0.05, momentum=0.9), lambda: mlpnet.Adam(lr=0.01)]
)
def test_streamed_sgd_equals_the_in_memory_run(client, optimizer):
    net, X, Y, loss = problem("labels", seed=5)
    local = net.copy()
    Xd = da.from_array(X, chunks=(96, 6))  # multiples of the batch size; the last block 24 rows
    options = dict(loss=loss, epochs=3, batch_size=32, shuffle=False)
    history = md.fit(net, Xd, Y, optimizer=optimizer(), client=client, **options)
    expected = local.fit(X, Y, optimizer=optimizer(), **options)
    # the same batches in the same order through the same in-process code: rounding-equal
    assert rel(net.params, local.params) <= 1e-12
    assert len(history.step_loss) == len(expected.step_loss) == 3 * 19
    for (J, g, acc), (J0, g0, acc0) in zip(logs(history), logs(expected), strict=True):
        assert abs(J - J0) <= 1e-12 * abs(J0) and abs(g - g0) <= 1e-12 * g0 and acc == acc0


def test_shuffled_stream_is_seeded_with_one_step_per_batch_of_each_block(client):
    net, X, Y, loss = problem("regression", seed=6)
    Xd = da.from_array(X, chunks=(128, 6))
    runs = []
    for _ in range(2):
        trained = net.copy()
        h = md.fit(trained, Xd, Y, loss=loss, optimizer="sgd", epochs=2, batch_size=50, seed=7)
        runs.append((trained.params.copy(), h))
    assert np.array_equal(runs[0][0], runs[1][0])  # same seed, same run, same process
    assert not np.array_equal(runs[0][0], net.params)
    assert len(runs[0][1].step_loss) == 2 * sum(-(-c // 50) for c in Xd.chunks[0])


def test_prefetch_asks_for_the_next_block_before_the_current_one_trains():
    from mlpnet.distributed._fit import stream_batches

    asked = []

    class Result:
        def __init__(self, block):
            self.block = block

        def result(self):
            return self.block

    class Recorder:  # a client that records what is computed when
        def compute(self, block):
            asked.append(block[0][0, 0])
            return Result(block)

    class Source:
        net = mlpnet.Network([1, 1], dtype="float64")
        loss, client = "half_squared_error", Recorder()
        blocks = [(np.full((4, 1), float(i)), np.zeros((4, 1))) for i in range(3)]
        X = np.zeros((12, 1))

    batches = stream_batches(Source(), batch_size=2, shuffle=False, seed=0)(0)
    objective, size, last = next(batches)
    assert objective.X[0, 0] == 0.0 and size == 2 and not last
    for _ in range(500):  # the request runs on the prefetch thread: give it a moment
        if len(asked) == 2:
            break
        time.sleep(0.01)
    assert asked == [0.0, 1.0]  # block 1 requested while block 0 trains
    rest = list(batches)
    assert asked == [0.0, 1.0, 2.0] and [s for _, s, _ in rest] == [2, 2, 2, 2, 2]
    assert [last for _, _, last in rest] == [False] * 4 + [True]


def test_bad_block_names_its_rows_and_restores_theta(client):
    net, X, Y, loss = problem("labels", seed=8)
    X[450, 2] = np.nan
    start = net.params.copy()
    Xd = da.from_array(X, chunks=(200, 6))
    with pytest.raises(ValueError, match="rows 400–600: X has 1 NaN value"):
        md.fit(net, Xd, Y, loss=loss, optimizer="sgd", batch_size=50, shuffle=False, client=client)
    assert np.array_equal(net.params, start)  # two blocks trained, then rolled back
    with pytest.raises(ValueError, match="rows 400–600: X has 1 NaN value"):
        md.loss_and_gradient(net, Xd, Y, loss, client=client)


def test_bad_shapes_are_refused_at_the_boundary(client):
    net, X, Y, loss = problem("labels")
    with pytest.raises(ValueError, match="expected 6 features, got 5"):
        md.loss_and_gradient(net, da.from_array(X[:, :5]), Y, loss, client=client)
    with pytest.raises(ValueError, match="Y must have 600 rows like X"):
        md.loss_and_gradient(net, da.from_array(X), Y[:-1], loss, client=client)
    with pytest.raises(ValueError, match="labels|class"):
        md.loss_and_gradient(net, da.from_array(X), Y + 5, loss, client=client)
    with pytest.raises(ValueError, match="batch_size=None"):
        md.fit(net, da.from_array(X), Y, loss=loss, optimizer="lbfgs", batch_size=10)
    weights = np.ones(len(X))
    with pytest.raises(ValueError, match="not supported on data held elsewhere"):
        md.fit(net, da.from_array(X), Y, loss=loss, optimizer="gd", sample_weight=weights)


def test_importing_mlpnet_distributed_does_not_import_dask():
    import subprocess

    code = "import sys, mlpnet.distributed; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_dask_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "mlpnet.distributed._objective")
    monkeypatch.delattr(md, "_objective")
    with pytest.raises(ImportError, match=r'pip install "mlpnet\[dask\]"'):
        md.loss_and_gradient  # noqa: B018 - the lazy import runs on attribute access


# -- prediction -----------------------------------------------------------------------------------


def test_predict_is_a_lazy_dask_array_block_by_block(client):
    net, X, _, _ = problem("one_hot")
    P = md.predict(net, da.from_array(X, chunks=(128, 3)))  # column blocks are joined
    assert isinstance(P, da.Array) and P.shape == (600, 3) and P.chunks[0] == (128,) * 4 + (88,)
    net.params = np.zeros(net.n_params)  # the prediction keeps the θ it was made with
    assert rel(P.compute(), problem("one_hot")[0].predict(X)) <= 1e-12


def test_cli_predict_dask_on_a_folder_of_shards(client, tmp_path):
    from click.testing import CliRunner

    from mlpnet.cli import cli

    net, X, y, _ = problem("labels")
    net.fit(X, y, loss="softmax_cross_entropy", optimizer="lbfgs", epochs=5)
    model = tmp_path / "model.npz"
    net.save(model)
    shards = tmp_path / "shards"
    shards.mkdir()
    for i, part in enumerate(np.array_split(X, 3)):
        np.save(shards / f"part-{i}.npy", part)
    np.save(tmp_path / "all.npy", X)
    address = client.scheduler.address
    runner = CliRunner()
    local = runner.invoke(cli, ["predict", str(model), str(tmp_path / "all.npy")])
    on_dask = runner.invoke(cli, ["predict", str(model), str(shards), "--dask", address])
    assert local.exit_code == 0 and on_dask.exit_code == 0, on_dask.output
    assert on_dask.output == local.output and len(on_dask.output.splitlines()) == 601
    out = tmp_path / "pred.csv"
    written = runner.invoke(cli, ["predict", str(model), str(shards), "--dask", address, "-o", out])
    assert written.exit_code == 0 and out.read_text() == local.output
    bad = runner.invoke(cli, ["predict", str(model), str(tmp_path / "none"), "--dask", address])
    assert bad.exit_code == 1 and "input not found" in bad.output
    np.save(shards / "part-3.npy", X[:5, :4])
    bad = runner.invoke(cli, ["predict", str(model), str(shards), "--dask", address])
    assert bad.exit_code == 1 and "part-3.npy: 4 columns, but the files before have 6" in bad.output


# -- sweeps through joblib's dask backend ---------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=15
def test_grid_and_randomized_search_on_dask_equal_the_local_run(client):
    pytest.importorskip("sklearn", reason="the sweeps use scikit-learn")
    import joblib
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    X, y = classification(n=150, seed=9)
    base = mlpnet.MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=15,
                                random_state=0)  # fmt: skip
    grid = {"alpha": [1e-4, 1e-1], "activation": ["relu", "tanh"]}
    searches = [
        lambda: GridSearchCV(base, grid, cv=2, n_jobs=-1),
        lambda: RandomizedSearchCV(
            base,
            grid | {"hidden_layer_sizes": [(3,), (5,)]},
            n_iter=3,
            cv=2,
            n_jobs=-1,
            random_state=1,
        ),  # fmt: skip
    ]
    for make in searches:
        local = make().fit(X, y)
        with joblib.parallel_backend("dask"):
            remote = make().fit(X, y)
        assert remote.best_params_ == local.best_params_
        assert remote.cv_results_["params"] == local.cv_results_["params"]
        # the same fits in other processes: equal up to BLAS rounding
        for key in ("mean_test_score", "split0_test_score"):
            np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], atol=1e-12)


# -- fault tolerance (last: it restarts a worker) --------------------------------------------------


class KillAWorker(Callback):
    """Kills one worker process (SIGKILL) at the end of the given epoch."""

    def __init__(self, client, epoch):
        super().__init__()
        self.client, self.epoch, self.killed = client, epoch, None

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            pids, held = self.client.run(os.getpid), self.client.has_what()
            address = max(held, key=lambda a: len(held[a]))
            self.killed, self.held = pids[address], len(held[address])
            os.kill(self.killed, signal.SIGKILL)  # its shards must be recomputed elsewhere
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_killed_mid_fit_does_not_lose_the_fit(client):
    net, X, Y, loss = problem("labels", seed=10)
    local = net.copy()
    kill = KillAWorker(client, epoch=2)
    Xd = da.from_array(X, chunks=(100, 6))  # blocks on both workers; the killed one's are redone
    history = md.fit(net, Xd, Y, loss=loss, optimizer="lbfgs", epochs=8, callbacks=[kill],
                     client=client)  # fmt: skip
    expected = local.fit(X, Y, loss=loss, optimizer="lbfgs", epochs=8)
    assert kill.killed is not None and kill.held > 0
    assert kill.killed not in client.run(os.getpid).values()  # it really died
    assert history.epochs == expected.epochs == 8
    assert rel(net.params, local.params) <= 1e-10
