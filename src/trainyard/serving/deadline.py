"""Model calls off the event loop, each with a deadline, so a model that hangs costs a 504, not the server.

A call runs in its own daemon thread (a thread cannot be killed, and a daemon one never holds
up the exit); at most ``slots`` run at once. A call past its deadline is answered with
``DeadlineExceeded`` while its thread goes on; it gives its slot back only if it ever ends.
When every slot is held by such a call the worker can serve nothing more: ``stuck`` says so,
the health routes answer 503, and the deployment's supervisor restarts the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any


class DeadlineExceeded(Exception):
    """A call did not end within the deadline (waiting for a free slot included)."""


class Deadline:
    def __init__(self, seconds: float, slots: int = 4) -> None:
        self.seconds, self.slots = seconds, slots
        self.hung = 0  # calls past their deadline that have not ended
        self._free: asyncio.Semaphore | None = None

    @property
    def stuck(self) -> str | None:
        """Why the worker can take no more calls, or None while it can."""
        if self.hung < self.slots:
            return None
        return f"{self.hung} predictions are still running past the {self.seconds:g}s request timeout"

    def _too_late(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"the model did not answer within {self.seconds:g}s (the deployment's request timeout)"
        )

    async def run(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        loop = asyncio.get_running_loop()
        free = self._free = self._free or asyncio.Semaphore(self.slots)
        start = loop.time()
        try:
            await asyncio.wait_for(free.acquire(), self.seconds)
        except TimeoutError:
            raise self._too_late() from None
        done: asyncio.Future[tuple[bool, Any]] = loop.create_future()

        def ended(outcome: tuple[bool, Any]) -> None:
            free.release()
            if done.cancelled():  # answered as a timeout long ago
                self.hung -= 1
            else:
                done.set_result(outcome)

        def call() -> None:
            try:
                outcome: tuple[bool, Any] = (True, fn(arg))
            except Exception as exc:
                outcome = (False, exc)
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server has stopped
                loop.call_soon_threadsafe(ended, outcome)

        threading.Thread(target=call, name="predict", daemon=True).start()
        try:
            ok, value = await asyncio.wait_for(done, max(self.seconds - (loop.time() - start), 0.0))
        except TimeoutError:
            self.hung += 1
            raise self._too_late() from None
        if not ok:
            raise value
        return value
