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

import functools
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mlpnet.callbacks import Callback
from mlpnet.errors import TrainingDiverged

from .frames import backprop_detail, curve_frame, plane_frame
from .problems import Config, Limits, Segment, export_script

__all__ = ["Session"]

EPOCHS_PER_RUN = 10**9  # "start" trains until paused


def _one_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a control method under the session's control lock (requests arrive on many threads)."""

    @functools.wraps(method)
    def serialised(self: Session, *args: Any, **kwargs: Any) -> Any:
        with self._control:
            return method(self, *args, **kwargs)

    return serialised


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
        self._control = threading.RLock()  # one control at a time: never two workers on one θ
        self._worker: threading.Thread | None = None
        self._active = False  # training: set by start, cleared (with a new frame) by the worker
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
            self.segments: list[Segment] = []  # what the exported script replays
            self.snapshot = net.params.copy()
            self.epoch, self.loss, self.norms = 0, float(net.loss(X, Y, config.loss)), ()
            self.selected = None
            self.setup_version += 1
            self.run_id += 1
            self.version += 1

    @_one_at_a_time
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
        return self._active

    @_one_at_a_time
    def start(self, epochs: int | None = None) -> None:
        """Train in the worker thread until paused (or for `epochs` epochs)."""
        if self.closed or self.running:
            return
        self.join()  # a worker that has just stopped by itself: let it finish
        self._halt.clear()
        self._say("")
        self._active = True
        self._worker = threading.Thread(
            target=self._train, args=(epochs,), name=f"playground-{self.sid[:8]}", daemon=True
        )
        self._worker.start()

    @_one_at_a_time
    def step(self) -> None:
        """One epoch (waits for it: the reply then shows the new epoch)."""
        if not self.running:
            self.start(1)
            self.join()

    @_one_at_a_time
    def pause(self) -> None:
        """Stop training after the current epoch."""
        self._halt.set()
        self.join()

    @_one_at_a_time
    def reset(self) -> None:
        """Back to epoch 0: θ redrawn from the seed, a fresh optimizer."""
        self.pause()
        self._build(self.config)

    @_one_at_a_time
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
        c, start, optimizer = self.config, self.epoch, self.optimizer
        try:
            history = self.net.fit(
                self.X,
                self.Y,
                loss=c.loss,
                optimizer=optimizer,
                epochs=epochs or EPOCHS_PER_RUN,
                batch_size=c.batch_size,
                callbacks=[_Pacer(self, epochs)],
                progress=False,
                seed=c.seed + start,
            )
            if history.stop_reason not in ("callback", "epochs"):
                self._say(f"stopped: {history.stop_reason} (loss {self.loss:.4g})")
        except (TrainingDiverged, ValueError, ImportError) as err:
            self._say(str(err))
        finally:
            with self.lock:
                if self.epoch > start:  # the run as the script replays it
                    self.segments.append(Segment(c, self.epoch - start, c.seed + start, optimizer))
                self._active = False
                self.version += 1  # a last frame says the training stopped

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
        out.update(
            plane_frame(self.view, extent) if kind == "plane" else curve_frame(self.view, extent)
        )
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
        with self.lock:
            return export_script(self.config, self.epoch, list(self.segments))
