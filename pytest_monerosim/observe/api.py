"""The REST API and dashboard (starlette), served by uvicorn on loopback only.

======  =============================  ==================================================
GET     ``/``                          the dashboard (static HTML + JS)
GET     ``/api/status``                run state, simulated time, events/s, ETA, heights
GET     ``/api/agents``                every agent's state (``?kind=node``)
GET     ``/api/agents/{id}``           one agent, with the commands it accepts (404 if unknown)
POST    ``/api/agents/{id}/command``   ``{"command": "pause", "args": {}}`` → 200, 400, 404, 409
GET     ``/api/metrics``               Prometheus text format
GET     ``/api/events``                history: ``?since=SEQ&limit=N&kind=block.found,peer.``
======  =============================  ==================================================

:class:`ApiServer` runs uvicorn in a daemon thread and stops it (and waits for
it) in :meth:`ApiServer.stop`; nothing outlives the session that started it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .control import CommandError, NotRunning, UnknownAgent

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from .observer import Observer

STATIC = Path(__file__).with_name("static")
HOST = "127.0.0.1"
MAX_LIMIT = 5000


def create_app(observer: Observer) -> Starlette:
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def status(request: Request) -> Response:
        return JSONResponse(observer.status())

    def agents(request: Request) -> Response:
        kind = request.query_params.get("kind")
        items = [a.as_dict() for a in observer.registry.all() if kind is None or a.kind == kind]
        return JSONResponse({"count": len(items), "agents": items})

    def agent(request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        state = observer.registry.get(agent_id)
        if state is None:
            return error(404, f"no agent {agent_id!r}")
        return JSONResponse({**state.as_dict(), "commands": list(observer.commands_for(agent_id))})

    async def command(request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        if observer.registry.get(agent_id) is None:
            return error(404, f"no agent {agent_id!r}")
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return error(400, 'body must be JSON: {"command": NAME, "args": {...}}')
        if not isinstance(body, dict) or not isinstance(body.get("command"), str):
            return error(400, "body must be a JSON object with a 'command' string")
        args = body.get("args", {})
        from starlette.concurrency import run_in_threadpool

        try:
            # commands may wait for the run thread's next checkpoint: never block the event loop
            result = await run_in_threadpool(observer.command, agent_id, body["command"], args)
        except UnknownAgent:
            return error(404, f"no agent {agent_id!r}")
        except CommandError as exc:
            return error(400, str(exc))
        except NotRunning as exc:
            return error(409, str(exc))
        return JSONResponse({"agent": agent_id, "command": body["command"], "result": result})

    def metrics(request: Request) -> Response:
        body, content_type = observer.metrics_text()
        return Response(body, media_type=content_type)

    def events(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            return error(400, "since and limit must be integers")
        if since < 0 or not 1 <= limit <= MAX_LIMIT:
            return error(400, f"since must be >= 0 and limit in 1..{MAX_LIMIT}")
        kinds = [k for k in request.query_params.get("kind", "").split(",") if k]
        found, cursor = observer.bus.since(
            since, limit=limit, kinds=kinds or None, agent=request.query_params.get("agent")
        )
        return JSONResponse({"since": since, "next": cursor, "events": [e.as_dict() for e in found]})

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def not_found(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return error(404, f"no endpoint {request.url.path}")
        return PlainTextResponse("not found", status_code=404)

    routes = [
        Route("/", index),
        Route("/api/status", status),
        Route("/api/agents", agents),
        Route("/api/agents/{agent_id:path}/command", command, methods=["POST"]),
        Route("/api/agents/{agent_id:path}", agent),
        Route("/api/metrics", metrics),
        Route("/api/events", events),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ApiServer:
    """uvicorn serving :func:`create_app` on 127.0.0.1 in a background thread."""

    def __init__(self, observer: Observer, port: int = 0) -> None:
        self.observer = observer
        self.requested_port = port
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self, timeout: float = 10.0) -> ApiServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self.requested_port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {HOST}:{self.requested_port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.observer), log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"monerosim-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the monerosim API did not start on {HOST}:{self.port}")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout)
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()
        self._thread = None
        self._server = None
