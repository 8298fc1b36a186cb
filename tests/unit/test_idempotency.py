"""The server's idempotency cache: one create per key."""

from __future__ import annotations

import pytest

from trainyard.server.idempotency import IdempotencyCache


def test_same_key_creates_once_and_returns_the_first_result() -> None:
    cache = IdempotencyCache()
    calls = []
    assert cache.once("k", lambda: calls.append(1) or "first") == "first"
    assert cache.once("k", lambda: calls.append(2) or "second") == "first"
    assert cache.once(None, lambda: "unkeyed") == "unkeyed"
    assert calls == [1]


def test_the_result_is_recorded_before_the_keys_lock_is_dropped() -> None:
    """Else a request arriving in between takes a fresh lock, finds no result, and creates again."""
    cache = IdempotencyCache()
    recorded_at_drop = []

    class Running(dict):
        def pop(self, key, default=None):  # noqa: ANN001, ANN202
            recorded_at_drop.append(key in cache._done)
            return super().pop(key, default)

    cache._running = Running()
    cache.once("k", lambda: "first")
    assert recorded_at_drop == [True]


def test_a_failed_create_is_not_remembered() -> None:
    cache = IdempotencyCache()

    def fail() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.once("k", fail)
    assert cache.once("k", lambda: "second") == "second"
    assert cache._running == {}
