"""The REST API and dashboard (FastAPI on starlette), served by uvicorn on loopback.

======  ==============================  ===============================================================
GET     ``/``                           the dashboard (needs ``?token=``; the page carries it on)
GET     ``/api/docs``                   interactive API documentation (swagger-ui, served from the package)
GET     ``/api/openapi.json``           the OpenAPI document (no token needed)
GET     ``/api/status``                 run state, simulated time, heights, controls and why one is off
GET     ``/api/agents``                 agents, filtered (``kind``, ``role``, ``group``, ``q``) and paged
GET     ``/api/agents/{id}``            one agent, its commands, height history and peers (404 if unknown)
POST    ``/api/agents/{id}/command``    ``{"command": "mine", "args": {"blocks": 3}}`` → 200, 400, 404, 409
POST    ``/api/run/command``            pause / step / resume (any backend: 400 with the reason if it
                                        cannot), seek on a replay
GET     ``/api/metrics``                Prometheus text format
GET     ``/api/events``                 history: ``?since=SEQ&limit=N&kind=block.found,peer.``
GET     ``/api/series``                 the sampled time series (``?nodes=a,b`` adds their heights)
GET     ``/api/graph``                  the peer graph, attackers and victims marked
GET     ``/api/blocks``                 the block tree of the last ``?last=N`` heights, reorgs
GET     ``/api/transactions``           transactions, paged, by status or wallet
======  ==============================  ===============================================================

Doors (:class:`Guard`): every request's ``Host`` must be a loopback name or
address (or one the server was told to allow), so a DNS-rebinding page gets
400; a request carrying an ``Origin`` must come from the server's own
origin (403 otherwise); every ``/api/`` request but the OpenAPI document must
carry the run's token (``Authorization: Bearer``, ``X-Monerosim-Token``, or
``?token=`` on reads; 401 otherwise), and a write must be ``application/json``
(415 otherwise), so a cross-site form POST can never command a run.

Reads are served from snapshots the observer rebuilds at most four times a
second (:meth:`~.observer.LiveSession.cached`), never by walking the run per request.
:class:`ApiServer` runs uvicorn in a daemon thread and stops it in :meth:`ApiServer.stop`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from .control import CommandError, NotRunning, UnknownAgent
from .schemas import (
    AgentDetail,
    AgentPage,
    BlockTree,
    CommandRequest,
    CommandResult,
    ErrorBody,
    EventPage,
    Graph,
    Series,
    Status,
    TransactionPage,
)

if TYPE_CHECKING:
    from .observer import LiveSession

STATIC = Path(__file__).with_name("static")
HOST = "127.0.0.1"
MAX_LIMIT = 5000
TOKEN_ENV = "MONEROSIM_API_TOKEN"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
PUBLIC_PATHS = ("/api/openapi.json",)
READ_TTL_S = 0.25
"""Reads are answered from a snapshot at most this old..."""
VIEW_TTL_S = 1.0
"""...and the dashboard's heavier views (redrawn once a second) from one at most this old."""
VIEWS = ("/api/series", "/api/graph", "/api/blocks", "/api/transactions", "/api/openapi.json")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409)
}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store"}
"""The pages carry the token: never framed, never cached, never sent on as a referrer."""


def new_token() -> str:
    """The token of a new server: ``$MONEROSIM_API_TOKEN`` if set (one for all xdist workers), else random."""
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)


# -- the doors ----------------------------------------------------------------------------------
def _split_host(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host_header: str, extra: Iterable[str] = ()) -> bool:
    """A loopback name or address, or one of ``extra`` (exact names)."""
    name = _split_host(host_header)
    if not name:
        return False
    if name in LOOPBACK_NAMES or name in {e.lower() for e in extra}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Guard:
    """ASGI middleware: Host check, same-origin check, token, JSON-only writes (see the module doc)."""

    def __init__(self, app: Any, token: str, allowed_hosts: Iterable[str] = (), observer: Any = None) -> None:
        self.app = app
        self.token = token.encode()
        self.allowed = tuple(allowed_hosts)
        self.observer = observer
        """When given, successful GETs of ``/api/`` are answered from its cache (see READ_TTL_S)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed):
            await _refuse(send, 400, f"Host {host!r} is not allowed; accepted: loopback names and addresses "
                                     "(monerosim serve --allow-host NAME adds one)")
            return
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"http://{host}".lower():
            await _refuse(send, 403, f"cross-origin request from {origin!r} refused; only pages this server "
                                     "serves may call the API")
            return
        method = scope["method"]
        path = scope["path"]
        if method not in ("GET", "HEAD", "OPTIONS") and headers.get("sec-fetch-site") in ("cross-site",
                                                                                          "same-site"):
            await _refuse(send, 403, "cross-site write refused")
            return
        needs_token = (path.startswith("/api/") and path not in PUBLIC_PATHS) or path in ("/", "/api/docs")
        if needs_token and not self._has_token(headers, scope, allow_query=method in ("GET", "HEAD")):
            await _refuse(send, 401, "missing or wrong token: send 'Authorization: Bearer TOKEN' (the token "
                                     "is "
                                     "printed with the dashboard URL: open that URL)", html=path == "/")
            return
        if method == "POST":
            ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if ctype != "application/json":
                await _refuse(send, 415, f"content-type {ctype or 'none'!r} refused; "
                                         "accepted: application/json")
                return
        if method == "GET" and self.observer is not None and path.startswith("/api/"):
            await self._cached(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _cached(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a read from the snapshot cache (one dict lookup), or fill it."""
        key = "GET " + scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        hit = self.observer.peek(key, VIEW_TTL_S if scope["path"] in VIEWS else READ_TTL_S)
        if hit is not None:
            await send(hit[0])
            await send({"type": "http.response.body", "body": hit[1]})
            return
        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if start.get("status") == 200:
            self.observer.store(key, (start, b"".join(parts)))

    def _has_token(self, headers: dict[str, str], scope: Any, allow_query: bool) -> bool:
        candidates = [headers.get("x-monerosim-token", "")]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        if allow_query and scope.get("query_string"):
            candidates += parse_qs(scope["query_string"].decode("latin-1")).get("token", [])
        return any(c and hmac.compare_digest(c.encode(), self.token) for c in candidates)


