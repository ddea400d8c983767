"""The playground: watch a real mlpnet network learn, in the browser (``mlpnet playground``).

A small Starlette app (`create_app`) run by uvicorn (`serve`) keeps one `Session` per browser tab:
a real `mlpnet.Network` trained by `Network.fit` in a worker thread, whose θ is snapshotted after
every epoch. The page (plain JavaScript and canvas, shipped in ``static/``, nothing fetched from the
internet) draws what the server streams.

Why server-sent events: frames only flow from the server to the page, which is exactly what SSE
is; the page's few commands (start, pause, a new learning rate) are ordinary POST requests that
can answer with status 400 and a message. SSE is plain HTTP, so it needs no websocket library
(plain uvicorn has none), the browser's ``EventSource`` reconnects by itself, a closed tab ends
the response (which frees the session), and Starlette's ``TestClient`` can test it. A frame is
small JSON: the ~50 × 50 boundary grid as base64 bytes (255ŷ rounded: 2,500 bytes), each hidden
unit's 25 × 25 picture the same way, the per-layer gradient norms, epoch and loss.

Per-session limits (`Limits`): hidden layers, units per layer, samples, epochs per second, open
tabs, frames per second. Modules: `problems` (data sets, configuration, exported script),
`session` (the training thread), `frames` (what a frame carries), `surface` (the four-point loss
surface), `app` (routes and the SSE stream). All but `app` work without the extra.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator
from typing import Any

from .problems import Config, Limits

__all__ = ["Config", "Limits", "create_app", "running", "serve"]


_ALL_INTERFACES = ("", "0.0.0.0", "::")
"""Wildcard --host values: the printed URL names the loopback address instead."""


def create_app(limits: Limits | None = None) -> Any:
    """The Starlette app (`mlpnet.playground.app`); needs ``pip install "mlpnet[playground]"``."""
    try:
        from .app import create_app as make
    except ImportError as err:
        raise ImportError(
            f'the playground needs Starlette and uvicorn ({err}): pip install "mlpnet[playground]"'
        ) from None
    return make(limits)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    limits: Limits | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the playground on ``http://host:port/`` until Ctrl-C, which stops it cleanly.

    Raises
    ------
    OSError
        When the port cannot be bound (e.g. in use), naming it.
    ImportError
        Without Starlette or uvicorn, saying what to install.
    """
    app = create_app(limits)
    try:
        import uvicorn
    except ImportError:
        raise ImportError(
            'the playground needs uvicorn: pip install "mlpnet[playground]"'
        ) from None
    _check_port(host, port)
    registry = app.state.registry
    # The worker threads run many short NumPy calls that hold the GIL; a 1 ms switch interval
    # (CPython's default is 5 ms) lets the event loop send each frame without waiting for them.
    sys.setswitchinterval(0.001)
    _one_blas_thread()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            registry.shutdown()  # end the streams first: uvicorn then finds no open response
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3, lifespan="on"
    )
    server = Server(config)
    local = host if host not in _ALL_INTERFACES else "127.0.0.1"  # what a browser here can open
    url = f"http://{local}:{port}/"
    print(f"mlpnet playground at {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the stop asked for
        pass
    print("playground stopped", flush=True)


def _one_blas_thread() -> None:
    """Use one BLAS thread per matrix product.

    The playground's products are small (a 50 × 50 grid, a few hundred samples, ≤ 32 units),
    where a second BLAS thread only adds hand-over cost, and
    many sessions already train in parallel threads. Measured on 2 busy cores: the forward pass
    over the grid of a 2-32×6-1 network took ~100 ms with two OpenBLAS threads, ~10 ms with one.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl the BLAS keeps its own thread count
        return
    threadpool_limits(limits=1)


def _check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be bound, before uvicorn prints its own traceback."""
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be 0 … 65535, got {port}")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise OSError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None


@contextlib.contextmanager
def running(
    limits: Limits | None = None, host: str = "127.0.0.1", port: int = 0, app: Any = None
) -> Iterator[str]:
    """Serve the playground (or `app`, from `create_app`) in a background thread; yield its URL.

    For tests, benchmarks and notebooks: ``port=0`` picks a free port; leaving the block stops the
    server and ends its sessions.

    >>> with running() as url:  # doctest: +SKIP
    ...     print(url)
    http://127.0.0.1:40123/
    """
    import uvicorn

    app = create_app(limits) if app is None else app
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="mlpnet-playground", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"the playground server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        app.state.registry.shutdown()
        server.should_exit = True
        thread.join(timeout=10.0)
