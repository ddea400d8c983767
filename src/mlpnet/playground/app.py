"""The playground's HTTP side: a Starlette app with one `Session` per tab and an SSE frame stream.

Routes (``{sid}`` is the id `POST /api/session` hands out):

- ``GET /`` and ``/static/…``: the page (HTML, JS, CSS shipped inside the package);
- ``POST /api/session`` → ``{"sid", "setup"}``; ``POST /api/close/{sid}`` frees a session;
- ``GET /api/stream/{sid}``: ``text/event-stream`` of ``setup`` events (data, extent, form) and
  ``frame`` events (JSON, at most ``Limits.frames_per_second``, only when something changed);
- ``POST /api/config/{sid}`` (JSON form), ``POST /api/control/{sid}/{start|pause|step|reset}``,
  ``POST /api/select/{sid}`` (``{"sample": i}``);
- ``GET /api/surface`` (four-point loss surface and paths), ``GET /api/export/{sid}/model``
  (``.npz``), ``GET /api/export/{sid}/script`` (``.py``), ``GET /api/stats``.

Every bad value is answered with status 400 and ``{"error": message}``; the page shows the
message and the server goes on serving. A session ends when its stream ends (tab closed), when the
page says goodbye, or when no stream has touched it for ``SESSION_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .problems import Limits
from .session import Session
from .surface import loss_surface

__all__ = ["Registry", "create_app"]

SESSION_TIMEOUT = 15.0  # seconds without a stream before a session is freed
KEEPALIVE = 1.0  # seconds between SSE comments on an idle stream


class Registry:
    """The live sessions, capped at ``Limits.max_sessions``; `shutdown` ends them all."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.stopping = False
        self.frames = 0  # frames sent, all streams (for /api/stats)

    def create(self) -> Session:
        """A new session, or ValueError past the limit of open tabs."""
        with self.lock:
            if len(self.sessions) >= self.limits.max_sessions:
                raise ValueError(
                    f"too many open playground tabs ({self.limits.max_sessions}, the server's "
                    "limit): close one and reload"
                )
            sid = uuid.uuid4().hex
            self.sessions[sid] = session = Session(sid, self.limits)
        return session

    def get(self, sid: str) -> Session:
        """The live session `sid` (KeyError if it has ended); marks it as seen."""
        session = self.sessions.get(sid)
        if session is None:
            raise KeyError(sid)
        session.last_seen = time.monotonic()
        return session

    def close(self, sid: str) -> None:
        """End the session `sid` (its worker stops); no error if already gone."""
        with self.lock:
            session = self.sessions.pop(sid, None)
        if session is not None:
            session.close()

    def reap(self) -> None:
        """Free the sessions that no stream has touched for SESSION_TIMEOUT seconds."""
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            if now - session.last_seen > SESSION_TIMEOUT:
                self.close(sid)

    def shutdown(self) -> None:
        """End every session and every stream (Ctrl-C, app shutdown)."""
        self.stopping = True
        for sid in list(self.sessions):
            self.close(sid)


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(limits: Limits | None = None) -> Starlette:
    """The playground as an ASGI app (``app.state.registry`` holds the sessions)."""
    registry = Registry(limits or Limits())
    static = resources.files("mlpnet.playground") / "static"

    def with_session(handler: Any) -> Any:
        """Look the session up (404 if gone) and turn ValueError into a 400 with its message."""

        async def endpoint(request: Request) -> Response:
            try:
                session = registry.get(request.path_params["sid"])
            except KeyError:
                return _error("this playground session has ended: reload the page", 404)
            try:
                return await handler(request, session)
            except ValueError as err:
                return _error(str(err))

        return endpoint

    async def index(request: Request) -> Response:
        return FileResponse(str(static / "index.html"), headers={"Cache-Control": "no-store"})

    async def new_session(request: Request) -> Response:
        try:
            session = await asyncio.to_thread(registry.create)
        except ValueError as err:
            return _error(str(err), 503)
        return JSONResponse({"sid": session.sid, "setup": session.setup()})

    async def close(request: Request) -> Response:
        await asyncio.to_thread(registry.close, request.path_params["sid"])
        return JSONResponse({"closed": True})

    async def form_of(request: Request) -> dict[str, Any]:
        try:
            form = await request.json()
        except ValueError:
            raise ValueError("the request body must be a JSON object") from None
        if not isinstance(form, dict):
            raise ValueError("the request body must be a JSON object")
        return form

    async def config(request: Request, session: Session) -> Response:
        form = await form_of(request)
        await asyncio.to_thread(session.configure, form)
        return JSONResponse({"form": session.config.as_form()})

    async def control(request: Request, session: Session) -> Response:
        action = request.path_params["action"]
        actions = {
            "start": session.start,
            "pause": session.pause,
            "step": session.step,
            "reset": session.reset,
        }
        if action not in actions:
            raise ValueError(f"unknown action {action!r}; choose one of {', '.join(actions)}")
        await asyncio.to_thread(actions[action])
        return JSONResponse(
            {"epoch": session.epoch, "loss": session.loss, "message": session.message}
        )

    async def select(request: Request, session: Session) -> Response:
        form = await form_of(request)
        session.select(form.get("sample"))
        return JSONResponse({"sample": session.selected})

    async def model(request: Request, session: Session) -> Response:
        with session.lock:
            net = session.view.copy()
            net.params = session.snapshot
        fd, path = tempfile.mkstemp(suffix=".npz")
        os.close(fd)
        try:
            net.save(path)
            with open(path, "rb") as f:
                data = f.read()
        finally:
            os.unlink(path)
        name = f"playground-{session.config.dataset}-epoch{session.epoch}.npz"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(data, media_type="application/octet-stream", headers=disposition)

    async def script(request: Request, session: Session) -> Response:
        name = f"playground-{session.config.dataset}.py"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(session.script(), media_type="text/x-python", headers=disposition)

    async def surface(request: Request) -> Response:
        q = request.query_params
        try:
            lr, steps = float(q.get("lr", 1.0)), int(q.get("steps", 100))
            start = (float(q.get("w11", -2.0)), float(q.get("w12", -1.0)))
            return JSONResponse(await asyncio.to_thread(loss_surface, lr, start, steps))
        except ValueError as err:
            return _error(str(err))

    async def stats(request: Request) -> Response:
        return JSONResponse({"sessions": len(registry.sessions), "frames": registry.frames})

    async def stream(request: Request) -> Response:
        sid = request.path_params["sid"]
        try:
            session = registry.get(sid)
        except KeyError:
            return _error("this playground session has ended: reload the page", 404)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _events(registry, session), media_type="text/event-stream", headers=headers
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        async def reaper() -> None:
            while True:
                await asyncio.sleep(2.0)
                registry.reap()

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()
            registry.shutdown()

    sid = "/{sid:str}"
    routes = [
        Route("/", index),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
        Route("/api/session", new_session, methods=["POST"]),
        Route("/api/close" + sid, close, methods=["POST"]),
        Route("/api/stream" + sid, stream),
        Route("/api/config" + sid, with_session(config), methods=["POST"]),
        Route("/api/control" + sid + "/{action:str}", with_session(control), methods=["POST"]),
        Route("/api/select" + sid, with_session(select), methods=["POST"]),
        Route("/api/export" + sid + "/model", with_session(model)),
        Route("/api/export" + sid + "/script", with_session(script)),
        Route("/api/surface", surface),
        Route("/api/stats", stats),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.registry = registry
    return app


async def _events(registry: Registry, session: Session) -> Any:
    """The SSE stream of one tab: a setup event on every new data set, frames when changed.

    Frames are paced to ``Limits.frames_per_second`` and built from the latest snapshot only, so a
    slow tab gets fewer frames, never a backlog. Ending the stream (tab closed) frees the session.
    """
    interval = 1.0 / registry.limits.frames_per_second
    sent_setup = sent_version = -1
    extent: Any = None
    cost = spent = 0.0
    last_write = tick = time.monotonic()
    try:
        while not registry.stopping and not session.closed:
            now = session.last_seen = time.monotonic()
            if session.setup_version != sent_setup:
                sent_setup, sent_version = session.setup_version, -1
                setup = session.setup()
                extent = setup["extent"]
                yield f"event: setup\ndata: {json.dumps(setup)}\n\n"
            version = session.version
            if version != sent_version:
                started = time.perf_counter()
                # built in a worker thread: a big network's frame never stalls the other tabs
                data = await asyncio.to_thread(session.frame_json, extent, cost * 1e3)
                spent = time.perf_counter() - started
                cost = 0.9 * cost + 0.1 * spent if cost else spent
                sent_version, last_write = version, now
                registry.frames += 1
                yield f"event: frame\ndata: {data}\n\n"
            elif now - last_write > KEEPALIVE:
                last_write = now
                yield ": keep-alive\n\n"
            # at most frames_per_second, and at least as long idle as the last frame took to build
            tick = max(tick + interval, time.monotonic() + spent)
            spent = 0.0
            await asyncio.sleep(tick - time.monotonic())
    finally:
        registry.close(session.sid)
