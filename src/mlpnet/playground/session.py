"""One browser tab's run: a real `mlpnet.Network`, trained by `Network.fit` in a worker thread.

The worker calls ``fit`` with a callback (`_Pacer`) that, after every epoch, copies θ into
a snapshot under a lock, records the loss and the per-layer gradient norms ‖∇_{W_l, b_l} J‖,
holds the pace at most ``Limits.max_epochs_per_second`` and stops ``fit`` on pause, reset or
close. The optimizer object lives as long as the run, so its state (SGD's k in γ_k = γ₀/(k+1),
Adam's moments) continues across start/pause. Frames are built from the snapshot by a second
network of the same architecture (`view`), so drawing never waits for, or disturbs,
the training network.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from typing import Any

import numpy as np

from mlpnet.callbacks import Callback
from mlpnet.errors import TrainingDiverged

from .problems import Config, Limits, export_script

__all__ = ["Session", "backprop_detail"]

GRID = 50  # boundary grid of the plane, GRID × GRID points
NEURON_GRID = 25  # each hidden unit's picture: every second grid point
CURVE_POINTS = 201
EPOCHS_PER_RUN = 10**9  # "start" trains until paused


class _Pacer(Callback):
    """Publishes each epoch to the session, throttles, and stops ``fit`` when asked."""

    def __init__(self, session: Session, epochs: int | None) -> None:
        super().__init__()
        self.session, self.left = session, epochs
        self.started, self.count = time.perf_counter(), 0

    def on_epoch_end(self, epoch: int, logs: Any) -> bool:
        s = self.session
        s._publish(logs.loss, logs.layer_grad_norms)
        self.count += 1
        if self.left is not None:
            self.left -= 1
            if self.left <= 0:
                return True
        ahead = self.started + self.count / s.limits.max_epochs_per_second - time.perf_counter()
        if ahead > 0:
            s._halt.wait(ahead)
        return s._halt.is_set()


class Session:
    """The state behind one tab: config, data, network, optimizer, worker thread and snapshot."""

    def __init__(self, sid: str, limits: Limits, config: Config | None = None) -> None:
        self.sid, self.limits = sid, limits
        self.lock = threading.Lock()
        self._halt = threading.Event()
        self._worker: threading.Thread | None = None
        self.version = 0  # bumped by every change a frame shows
        self.setup_version = 0  # bumped when the data or the architecture changes
        self.run_id = 0  # bumped when θ restarts (client clears its curves)
        self.message, self.selected = "", None
        self.last_seen = time.monotonic()
        self.closed = False
        self._build(config or Config())

    # -- configuration ---------------------------------------------------------------------------

    def _build(self, config: Config) -> None:
        """Fresh data, network (θ from the seed) and optimizer; epoch 0."""
        X, Y = config.data()
        net = config.network()
        with self.lock:
            self.config, self.X, self.Y, self.net = config, X, Y, net
            self.view = config.network()  # the frames' copy of the architecture
            self.optimizer = config.make_optimizer()
            self.snapshot = net.params.copy()
            self.epoch, self.loss, self.norms = 0, float(net.loss(X, Y, config.loss)), ()
            self.selected = None
            self.setup_version += 1
            self.run_id += 1
            self.version += 1

    def configure(self, form: dict[str, Any]) -> Config:
        """Apply the page's values; a change of data or architecture restarts θ.

        Raises ValueError (nothing changes) for a bad value.
        """
        config = Config.parse(form, self.limits, self.config)
        self.pause()
        old = self.config
        same_net = (
            config.dataset,
            config.hidden,
            config.activations,
            config.samples,
            config.seed,
            config.loss,
        ) == (old.dataset, old.hidden, old.activations, old.samples, old.seed, old.loss)
        if same_net:
            with self.lock:
                self.config, self.optimizer = config, config.make_optimizer()
                self.version += 1
        else:
            self._build(config)
        self._say("")
        return config

    # -- controls ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the worker thread is training."""
        return self._worker is not None and self._worker.is_alive()

    def start(self, epochs: int | None = None) -> None:
        """Train in the worker thread until paused (or for `epochs` epochs)."""
        if self.closed or self.running:
            return
        self._halt.clear()
        self._say("")
        self._worker = threading.Thread(
            target=self._train, args=(epochs,), name=f"playground-{self.sid[:8]}", daemon=True
        )
        self._worker.start()

    def step(self) -> None:
        """One epoch (waits for it: the reply then shows the new epoch)."""
        if not self.running:
            self.start(1)
            self.join()

    def pause(self) -> None:
        """Stop training after the current epoch."""
        self._halt.set()
        self.join()

    def reset(self) -> None:
        """Back to epoch 0: θ redrawn from the seed, a fresh optimizer."""
        self.pause()
        self._build(self.config)

    def close(self) -> None:
        """Stop the worker and mark the session dead (its stream ends)."""
        self.closed = True
        self.pause()

    def join(self) -> None:
        """Wait for the worker thread to finish."""
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()

    def select(self, index: Any) -> None:
        """Choose the sample whose forward and backward quantities the frames carry."""
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise ValueError(f"sample must be an integer, got {index!r}") from None
        if not 0 <= i < len(self.X):
            raise ValueError(f"sample must be 0 … {len(self.X) - 1}, got {i}")
        with self.lock:
            self.selected = i
            self.version += 1

    # -- the worker ------------------------------------------------------------------------------

    def _train(self, epochs: int | None) -> None:
        c = self.config
        try:
            history = self.net.fit(
                self.X,
                self.Y,
                loss=c.loss,
                optimizer=self.optimizer,
                epochs=epochs or EPOCHS_PER_RUN,
                batch_size=c.batch_size,
                callbacks=[_Pacer(self, epochs)],
                progress=False,
                seed=c.seed + self.epoch,
            )
            if history.stop_reason not in ("callback", "epochs"):
                self._say(f"stopped: {history.stop_reason} (loss {self.loss:.4g})")
        except (TrainingDiverged, ValueError, ImportError) as err:
            self._say(str(err))

    def _publish(self, loss: float, norms: tuple[float, ...]) -> None:
        with self.lock:
            np.copyto(self.snapshot, self.net.params)
            self.epoch += 1
            self.loss, self.norms = float(loss), tuple(norms)
            self.version += 1

    def _say(self, message: str) -> None:
        with self.lock:
            self.message = message
            self.version += 1

    # -- what the page receives ---------------------------------------------------------------

    def setup(self) -> dict[str, Any]:
        """The data points, the plane's extent and the checked form values (sent on change)."""
        with self.lock:
            c, X, Y = self.config, self.X, self.Y
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.15 * np.maximum(hi - lo, 1.0)
        return {
            "kind": c.kind,
            "form": c.as_form(),
            "sizes": c.sizes,
            "activations": list(c.activations),
            "extent": np.round(np.stack([lo - pad, hi + pad], axis=1), 4).tolist(),
            "X": np.round(X, 4).tolist(),
            "Y": np.round(Y[:, 0], 4).tolist(),
            "limits": vars(self.limits),
        }

    def frame(self, extent: list[list[float]]) -> dict[str, Any]:
        """What the page draws now: epoch, loss, boundary, neurons, norms (and backprop)."""
        with self.lock:
            self.view.params = self.snapshot
            epoch, loss, norms, selected = self.epoch, self.loss, self.norms, self.selected
            message, run_id, kind = self.message, self.run_id, self.config.kind
        out: dict[str, Any] = {
            "epoch": epoch,
            "loss": loss if math.isfinite(loss) else None,
            "norms": [round(n, 6) for n in norms if math.isfinite(n)],
            "running": self.running,
            "message": message,
            "run": run_id,
        }
        out.update(_plane(self.view, extent) if kind == "plane" else _curve(self.view, extent))
        if selected is not None:
            out["backprop"] = backprop_detail(
                self.view,
                self.X[selected : selected + 1],
                self.Y[selected : selected + 1],
                self.config.loss,
            )
            out["backprop"]["sample"] = selected
        return out

    def frame_json(self, extent: list[list[float]], cost_ms: float) -> str:
        """The frame as compact JSON, with the server's recent cost per frame."""
        frame = self.frame(extent)
        frame["cost_ms"] = round(cost_ms, 3)
        return json.dumps(frame, separators=(",", ":"))

    def script(self) -> str:
        """The exported Python script (see `export_script`)."""
        return export_script(self.config, self.epoch)


