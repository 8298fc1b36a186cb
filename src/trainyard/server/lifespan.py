"""Work that runs while the app's lifespan lasts: the reaper timer, the endpoint keeper."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

log = logging.getLogger(__name__)


class Repeating:
    """``work`` in a daemon thread every ``every`` seconds from ``start()`` to ``stop()``; a pass
    that raises is logged and the next one runs (a database hiccup must not end the timer).
    ``start()`` again while it runs starts nothing; ``first`` runs one pass at once."""

    def __init__(self, name: str, every: float, work: Callable[[], object], *, first: bool = False) -> None:
        self.name, self.every, self.work, self.first = name, every, work, first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def start(self) -> None:
        with self._starting:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        if self.first:
            self._pass()
        while not self._stop.wait(self.every):
            self._pass()

    def _pass(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception("%s: a pass failed", self.name)


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
