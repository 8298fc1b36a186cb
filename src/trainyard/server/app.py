"""``create_app(workspace)``: the team server's FastAPI application over one workspace.

Every route reaches the workspace's Store and ArtifactStore only, and is served at the method
and path ``trainyard.api.routes`` declares for it. Errors leave as JSON
``{"error_code", "message"}``: a ``TrainyardError`` by its class (``trainyard.api.errors``), a malformed
request as 400 naming the field, a database that is down as 503 (clients retry), anything else
as a bare 500 with the traceback in the server log only. JSON bodies are capped (``MAX_BODY``);
artifact uploads are streamed to disk instead and are not.

What a request meets, outermost first: ``AllowedHosts`` (a ``Host`` header not in the allow-list
is a 400: a page on another site that rebinds its DNS name to this server's address cannot reach
it), ``Authenticate`` (401/403, ``server/auth.py``), ``BodyLimit`` (413), then routing and the
request's validation (400).
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trainyard.api import errors, routes
from trainyard.artifacts.base import ArtifactStoreUnreachable
from trainyard.errors import ArtifactPathError, InvalidInputError, TrainyardError
from trainyard.server.mlflow import mlflow_router
from trainyard.server.mlflow.protocol import error_response
from trainyard.server.routing import serve
from trainyard.workspace import Workspace

if TYPE_CHECKING:
    from trainyard.server.session import LocalSession

log = logging.getLogger("trainyard.server")
MAX_BODY = 8 * 1024 * 1024
# Streamed to disk chunk by chunk, so not held to the JSON cap.
STREAMED_PREFIXES = (routes.ARTIFACTS, "/api/2.0/mlflow-artifacts/")
# Starlette's own answers (unknown route, wrong method, ...), by status.
HTTP_CODES = {
    row.status: row.code
    for row in (
        errors.for_class(TrainyardError),
        errors.ENDPOINT_NOT_FOUND,
        errors.METHOD_NOT_ALLOWED,
        errors.REQUEST_TOO_LARGE,
    )
}


def _trainyard_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TrainyardError)
    return _answer(errors.for_class(type(exc)), str(exc))


def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return _answer(errors.for_class(InvalidInputError), "; ".join(problems) or "invalid request")


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "ERROR"), message, exc.headers)


def _unreachable_store(request: Request, exc: Exception) -> JSONResponse:
    """The artifact store (an object store) is down: 503, which clients retry, not a 500."""
    log.warning("artifact store unreachable during %s %s: %s", request.method, request.url.path, exc)
    return _answer(errors.TEMPORARILY_UNAVAILABLE, str(exc))


def _path_clash(_request: Request, _exc: Exception) -> JSONResponse:
    """A file where an artifact path needs a folder (or the reverse): the caller's path, not a bug."""
    message = "the artifact path runs into an existing file (a name cannot be a file and a folder)"
    return _answer(errors.for_class(ArtifactPathError), message)