def _b64(values: np.ndarray, lo: float, hi: float) -> str:
    """Values mapped linearly from [lo, hi] to bytes 0 … 255, base64: one byte a grid point."""
    scaled = (values - lo) * (255.0 / (hi - lo if hi > lo else 1.0))
    return _bytes64(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _bytes64(codes: np.ndarray) -> str:
    return base64.b64encode(codes.tobytes()).decode()


def _plane(net: Any, extent: list[list[float]]) -> dict[str, Any]:
    """ŷ on the GRID × GRID grid (bytes of 255ŷ), each hidden unit's output on every 2nd point."""
    (x0, x1), (y0, y1) = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y1, y0, GRID))
    cache = net.forward_cache(np.column_stack([gx.ravel(), gy.ravel()]))
    neurons = []
    hidden = cache.Q[1:-1]
    if hidden:  # all units at once: (units, 25 · 25) values, each scaled to its own [lo, hi]
        sub = np.concatenate([Q.reshape(GRID, GRID, -1)[::2, ::2] for Q in hidden], axis=2)
        sub = sub.reshape(-1, sub.shape[2]).T
        lo, hi = sub.min(axis=1), sub.max(axis=1)
        scale = 255.0 / np.where(hi > lo, hi - lo, 1.0)
        codes = np.rint((sub - lo[:, None]) * scale[:, None]).astype(np.uint8)
        neurons = [
            {"lo": round(float(a), 4), "hi": round(float(b), 4), "b": _bytes64(row)}
            for a, b, row in zip(lo, hi, codes, strict=True)
        ]
    return {"grid": _b64(cache.Q[-1][:, 0], 0.0, 1.0), "n": GRID, "neurons": neurons}


