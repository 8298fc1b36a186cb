"""Handlers registered from the route table (``trainyard.api.routes``), so the server serves each
declared route at its declared method, path and success status, and writes no path itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

from trainyard.api.routes import Route

F = TypeVar("F", bound=Callable[..., Any])


def serve(router: APIRouter, route: Route, **options: Any) -> Callable[[F], F]:
    """Decorator: the function handles ``route`` on ``router`` (``options`` go to FastAPI)."""

    def register(handler: F) -> F:
        router.add_api_route(
            route.template, handler, methods=[route.method], status_code=route.status, **options
        )
        return handler

    return register
