"""``whoami`` for everyone, and users and tokens over HTTP for owners (``server/auth.py`` checks
the role), so that an owner can manage the team from a laptop after the first token."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from trainyard.api import routes
from trainyard.server.routing import serve
from trainyard.store.auth import MAX_LIFETIME, NAME_PATTERN, ROLES, Principal
from trainyard.store.server import ServerStore

Role = Literal[ROLES]  # type: ignore[valid-type]
router = APIRouter(tags=["auth"])


class NewUser(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    role: Role = "contributor"


class RoleChange(BaseModel):
    role: Role


class NewToken(BaseModel):
    user: str = Field(pattern=NAME_PATTERN)
    kind: Literal["user", "agent"] = "user"
    expires_in: float | None = Field(
        default=None, gt=0, le=MAX_LIFETIME, description="Seconds; none: never expires."
    )


def _auth(request: Request) -> ServerStore:
    return request.app.state.auth


@serve(router, routes.WHOAMI)
def whoami(request: Request) -> dict[str, str | None]:
    """Who the token belongs to: what ``trainyard login`` checks before it stores a token."""
    principal: Principal = request.state.principal
    return {
        "user": principal.user,
        "role": principal.role,
        "kind": principal.kind,
        "token_id": principal.token_id,
    }


@serve(router, routes.LIST_USERS)
def list_users(request: Request) -> list[dict[str, Any]]:
    return [u.__dict__ for u in _auth(request).list_users()]


@serve(router, routes.ADD_USER)
def add_user(body: NewUser, request: Request) -> dict[str, Any]:
    return _auth(request).add_user(body.name, body.role).__dict__


@serve(router, routes.SET_ROLE)
def set_role(name: str, body: RoleChange, request: Request) -> dict[str, Any]:
    return _auth(request).set_role(name, body.role).__dict__


@serve(router, routes.LIST_TOKENS)
def list_tokens(request: Request, user: str | None = None) -> list[dict[str, Any]]:
    return [{**t.__dict__, "state": t.state} for t in _auth(request).list_tokens(user)]


@serve(router, routes.CREATE_TOKEN)
def create_token(body: NewToken, request: Request) -> dict[str, Any]:
    """A new token; the secret is in this answer only."""
    token, info = _auth(request).create_token(body.user, kind=body.kind, expires_in=body.expires_in)
    return {"token": token, **info.__dict__, "state": info.state}


@serve(router, routes.REVOKE_TOKEN)
def revoke_token(token_id: str, request: Request) -> dict[str, str]:
    _auth(request).revoke_token(token_id)
    return {"id": token_id, "state": "revoked"}