def _curve(net: Any, extent: list[list[float]]) -> dict[str, Any]:
    """f(x) on CURVE_POINTS points; each unit's output; with one hidden layer v_j ψ(w_j x + b_j)."""
    x = np.linspace(extent[0][0], extent[0][1], CURVE_POINTS)
    cache = net.forward_cache(x.reshape(-1, 1))
    out: dict[str, Any] = {
        "x": np.round(x, 4).tolist(),
        "f": np.round(cache.Q[-1][:, 0], 4).tolist(),
        "neurons": [np.round(Q[::2].T, 3).tolist() for Q in cache.Q[1:-1]],
    }
    if len(net.layers) == 2:  # Figure 5.3: f(x) = Σ_j v_j ψ(w_j x + b_j) + c
        v = net.layers[1].W[0]
        out["contributions"] = np.round((cache.Q[1] * v).T, 4).tolist()
        out["c"] = round(float(net.layers[1].b[0]), 4)
    return out


def backprop_detail(net: Any, x: np.ndarray, y: np.ndarray, loss: str) -> dict[str, Any]:
    """Algorithm 6.1 for one sample, layer by layer: Z_l, Q_l, δ_l = ∂J/∂Z_l, ∇W_l, ∇b_l.

    δ_L comes from the library (`Network.output_delta`); the recursion
    δ_{l-1} = (δ_l W_l) ⊙ ψ'_{l-1}(Z_{l-1}) and ∇W_l = δ_lᵀ Q_{l-1}, ∇b_l = δ_l are written out
    here so that each appears on the page (tests check them against `Network.backward`).
    """
    cache = net.forward_cache(x)
    delta = net.output_delta(cache, y, loss)
    layers: list[dict[str, Any]] = []
    for l in range(len(net.layers), 0, -1):
        W = net.layers[l - 1].W
        layers.append(
            {
                "l": l,
                "Z": cache.Z[l - 1][0].tolist(),
                "Q": cache.Q[l][0].tolist(),
                "delta": delta[0].tolist(),
                "gW": (delta.T @ cache.Q[l - 1]).tolist(),
                "gb": delta[0].tolist(),
            }
        )
        if l > 1:
            act = net.layers[l - 2].activation
            delta = act.backprop(cache.Z[l - 2], cache.Q[l - 1], delta @ W)
    layers.reverse()
    return {
        "x": x[0].tolist(),
        "y": y[0].tolist(),
        "yhat": cache.Q[-1][0].tolist(),
        "loss": float(net.loss(x, y, loss)),
        "layers": layers,
    }
