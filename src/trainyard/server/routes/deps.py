"""What routes share: the workspace's store and artifacts, and idempotent creates."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from trainyard.api.routes import IDEMPOTENCY_HEADER
from trainyard.api.schemas import to_json
from trainyard.artifacts import ArtifactStore
from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from trainyard.store import Store
from trainyard.store.auth import Principal
from trainyard.store.records import USER_TAG
from trainyard.store.server import server_part
from trainyard.workspace import Workspace


def _workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def _store(request: Request) -> Store:
    return request.app.state.workspace.store


def _artifacts(request: Request) -> ArtifactStore:
    return request.app.state.workspace.artifacts


def _principal(request: Request) -> Principal:
    """Who the request is from (left by the app-wide token check, which every route passes)."""
    principal: Principal = request.state.principal
    return principal


WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
StoreDep = Annotated[Store, Depends(_store)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
ArtifactsDep = Annotated[ArtifactStore, Depends(_artifacts)]
IdempotencyKey = Annotated[
    str | None, Header(alias=IDEMPOTENCY_HEADER, max_length=MAX_IDEMPOTENCY_KEY_LENGTH)
]


def scoped_key(request: Request, key: str) -> str:
    """The caller's key as the store keeps it: one user's key cannot answer another's create.

    Scoped by the route too, so a client reusing a key for another kind of create gets that.
    """
    principal = getattr(request.state, "principal", None)
    who = principal.user if principal is not None else ""
    return hashlib.sha256(f"{who}\x00{request.url.path}\x00{key}".encode()).hexdigest()


def keyed_store(request: Request, key: str | None) -> Store:
    """The store for a create made once per idempotency key, even across server restarts.

    With a key, the store records it with what it creates in the same transaction
    (``ServerStore.with_idempotency_key``), so a retry gets that record back; else the plain store.
    """
    store: Store = request.app.state.workspace.store
    return server_part(store).with_idempotency_key(scoped_key(request, key)) if key else store


def create_once(request: Request, key: str | None, create: Callable[[Store], Any]) -> Any:
    """The JSON of ``create(store)`` with the ``keyed_store`` of the request's key."""
    return to_json(create(keyed_store(request, key)))


def refuse_user_tag(keys: Iterable[str]) -> None:
    """A run's ``USER_TAG`` is who created it, recorded by the server from the caller: a later
    tag write (set, remove, a batch's tags) that names it is refused, so no one re-attributes a run."""
    if USER_TAG in set(keys):
        raise InvalidInputError(
            f"tag {USER_TAG!r} is the run's user, recorded by the server when the run was created; "
            "it cannot be set or removed afterwards (leave it out of the tags)"
        )