def _out_of_space(exc: Exception) -> bool:
    """A full disk, a full quota or a file size limit, from the file system or from SQLite."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    return "database or disk is full" in str(getattr(exc, "orig", exc))


def _no_space(request: Request, exc: Exception) -> JSONResponse:
    # nothing half-written stays (temporary files, rolled-back transactions)
    log.error("out of space during %s %s: %s", request.method, request.url.path, exc)
    message = "the server is out of disk space (or over a quota); nothing was stored; free space, retry"
    return _answer(errors.INSUFFICIENT_STORAGE, message)


def _store_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error, answered and logged in one line: never its SQL, never a traceback.

    Registered for SQLAlchemy's ``DBAPIError`` itself: Starlette re-raises (and uvicorn logs,
    statement and parameters included) whatever reaches the catch-all handler.
    """
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError

    if _out_of_space(exc):
        return _no_space(request, exc)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    if isinstance(exc, DataError | IntegrityError):  # a value the database refused: the caller's input
        return _answer(errors.for_class(InvalidInputError), f"the store refused a value: {reason}")
    if isinstance(exc, OperationalError):
        log.warning("store unavailable during %s %s: %s", request.method, request.url.path, reason)
        return _answer(errors.TEMPORARILY_UNAVAILABLE, "the store is unavailable; retry shortly")
    log.error("store error in %s %s: %s", request.method, request.url.path, reason)
    return _answer(errors.INTERNAL_ERROR, "internal server error; the server log has the details")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The last handler, outside the middleware too (the token check reads the store)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        return _store_error(request, exc)
    if _out_of_space(exc):
        return _no_space(request, exc)
    if isinstance(exc, OverflowError):  # a number in a free-form field (endpoint updates) too large
        return _answer(errors.for_class(InvalidInputError), f"a number is out of range: {exc}")
    log.error("error in %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(errors.INTERNAL_ERROR, "internal server error; the server log has the details")


def _answer(row: errors.ErrorCode, message: str) -> JSONResponse:
    return error_response(row.status, row.code, message)


class BodyLimit:
    """Pure ASGI: refuse JSON bodies over ``limit`` bytes with 413 before a route reads them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STREAMED_PREFIXES):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        if length is not None:
            await self.app(scope, receive, send)
            return
        # chunked: read it here, up to the limit, then hand the route what was read
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body over {self.limit // (1024 * 1024)} MB; upload large files as artifacts"
        await _answer(errors.REQUEST_TOO_LARGE, message)(scope, receive, send)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def host_names(bind: str, extra: Sequence[str] = ()) -> list[str]:
    """The ``Host`` names a server bound to ``bind`` answers by default (loopback's and the bind
    address), plus ``extra`` (``--allowed-host``)."""
    return list(dict.fromkeys(h.strip().lower() for h in (*LOOPBACK_HOSTS, bind, *extra) if h.strip()))


class AllowedHosts:
    """Pure ASGI: refuse (400, JSON) a request whose ``Host`` header is not an allowed name.

    Names are compared without the port and case-insensitively; IPv6 addresses with or without
    brackets; ``*`` allows any host (a proxy in front checks it instead).
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.strip().lower().strip("[]") for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or "*" in self.hosts:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if self.allows(given):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # no body to answer with: close, policy violation
            await send({"type": "websocket.close", "code": 1008})
            return
        message = (
            f"Host {given!r} is not one this server answers to; start it with "
            "`trainyard server --allowed-host NAME` for each name clients use"
        )
        await _answer(errors.for_class(InvalidInputError), message)(scope, receive, send)

    def allows(self, host: str) -> bool:
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8080
            name = host[1 : host.find("]")] if "]" in host else ""
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return bool(name) and name in self.hosts


def create_app(
    workspace: Workspace,
    *,
    dependencies: Sequence[Depends] = (),
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    allow_private_urls: bool = False,
    serving_host: str = "127.0.0.1",
    public_url: str | None = None,
    local_session: LocalSession | None = None,
) -> FastAPI:
    """The server app: REST API v1 (``routes.all_routers``), then the MLflow, auth and agent parts.

    Every route depends on the token check; ``dependencies`` adds more app-wide ones. Requests
    must name one of ``allowed_hosts`` in their ``Host`` header (``host_names`` for a bind).
    URLs users give (``url_guard``) may reach private addresses only with ``allow_private_urls``.
    Endpoints' routers listen on ``serving_host`` (the server's own bind); their scoring URIs
    name ``public_url``'s host, else the host each caller reached the server by. The studio is
    served at ``/studio/``; with ``local_session`` (``trainyard studio``) its cookie is a
    credential too (``server/auth.py``).
    """
    from sqlalchemy.exc import DBAPIError

    from trainyard.pipelines.schedules import Scheduler
    from trainyard.server.agent_routes import install_agent_routes
    from trainyard.server.auth import install_auth, require_token
    from trainyard.server.endpoint_keeper import EndpointKeeper
    from trainyard.server.lifespan import during_lifespan
    from trainyard.server.routes import all_routers
    from trainyard.server.studio import install_studio
    from trainyard.store.server import server_part

    app = FastAPI(
        title="trainyard",
        version="1",
        summary="Runs, metrics, artifacts, environments, models and endpoints of one trainyard workspace.",
        openapi_url=routes.OPENAPI.template,
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(require_token), *dependencies],  # deny by default (server/auth.py)
    )
    app.state.workspace = workspace
    # A team server's runs wait for an agent; `trainyard studio` (a local session) is its user's
    # own machine, so what it submits (the designer's Submit) runs on local compute, as the CLI's.
    workspace.agents_run_jobs = local_session is None
    app.state.allow_private_urls = allow_private_urls
    app.state.serving_host = serving_host
    app.state.public_url = public_url
    app.state.local_session = local_session
    app.add_exception_handler(TrainyardError, _trainyard_error)
    app.add_exception_handler(ArtifactStoreUnreachable, _unreachable_store)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    for clash in (NotADirectoryError, FileExistsError, IsADirectoryError):
        app.add_exception_handler(clash, _path_clash)
    app.add_exception_handler(DBAPIError, _store_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(BodyLimit)

    @serve(app.router, routes.HEALTH, tags=["server"])
    def health() -> dict[str, Any]:
        """Liveness: answers without a token, touches nothing."""
        return {"status": "ok"}

    for router in all_routers():
        app.include_router(router)
    app.include_router(mlflow_router(workspace))  # /api/2.0/mlflow/… for unmodified MLflow clients
    install_auth(app, server_part(workspace.store))
    install_agent_routes(app, workspace, app.state.auth)
    install_studio(app)
    keeper = EndpointKeeper(workspace, serving_host)
    during_lifespan(app, keeper.start, keeper.stop)
    app.state.scheduler = Scheduler(workspace)  # fires the workspace's schedules while the app runs
    during_lifespan(app, app.state.scheduler.start, app.state.scheduler.stop)
    app.add_middleware(AllowedHosts, hosts=allowed_hosts)  # outermost: before auth and the rest
    return app
