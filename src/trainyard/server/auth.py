"""Who may call the server: an ASGI middleware in front of everything, deny by default.

``Authenticate`` checks the token and the role of every request, except to the few paths in
``PUBLIC``, before anything else looks at it: an unauthenticated request gets 401, never a 400 of
a malformed body, a 413 of a big one, a 404 or a redirect that tells it what routes exist.
``create_app`` also passes ``require_token`` to ``FastAPI(dependencies=...)``, so a route that
someone serves without the middleware still asks for the principal it left, and refuses. A fresh server has no
users, so it answers nothing but health until an owner token is made on the server machine
(``trainyard user add NAME --role owner --store URL``, then ``trainyard token create``).

Rules, in order: agent tokens reach the agent routes only, and only agent tokens reach them;
users and tokens (``/api/v1/users``, ``/api/v1/tokens``) need an owner's user token; reads (GET,
and the read-only POST searches of MLflow and ``RestStore``) need ``reader``; every other method
needs ``contributor``. A ``job`` token carries its user's role while its run is
active. Failures are 401 with ``WWW-Authenticate`` or 403, with a JSON
``{"error_code", "message"}`` body. Tokens travel in the ``Authorization`` header, which
browsers never add on their own, so a cross-site page cannot borrow a user's session.

The studio's files (``/`` and ``/studio/…``, ``server/studio.py``) are public: they hold no data,
and the page asks for a token before it reads any. ``trainyard studio`` on an embedded workspace
has no users: its app holds one ``LocalSession`` (``server/session.py``) instead, whose URL
token the page trades for an ``HttpOnly``, ``SameSite=Strict`` cookie (as Jupyter does), so only
whoever was given the printed URL gets in; a cross-site page's requests carry no such cookie,
and a write must also carry the ``X-Trainyard-Studio`` header, which a cross-site form cannot set.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from trainyard.api import errors, routes
from trainyard.server.mlflow.protocol import error_response
from trainyard.server.session import STUDIO, STUDIO_WRITE_HEADER, LocalSession
from trainyard.store.auth import Principal, TokenRejected
from trainyard.store.server import ServerStore

PUBLIC = frozenset({routes.HEALTH.template, routes.OPENAPI.template, "/api/docs", "/docs/oauth2-redirect"})
AGENT_PREFIX = routes.AGENT + "/"
OWNER_PREFIXES = (routes.LIST_USERS.template, routes.LIST_TOKENS.template)  # who may do what: owners only
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# MLflow clients search and read with POST; these change nothing.
MLFLOW_READ_POSTS = (
    "/runs/search",
    "/experiments/search",
    "/registered-models/search",
    "/model-versions/search",
    "/registered-models/get-latest-versions",
    "/logged-models/search",
)
CHALLENGE = 'Bearer realm="trainyard", Basic realm="trainyard"'


class AuthFailed(Exception):
    """Turned into a 401/403 JSON response by the handler ``install_auth`` registers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_public(path: str) -> bool:
    """Whether ``path`` is answered without a token: health, the API's docs, the studio's files."""
    return path in PUBLIC or path in ("/", STUDIO) or path.startswith(STUDIO + "/")


def token_from_header(header: str | None) -> str | None:
    """The token from ``Bearer <t>`` or Basic auth (MLflow sends the token as the password)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return password or user
    return ""  # some other scheme: present but unusable


def is_read(method: str, path: str) -> bool:
    return method in READ_METHODS or (method == "POST" and path.endswith(MLFLOW_READ_POSTS))


def authorize(principal: Principal, method: str, path: str) -> None:
    """Raise ``AuthFailed(403)`` unless ``principal`` may make this request."""
    if path == routes.WHOAMI.template:  # any valid token may ask whose it is (`trainyard login`)
        return
    if principal.kind == "agent" or path.startswith(AGENT_PREFIX):
        if principal.kind != "agent" or not path.startswith(AGENT_PREFIX):
            raise AuthFailed(403, "agent tokens can only claim and report jobs, and only they can")
        return
    if path.startswith(OWNER_PREFIXES) and not (principal.has_role("owner") and principal.kind == "user"):
        raise AuthFailed(
            403, f"managing users and tokens needs an owner's own token; {principal.user!r} has none"
        )
    if not is_read(method, path) and not principal.has_role("contributor"):
        raise AuthFailed(403, f"user {principal.user!r} is a {principal.role}; {method} needs a contributor")


async def principal_of(store: ServerStore, method: str, path: str, authorization: str | None) -> Principal:
    """Authenticate and authorize one request; ``AuthFailed`` (401 or 403) saying why not."""
    token = token_from_header(authorization)
    if token is None:
        raise AuthFailed(
            401, "this server needs a token: `trainyard login URL` or Authorization: Bearer <token>"
        )
    if not token:
        raise AuthFailed(401, "malformed Authorization header: use Bearer <token> or Basic auth")
    try:
        principal = await run_in_threadpool(store.authenticate, token)
    except TokenRejected as exc:
        raise AuthFailed(401, str(exc)) from None
    authorize(principal, method, path)
    return principal


class Authenticate:
    """Pure ASGI: the token and role check, before body limits, routing and validation.

    The principal is left in the request's state (``request.state.principal``) for the routes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session: LocalSession | None = getattr(request.app.state, "local_session", None)
        try:
            principal = session.principal(request) if session is not None else None
            if principal is not None:
                if not is_read(request.method, scope["path"]) and STUDIO_WRITE_HEADER not in request.headers:
                    raise AuthFailed(
                        403, f"a write from the studio's page needs the {STUDIO_WRITE_HEADER} header"
                    )
                authorize(principal, request.method, scope["path"])
            else:
                principal = await principal_of(
                    request.app.state.auth,
                    request.method,
                    scope["path"],
                    request.headers.get("authorization"),
                )
        except AuthFailed as exc:
            await _auth_failed(request, exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


async def require_token(request: Request) -> Principal | None:
    """The app-wide dependency: the principal ``Authenticate`` left, or 401 (deny by default)."""
    if is_public(request.scope["path"]):
        return None
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthFailed(401, "this server needs a token (no authentication ran for this route)")
    return principal


def _auth_failed(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthFailed)
    row = errors.UNAUTHENTICATED if exc.status == errors.UNAUTHENTICATED.status else errors.PERMISSION_DENIED
    headers = {"WWW-Authenticate": CHALLENGE} if row is errors.UNAUTHENTICATED else None
    return error_response(row.status, row.code, exc.message, headers)


def install_auth(app: FastAPI, store: ServerStore) -> None:
    """Give ``app`` its user/token store, the ``Authenticate`` middleware, the 401/403 handler
    and the user/token routes.

    The app must have been created with ``dependencies=[Depends(require_token)]``.
    """
    from trainyard.server.auth_routes import router

    app.state.auth = store
    app.add_middleware(Authenticate)
    app.add_exception_handler(AuthFailed, _auth_failed)
    app.include_router(router)
