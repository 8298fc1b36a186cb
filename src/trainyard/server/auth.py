"""Who may call the server: one app-wide dependency, deny by default.

``create_app`` passes ``require_token`` to ``FastAPI(dependencies=...)``, so every route it has,
including the MLflow ones, asks for a token, except the few in ``PUBLIC``. A fresh server has no
users, so it answers nothing but health until an owner token is made on the server machine
(``trainyard user add NAME --role owner --store URL``, then ``trainyard token create``).

Rules, in order: agent tokens reach the agent routes only, and only agent tokens reach them;
users and tokens (``/api/v1/users``, ``/api/v1/tokens``) need an owner's user token; reads (GET,
and the read-only POST searches of MLflow and ``RestStore``) need ``reader``; every other method
needs ``contributor``. A ``job`` token carries its user's role while its run is
active. Failures are 401 with ``WWW-Authenticate`` or 403, with a JSON
``{"error_code", "message"}`` body. Tokens travel in the ``Authorization`` header, which
browsers never add on their own, so a cross-site page cannot borrow a user's session.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from trainyard.api import errors, routes
from trainyard.server.mlflow.protocol import error_response
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


async def require_token(request: Request) -> Principal | None:
    """The app-wide dependency: authenticate, authorize, and leave the principal on the request."""
    path = request.scope["path"]
    if path in PUBLIC:
        return None
    token = token_from_header(request.headers.get("authorization"))
    if token is None:
        raise AuthFailed(
            401, "this server needs a token: `trainyard login URL` or Authorization: Bearer <token>"
        )
    if not token:
        raise AuthFailed(401, "malformed Authorization header: use Bearer <token> or Basic auth")
    store: ServerStore = request.app.state.auth
    try:
        principal = await run_in_threadpool(store.authenticate, token)
    except TokenRejected as exc:
        raise AuthFailed(401, str(exc)) from None
    authorize(principal, request.method, path)
    request.state.principal = principal
    return principal


async def _auth_failed(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthFailed)
    row = errors.UNAUTHENTICATED if exc.status == errors.UNAUTHENTICATED.status else errors.PERMISSION_DENIED
    headers = {"WWW-Authenticate": CHALLENGE} if row is errors.UNAUTHENTICATED else None
    return error_response(row.status, row.code, exc.message, headers)


def install_auth(app: FastAPI, store: ServerStore) -> None:
    """Give ``app`` its user/token store, the 401/403 handler and the user/token routes.

    The app must have been created with ``dependencies=[Depends(require_token)]``.
    """
    from trainyard.server.auth_routes import router

    app.state.auth = store
    app.add_exception_handler(AuthFailed, _auth_failed)
    app.include_router(router)
