"""What routes share: the workspace's store and artifacts, and idempotent creates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from trainyard.api.routes import IDEMPOTENCY_HEADER
from trainyard.api.schemas import to_json
from trainyard.artifacts import ArtifactStore
from trainyard.store import Store


def _store(request: Request) -> Store:
    return request.app.state.workspace.store


def _artifacts(request: Request) -> ArtifactStore:
    return request.app.state.workspace.artifacts


StoreDep = Annotated[Store, Depends(_store)]
ArtifactsDep = Annotated[ArtifactStore, Depends(_artifacts)]
IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER, max_length=200)]


def create_once(request: Request, key: str | None, create: Callable[[], Any]) -> Any:
    """The JSON of ``create()``, made once per idempotency key."""
    scoped = f"{request.url.path}|{key}" if key else None
    return request.app.state.idempotency.once(scoped, lambda: to_json(create()))
