"""Work that runs while the app's lifespan lasts: the reaper timer, the endpoint keeper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI


def during_lifespan(app: FastAPI, start: Callable[[], None], stop: Callable[[], None]) -> None:
    """Call ``start`` when the app starts and ``stop`` when it ends, around its other lifespan work.

    A server run without lifespan events (``ThreadedServer``) calls neither.
    """
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[object]:
        start()
        try:
            async with inner(app_) as state:
                yield state
        finally:
            stop()

    app.router.lifespan_context = lifespan  # type: ignore[assignment]  # Starlette's type is a union of two
