"""The playground's server side: configuration checks, sessions, frames, backprop, export, SSE.

Fast tests through Starlette's TestClient and the session objects; one real uvicorn server (on
127.0.0.1, a free port) for the event stream and one subprocess for Ctrl-C. The browser tests are
in test_playground_browser.py.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground needs starlette (mlpnet[playground])")
pytest.importorskip("uvicorn", reason="the playground needs uvicorn (mlpnet[playground])")
pytest.importorskip("httpx", reason="starlette's TestClient needs httpx")

from starlette.testclient import TestClient  # noqa: E402

import mlpnet  # noqa: E402
from mlpnet.gradcheck import finite_difference_gradient  # noqa: E402
from mlpnet.playground import Config, Limits, create_app, running  # noqa: E402
from mlpnet.playground.frames import GRID, backprop_detail  # noqa: E402
from mlpnet.playground.problems import DATASETS, OPTIMIZERS, circles, dataset, spiral  # noqa: E402
from mlpnet.playground.session import Session  # noqa: E402
from mlpnet.playground.surface import loss_surface  # noqa: E402

CONTRACT = [
    "dataset",
    "layers",
    "activation",
    "optimizer",
    "lr",
    "batch-size",
    "start",
    "pause",
    "step",
    "reset",
    "epoch",
    "loss",
    "boundary",
    "neurons",
    "backprop",
    "grad-norms",
]
"""The data-testid names API.md ("Playground") promises; the browser tests use them too."""

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
LIMITS = Limits(max_epochs_per_second=5000.0)


@pytest.fixture
def client():
    app = create_app(LIMITS)
    with TestClient(app) as c:
        c.registry = app.state.registry
        yield c


def new_session(client):
    reply = client.post("/api/session")
    assert reply.status_code == 200
    return reply.json()["sid"]


# -- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"dataset": "moons"}, "unknown dataset 'moons'"),
        ({"layers": "8,100"}, "1 … 32"),
        ({"layers": "2,2,2,2,2,2,2"}, "at most 6 hidden layers"),
        ({"layers": "8,x"}, "'x'"),
        ({"layers": "8:swish"}, "unknown activation 'swish'"),
        ({"activation": "softmax"}, "unknown activation"),
        ({"optimizer": "newton"}, "unknown optimizer 'newton'"),
        ({"lr": "-1"}, "learning rate must be a number in (0, 100]"),
        ({"lr": "fast"}, "learning rate must be a number, got 'fast'"),
        ({"lr": "nan"}, "learning rate"),
        ({"batch_size": "0"}, "batch size must be 1 … 2000"),
        ({"batch_size": "2.5"}, "batch size must be an integer"),
        ({"samples": "100000"}, "samples must be 4 … 2000"),
        ({"seed": "-3"}, "seed"),
        ({"dataset": "sin", "loss": "binary_cross_entropy"}, "squared_error"),
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ],
)
def test_config_refuses_bad_values_naming_them(form, words):
    with pytest.raises(ValueError, match=None) as err:
        Config.parse(form, Limits())
    assert words in str(err.value)


def test_config_parses_per_layer_activations_and_round_trips():
    c = Config.parse({"layers": "8:relu, 4", "activation": "tanh", "batch_size": ""}, Limits())
    assert c.hidden == (8, 4) and c.activations == ("relu", "tanh") and c.batch_size is None
    assert c.sizes == [2, 8, 4, 1] and c.output_activation == "sigmoid"
    assert Config.parse(c.as_form(), Limits()) == c
    curve = Config.parse({"dataset": "abs", "loss": "squared_error", "layers": "3"}, Limits())
    assert curve.sizes == [1, 3, 1] and curve.kind == "curve"
    assert curve.network().layers[-1].activation.name == "identity"


def test_every_dataset_has_rows_and_matching_targets():
    for name in DATASETS:
        X, Y = dataset(name, n=60, seed=1)
        assert X.ndim == Y.ndim == 2 and len(X) == len(Y) and Y.shape[1] == 1
        assert X.shape[1] == (1 if name in ("square", "sin", "abs", "heaviside") else 2)
        np.testing.assert_array_equal(dataset(name, n=60, seed=1)[0], X)  # the seed fixes it


def test_circles_and_spiral_have_their_shapes():
    X, Y = circles(400, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert Y.sum() == 200
    assert radius[Y[:, 0] == 1].max() < 0.5 <= 0.7 <= radius[Y[:, 0] == 0].min()
    X, Y = spiral(400, noise=0.0, seed=0)
    assert Y.sum() == 200
    # class 1 is class 0's arm turned by π: the same radius-angle relation, shifted
    r, phi = np.hypot(X[:, 0], X[:, 1]), np.arctan2(X[:, 1], X[:, 0])
    expected = np.mod(3.5 * np.pi * r + np.pi * Y[:, 0], 2 * np.pi)
    np.testing.assert_allclose(np.cos(phi - expected), 1.0, atol=1e-9)


# -- sessions ------------------------------------------------------------------------------------


def test_backprop_detail_is_algorithm_6_1_and_matches_backward_and_finite_differences():
    rng = np.random.default_rng(3)
    for hidden, act, loss in [
        ((3,), "tanh", "binary_cross_entropy"),
        ((4, 3), "relu", "squared_error"),
        ((5, 2, 3), "logistic", "binary_cross_entropy"),
    ]:
        net = mlpnet.Network(
            [2, *hidden, 1],
            activation=act,
            output_activation="sigmoid",
            seed=int(rng.integers(100)),
            dtype="float64",
        )
        x, y = rng.normal(size=(1, 2)), np.array([[1.0]])
        detail = backprop_detail(net, x, y, loss)
        cache = net.forward_cache(x)
        grad = net.backward(cache, net.output_delta(cache, y, loss))
        numeric = finite_difference_gradient(net, x, y, loss)
        for layer, part in zip(detail["layers"], net.layer_slices, strict=True):
            l = layer["l"]
            W = net.layers[l - 1].W
            Z = cache.Q[l - 1] @ W.T + net.layers[l - 1].b  # Z_l = Q_{l-1} W_lᵀ + b_l
            np.testing.assert_allclose(layer["Z"], Z[0], rtol=1e-12)
            np.testing.assert_allclose(layer["Q"], net.layers[l - 1].activation(Z)[0], rtol=1e-12)
            flat = np.concatenate([np.ravel(layer["gW"]), layer["gb"]])
            # the page's ∇W_l = δ_lᵀ Q_{l-1} against the library's backward pass (same BLAS) and
            # against central differences (truncation error ~1e-8)
            np.testing.assert_allclose(flat, grad[part], rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(flat, numeric[part], rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(layer["gb"], layer["delta"])
        assert detail["layers"][-1]["Q"] == detail["yhat"]


def test_session_trains_pauses_steps_and_resets():
    s = Session("t", LIMITS)
    theta0, loss0 = s.net.params.copy(), s.loss
    s.start(300)
    s.join()
    assert s.epoch == 300 and s.loss < 0.5 * loss0 and not s.running
    s.start()
    time.sleep(0.05)
    s.pause()
    stopped = s.epoch
    assert stopped > 300 and not s.running
    time.sleep(0.05)
    assert s.epoch == stopped
    s.step()
    assert s.epoch == stopped + 1
    np.testing.assert_array_equal(s.snapshot, s.net.params)
    s.reset()
    assert s.epoch == 0 and s.loss == loss0
    np.testing.assert_array_equal(s.net.params, theta0)  # θ redrawn from the same seed
    s.close()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_trains_the_session(optimizer):
    s = Session("t", LIMITS)
    lr = {"gd": 0.5, "sgd": 0.5, "momentum": 0.1, "adam": 0.05, "armijo": 4.0}.get(optimizer, 0.5)
    s.configure({"optimizer": optimizer, "lr": lr, "batch_size": 2 if optimizer == "sgd" else ""})
    loss0 = s.loss
    s.start(30)
    s.join()
    assert s.message == "" or s.message.startswith("stopped:"), s.message
    assert s.epoch >= 1
    final = s.net.loss(s.X, s.Y, s.config.loss)
    assert final < loss0, (optimizer, final, loss0)
    s.close()


def test_changing_the_optimizer_keeps_theta_and_changing_the_data_restarts():
    s = Session("t", LIMITS)
    s.start(20)
    s.join()
    theta = s.net.params.copy()
    s.configure({"optimizer": "adam", "lr": "0.01"})
    assert s.epoch == 20
    np.testing.assert_array_equal(s.net.params, theta)
    s.configure({"dataset": "circles", "layers": "6"})
    assert s.epoch == 0 and s.net.sizes == [2, 6, 1] and len(s.X) == 200
    with pytest.raises(ValueError, match="1 … 32"):
        s.configure({"layers": "33"})
    assert s.net.sizes == [2, 6, 1]  # a refused change changes nothing
    s.close()


def test_gradient_norms_vanish_through_logistic_layers_and_not_through_relu():
    ratios = {}
    for act in ("logistic", "relu"):
        s = Session("t", LIMITS)
        s.configure({"dataset": "two_class", "layers": "16,16,16,16,16,16", "activation": act})
        s.step()
        assert len(s.norms) == 7  # ‖∇_{W_l,b_l} J‖ for l = 1 … 7, as the page plots them
        ratios[act] = s.norms[0] / s.norms[-1]
        s.close()
    # ψ' ≤ 1/4 shrinks δ_l by about 4 (or more) a layer; ReLU's ψ' = 1 on its active half does not
    assert ratios["logistic"] < 1e-3 < 0.05 < ratios["relu"]


def test_a_full_batch_optimizer_refuses_mini_batches_with_a_message():
    s = Session("t", LIMITS)
    s.configure({"optimizer": "armijo", "batch_size": "2"})
    s.step()
    assert "batch_size=None" in s.message and s.epoch == 0
    s.configure({"batch_size": ""})
    s.step()
    assert s.message == "" and s.epoch == 1


def test_plane_frame_is_a_compact_grid_of_the_output():
    s = Session("t", LIMITS)
    s.start(50)
    s.join()
    extent = s.setup()["extent"]
    frame = s.frame(extent)
    grid = np.frombuffer(base64.b64decode(frame["grid"]), dtype=np.uint8).reshape(GRID, GRID)
    (x0, x1), (y0, y1) = extent
    # top-left pixel is (x0, y1); compare with the network's own prediction, to 1/255
    corner = s.view.predict([[x0, y1], [x1, y0]])[:, 0]
    assert abs(grid[0, 0] / 255 - corner[0]) <= 0.5 / 255 + 1e-12
    assert abs(grid[-1, -1] / 255 - corner[1]) <= 0.5 / 255 + 1e-12
    assert len(frame["neurons"]) == 16 and len(frame["norms"]) == 3
    # each unit's picture: Q_l[:, j] on every second grid point, scaled to its [lo, hi] in bytes
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID)[::2], np.linspace(y1, y0, GRID)[::2])
    Q = s.view.forward_cache(np.column_stack([gx.ravel(), gy.ravel()])).Q
    units = np.concatenate([Q[1], Q[2]], axis=1).T
    for unit, picture in zip(units, frame["neurons"], strict=True):
        codes = np.frombuffer(base64.b64decode(picture["b"]), dtype=np.uint8)
        decoded = picture["lo"] + (picture["hi"] - picture["lo"]) * codes / 255
        np.testing.assert_allclose(decoded, unit, atol=(unit.max() - unit.min()) / 255 + 2e-4)
    assert frame["epoch"] == 50 and len(json.dumps(frame)) < 20_000


def test_curve_frame_has_each_units_contribution_summing_to_the_fit():
    s = Session("t", LIMITS)
    s.configure({"dataset": "sin", "loss": "squared_error", "layers": "3", "optimizer": "lbfgs"})
    s.start(50)
    s.join()
    frame = s.frame(s.setup()["extent"])
    total = np.sum(frame["contributions"], axis=0) + frame["c"]
    np.testing.assert_allclose(total, frame["f"], atol=3e-3)  # each term rounded to 1e-4
    assert s.loss < 0.01


# -- HTTP ------------------------------------------------------------------------------------------


def test_bad_values_answer_400_and_the_server_keeps_serving(client):
    sid = new_session(client)
    reply = client.post(f"/api/config/{sid}", json={"layers": "8,200"})
    assert reply.status_code == 400 and "per-session limit" in reply.json()["error"]
    assert client.post(f"/api/config/{sid}", content=b"{nonsense").status_code == 400
    assert client.post(f"/api/control/{sid}/explode").status_code == 400
    assert client.post(f"/api/select/{sid}", json={"sample": 99}).status_code == 400
    assert client.get("/api/surface?lr=-1").status_code == 400
    assert client.post("/api/control/nosuchsession/start").status_code == 404
    step = client.post(f"/api/control/{sid}/step")
    assert step.status_code == 200 and step.json()["epoch"] == 1


def test_sessions_are_limited_and_freed():
    limits = Limits(max_sessions=2)
    app = create_app(limits)
    with TestClient(app) as c:
        first, _ = new_session(c), new_session(c)
        full = c.post("/api/session")
        assert full.status_code == 503 and "too many" in full.json()["error"]
        c.post(f"/api/close/{first}")
        assert len(app.state.registry.sessions) == 1
        new_session(c)


def test_concurrent_steps_never_train_one_network_twice_at_once():
    s = Session("t", LIMITS)
    threads = [threading.Thread(target=s.step) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.epoch == 8  # each step one epoch, one after another
    s.close()


def test_a_session_no_stream_has_touched_is_reaped():
    registry = create_app(LIMITS).state.registry
    session = registry.create()
    registry.reap()
    assert session.sid in registry.sessions
    session.last_seen -= 60.0
    registry.reap()
    assert session.sid not in registry.sessions and session.closed


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    for testid in CONTRACT:
        assert f'data-testid="{testid}"' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert client.get("/static/playground.js").status_code == 200


def test_export_round_trip_and_script_reproduce_the_run(client, tmp_path):
    sid = new_session(client)
    for _ in range(25):
        client.post(f"/api/control/{sid}/step")
    session = client.registry.sessions[sid]
    model = client.get(f"/api/export/{sid}/model")
    assert model.status_code == 200 and "attachment" in model.headers["content-disposition"]
    (tmp_path / "model.npz").write_bytes(model.content)
    net = mlpnet.load(tmp_path / "model.npz")
    assert net.sizes == [2, 8, 8, 1]
    np.testing.assert_array_equal(net.params, session.snapshot)
    script = client.get(f"/api/export/{sid}/script").text
    (tmp_path / "run.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(Path(mlpnet.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "run.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "epochs: 25" in done.stdout
    again = mlpnet.load(tmp_path / "playground-model.npz")
    # the same full-batch GD steps in one fit call instead of 25: same operations, same θ
    np.testing.assert_allclose(again.params, net.params, rtol=1e-12, atol=1e-14)


def test_script_reproduces_a_paused_mini_batch_run_with_a_changed_lr(client, tmp_path):
    """Start … pause, steps, a new learning rate: the script replays each run as it went (each
    `fit` seeded with the epoch it began at, one optimizer per setting), to the last bit's noise."""
    sid = new_session(client)
    form = {"dataset": "circles", "optimizer": "sgd", "batch-size": "16", "lr": "0.2"}
    assert client.post(f"/api/config/{sid}", json=form).status_code == 200
    session = client.registry.sessions[sid]
    client.post(f"/api/control/{sid}/start")
    deadline = time.monotonic() + 30
    while session.epoch < 3 and time.monotonic() < deadline:  # let the worker run a few epochs
        time.sleep(0.01)
    client.post(f"/api/control/{sid}/pause")
    for _ in range(2):
        client.post(f"/api/control/{sid}/step")
    assert client.post(f"/api/config/{sid}", json={**form, "lr": "0.05"}).status_code == 200
    client.post(f"/api/control/{sid}/step")
    epochs = session.epoch
    assert [s.epochs for s in session.segments][1:] == [1, 1, 1] and epochs >= 6
    script = client.get(f"/api/export/{sid}/script").text
    assert "inverse_time(0.05)" in script and script.count("optimizer = ") == 2
    (tmp_path / "run.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(Path(mlpnet.__file__).parents[1])}
    done = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"epochs: {epochs}," in done.stdout
    again = mlpnet.load(tmp_path / "playground-model.npz")
    np.testing.assert_allclose(again.params, session.net.params, rtol=1e-12, atol=1e-14)


def test_loss_surface_paths_follow_the_optimizers():
    s = loss_surface(lr=1.0, start=(1.0, 2.0), steps=40)
    J = np.array(s["J"])
    assert J.shape == (60, 60)
    for name in ("GD", "Armijo", "SGD"):
        assert s["paths"][name]["w"][0] == [1.0, 2.0] and len(s["paths"][name]["w"]) == 41
    assert np.all(np.diff(s["paths"]["Armijo"]["J"]) <= 1e-12)  # sufficient decrease every step
    assert s["paths"]["Armijo"]["J"][-1] < s["paths"]["Armijo"]["J"][0]
    # the grid, computed in one vectorised pass, agrees with the network's own objective
    unit = mlpnet.Network([2, 1], output_activation="sigmoid", dtype="float64")
    X, y = mlpnet.datasets.four_points()
    w11, w12 = np.linspace(-5, 3, 60)[7], np.linspace(4, -3, 60)[11]
    unit.params = [w11, w12, 0.0]
    assert J[11, 7] == pytest.approx(unit.loss(X, y[:, None], "squared_error"), abs=1e-4)


# -- a real server ---------------------------------------------------------------------------------


def _events(response, wanted):
    """Read SSE events (name, data) from a streaming httpx response until `wanted` frames."""
    name, frames = None, []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            frames.append((name, json.loads(line[6:])))
            if sum(n == "frame" for n, _ in frames) >= wanted:
                return frames
    return frames


def test_stream_sends_setup_then_paced_frames_and_a_closed_stream_frees_the_session():
    import httpx

    app = create_app(Limits(frames_per_second=25.0))
    with running(app=app) as url, httpx.Client(base_url=url, timeout=30) as http:
        sid = http.post("/api/session").json()["sid"]
        http.post(f"/api/control/{sid}/start")
        started = time.perf_counter()
        with http.stream("GET", f"/api/stream/{sid}") as response:
            events = _events(response, 30)
        seconds = time.perf_counter() - started
        assert events[0][0] == "setup" and events[0][1]["kind"] == "plane"
        frames = [data for name, data in events if name == "frame"]
        epochs = [f["epoch"] for f in frames]
        assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
        # paced: never faster than 25 frames/s (30 frames take ≥ 29/25 s); generous lower bound
        assert 29 / 25 - 0.05 <= seconds < 30
        deadline = time.monotonic() + 10
        while app.state.registry.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not app.state.registry.sessions  # the closed stream ended the session


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_serves_on_loopback_and_ctrl_c_stops_it_cleanly():
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(mlpnet.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlpnet", "playground", "--no-browser", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                sid = httpx.post(url + "/api/session").json()["sid"]
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.post(f"{url}/api/control/{sid}/start")
        with httpx.stream("GET", f"{url}/api/stream/{sid}", timeout=30) as response:
            _events(response, 2)
            proc.send_signal(signal.SIGINT)  # with a stream open and training running
            out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "playground stopped" in out and "Traceback" not in out


def test_command_reports_a_busy_port_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(Path(mlpnet.__file__).parents[1])}
        done = subprocess.run(
            [sys.executable, "-m", "mlpnet", "playground", "--no-browser", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
