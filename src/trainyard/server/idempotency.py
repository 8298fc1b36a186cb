"""Idempotency keys: a client that retries a create after a lost reply gets the first result.

``RestStore`` sends an ``Idempotency-Key`` header with every create; the server remembers the
JSON it answered under that key for an hour (at most ``MAX_KEYS`` keys, oldest dropped first).
Two requests with the same key at once run the create once: the second waits for the first.
The memory is the server process's, so it covers retries after timeouts and dropped
connections; a create whose reply was lost in a server crash is not covered.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_KEYS = 100_000
TTL_SECONDS = 3600.0


class IdempotencyCache:
    def __init__(self, max_keys: int = MAX_KEYS, ttl: float = TTL_SECONDS) -> None:
        self.max_keys = max_keys
        self.ttl = ttl
        self._done: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._running: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def once(self, key: str | None, create: Callable[[], Any]) -> Any:
        """``create()``'s result, computed once per ``key`` (every time when ``key`` is None)."""
        if not key:
            return create()
        with self._lock:
            lock = self._running.setdefault(key, threading.Lock())
        with lock:
            found = self._get(key)
            if found is not None:
                return found[1]
            try:
                result = create()
                with self._lock:  # recorded before the key's lock goes, so no later request runs it again
                    self._done[key] = (time.monotonic(), result)
                    while len(self._done) > self.max_keys:
                        self._done.popitem(last=False)
            finally:
                with self._lock:
                    self._running.pop(key, None)
            return result

    def _get(self, key: str) -> tuple[float, Any] | None:
        with self._lock:
            entry = self._done.get(key)
            if entry is not None and time.monotonic() - entry[0] > self.ttl:
                del self._done[key]
                return None
            return entry