async def _refuse(send: Any, status: int, message: str, html: bool = False) -> None:
    if html:
        body = (f"<!doctype html><title>monerosim</title><h1>{status}</h1><p>{message}</p>").encode()
        ctype = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"error": message}).encode()
        ctype = b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


# -- the app ------------------------------------------------------------------------------------
def _page(name: str, token: str) -> str:
    html = (STATIC / name).read_text(encoding="utf-8")
    meta = f'<meta name="monerosim-token" content="{token}">'
    return html.replace("<!--monerosim-token-->", meta)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def create_app(observer: LiveSession, token: str | None = None, allowed_hosts: Iterable[str] = ()) -> Any:
    """The ASGI app: the FastAPI app wrapped in :class:`Guard` (``token`` defaults to :func:`new_token`)."""
    app = build_fastapi(observer, token or "")
    guarded = Guard(app, token or new_token(), allowed_hosts, observer)
    guarded.fastapi = app  # type: ignore[attr-defined]
    return guarded


def build_fastapi(observer: LiveSession, token: str) -> FastAPI:
    app = FastAPI(title="monerosim live API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="State and control of the network a monerosim session or `monerosim serve` "
                              "runs. Every endpoint but this document needs the run's token (printed with "
                              "the dashboard URL) as `Authorization: Bearer TOKEN`.")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def cached_json(key: str, build: Any) -> Response:
        body = observer.cached(key, lambda: json.dumps(build(), default=str).encode())
        return Response(body, media_type="application/json")

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        if first.get("type") == "json_invalid":
            return error(400, 'body must be JSON: {"command": NAME, "args": {...}}')
        return error(400, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error(404, f"no endpoint {request.url.path}")
        return error(exc.status_code, str(exc.detail))

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_page("index.html", token), headers=PAGE_HEADERS)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_page("docs.html", token), headers=PAGE_HEADERS)

    @app.get("/api/status", response_model=Status, tags=["run"])
    def status() -> Response:
        """The run's state (a snapshot at most 0.25 s old)."""
        return cached_json("status.json", observer.status)

    @app.get("/api/agents", response_model=AgentPage, tags=["agents"])
    def agents(kind: str | None = Query(None, description="node | wallet | engine"),
               role: str | None = None, group: str | None = None,
               q: str | None = Query(None, description="substring of the id"),
               offset: int = Query(0, ge=0), limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT)) -> Response:
        if (kind, role, group, q) == (None, None, None, None) and offset == 0 and limit == MAX_LIMIT:
            return cached_json("agents.json", lambda: _agent_page(observer.agent_dicts(), 0, MAX_LIMIT))
        rows = [a for a in observer.agent_dicts()
                if (kind is None or a["kind"] == kind) and (role is None or a["role"] == role)
                and (group is None or a["group"] == group) and (q is None or q.lower() in a["id"].lower())]
        return JSONResponse(_agent_page(rows, offset, limit))

    @app.get("/api/agents/{agent_id:path}", response_model=AgentDetail, responses=ERRORS, tags=["agents"])
    def agent(agent_id: str) -> Response:
        state = observer.registry.get(agent_id)
        if state is None:
            return error(404, f"no agent {agent_id!r}")
        unavailable = {k: str(v["reason"]) for k, v in observer.controls().items()
                       if not v["available"] and k != "seek"}
        series = observer.views.series(since=float("inf"), nodes=[agent_id])["nodes"].get(agent_id, [])
        peers = observer.views.peers_of(agent_id)
        return JSONResponse({**state.as_dict(), "commands": list(observer.commands_for(agent_id)),
                             "unavailable": unavailable, "heights": series, "peer_list": peers})

    @app.post("/api/agents/{agent_id:path}/command", response_model=CommandResult, responses=ERRORS,
              tags=["agents"])
    async def command(agent_id: str, body: CommandRequest) -> Response:
        """Send one command to an agent (its ``commands`` lists what it accepts)."""
        if observer.registry.get(agent_id) is None:
            return error(404, f"no agent {agent_id!r}")
        try:
            # commands may wait for the run thread's next checkpoint: never block the event loop
            result = await run_in_threadpool(observer.command, agent_id, body.command, body.args)
        except UnknownAgent:
            return error(404, f"no agent {agent_id!r}")
        except CommandError as exc:
            return error(400, str(exc))
        except NotRunning as exc:
            return error(409, str(exc))
        return JSONResponse({"agent": agent_id, "command": body.command, "result": result})

    @app.post("/api/run/command", response_model=CommandResult, responses=ERRORS, tags=["run"])
    async def run_command(body: CommandRequest) -> Response:
        """pause, step, resume the run (400 with the reason where the backend cannot); seek a replay."""
        try:
            result = await run_in_threadpool(observer.run_command, body.command, body.args)
        except CommandError as exc:
            return error(400, str(exc))
        except NotRunning as exc:
            return error(409, str(exc))
        return JSONResponse({"agent": "run", "command": body.command, "result": result})

    @app.get("/api/metrics", tags=["run"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
    def metrics() -> Response:
        body, content_type = observer.cached("metrics", observer.metrics_text)
        return Response(body, media_type=content_type)

    @app.get("/api/events", response_model=EventPage, responses=ERRORS, tags=["events"])
    def events(since: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=MAX_LIMIT),
               kind: str | None = Query(None, description="comma-separated kinds; 'peer.' matches a prefix"),
               agent: str | None = None,
               latest: bool = Query(False, description="the newest `limit` events after `since` (skips "
                                                       "the ones between)")) -> Response:
        if latest:
            found, _ = observer.bus.since(since, limit=MAX_LIMIT * 1000, kinds=_split(kind) or None,
                                          agent=agent)
            found = found[-limit:]
            cursor = max([since] + [e.seq for e in found])
        else:
            found, cursor = observer.bus.since(since, limit=limit, kinds=_split(kind) or None, agent=agent)
        return JSONResponse({"since": since, "next": cursor, "events": [e.as_dict() for e in found]})

    @app.get("/api/series", response_model=Series, tags=["views"])
    def series(since: float | None = Query(None, description="only samples after this simulated time"),
               nodes: str | None = Query(None, description="comma-separated node ids")) -> Response:
        if since is None and not nodes:
            return cached_json("series.json", lambda: observer.views.series())
        return JSONResponse(observer.views.series(since=since, nodes=_split(nodes)))

    @app.get("/api/graph", response_model=Graph, tags=["views"])
    def graph(group: str | None = None, limit: int = Query(MAX_LIMIT, ge=1, le=20000)) -> Response:
        if group is None and limit == MAX_LIMIT:
            return cached_json("graph.json", lambda: observer.views.graph())
        return JSONResponse(observer.views.graph(group=group, limit=limit))

    @app.get("/api/blocks", response_model=BlockTree, tags=["views"])
    def blocks(last: int = Query(60, ge=1, le=5000,
                                 description="heights back from the best tip")) -> Response:
        return cached_json(f"blocks.{last}", lambda: observer.views.block_tree(last))

    @app.get("/api/transactions", response_model=TransactionPage, tags=["views"])
    def transactions(offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=MAX_LIMIT),
                     status: str | None = None, wallet: str | None = None) -> Response:
        return JSONResponse(observer.views.transactions(offset=offset, limit=limit, status=status,
                                                        wallet=wallet))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    schema_of = app.openapi

    def openapi() -> dict[str, Any]:
        doc = schema_of()
        components = doc.setdefault("components", {})
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "The run's token, printed with the dashboard URL."},
            "header": {"type": "apiKey", "in": "header", "name": "X-Monerosim-Token"},
        }
        doc["security"] = [{"bearer": []}, {"header": []}]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _agent_page(rows: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    return {"count": len(rows), "offset": offset, "limit": limit, "agents": rows[offset:offset + limit]}


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, without starting a server (for the docs site)."""
    from .observer import LiveSession

    return build_fastapi(LiveSession(watch=False), "").openapi()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ApiServer:
    """uvicorn serving :func:`create_app` on 127.0.0.1 (or ``host``) in a background thread."""

    def __init__(self, observer: LiveSession, port: int = 0, *, token: str | None = None,
                 allowed_hosts: Iterable[str] = (), host: str = HOST) -> None:
        self.observer = observer
        self.requested_port = port
        self.port = port
        self.host = host
        self.token = token or new_token()
        self.allowed_hosts = tuple(allowed_hosts)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL (API calls need the token as a header)."""
        return f"http://{self.host}:{self.port}/"

    @property
    def dashboard_url(self) -> str:
        """The dashboard's URL with the token: the one to print and open."""
        return f"{self.url}?token={self.token}"

    @property
    def headers(self) -> dict[str, str]:
        """Headers an API client sends (the token)."""
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout: float = 10.0) -> ApiServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}") from None
        self.port = sock.getsockname()[1]
        app = create_app(self.observer, self.token, self.allowed_hosts)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"monerosim-api-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the monerosim API did not start on {self.host}:{self.port}")
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

