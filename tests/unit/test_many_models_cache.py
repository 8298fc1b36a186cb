"""The many-models deployment's model cache: bounded, least recently used out first, one load
per cold model however many callers want it at once."""

from __future__ import annotations

import threading
import time

import pytest

from trainyard.errors import InvalidInputError
from trainyard.serving.many_models import ModelCache


class Loads:
    """A load function that records what it loaded (its "model" is the version's own text)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, version: int):  # noqa: ANN204
        self.calls.append(version)
        return f"model {version}"


def test_least_recently_used_is_evicted_and_counted():
    loads, said = Loads(), []
    cache = ModelCache(2, loads, said.append)
    assert cache.get(1, "a") == "model 1" and cache.get(2, "b") == "model 2"
    assert cache.get(1, "a") == "model 1"  # a hit: 1 is now the most recent
    cache.get(3, "c")  # evicts 2, the least recently used
    assert cache.stats() == {
        "in_memory": [1, 3],
        "max_models_in_memory": 2,
        "loaded": 3,
        "evicted": 1,
        "hits": 1,
        "waited": 0,
    }
    cache.get(2, "b")  # loaded again, evicting 1
    assert loads.calls == [1, 2, 3, 2] and cache.stats()["in_memory"] == [3, 2]
    assert any("loaded c" in line and "evicted version 2" in line for line in said)


def test_callers_of_one_cold_model_share_one_load():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(version: int) -> object:
        calls.append(version)
        started.set()
        assert release.wait(10)
        return object()

    cache = ModelCache(4, slow, lambda _: None)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(7, "p"))) for _ in range(4)]
    threads[0].start()
    assert started.wait(10)
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 10
    while cache.stats()["waited"] < 3 and time.monotonic() < deadline:  # the others wait on the load
        time.sleep(0.01)
    release.set()
    for t in threads:
        t.join(10)
    assert calls == [7] and len(got) == 4 and len({id(m) for m in got}) == 1
    assert cache.stats()["loaded"] == 1 and cache.stats()["waited"] == 3


def test_a_failed_load_is_raised_and_tried_again_next_time():
    attempts = []

    def flaky(version: int) -> str:
        attempts.append(version)
        if len(attempts) == 1:
            raise OSError("disk hiccup")
        return "ok"

    cache = ModelCache(1, flaky, lambda _: None)
    with pytest.raises(OSError, match="disk hiccup"):
        cache.get(1, "p")
    assert cache.get(1, "p") == "ok" and attempts == [1, 1]


def test_a_cache_of_no_models_is_refused():
    with pytest.raises(InvalidInputError, match="max_models_in_memory must be 1 or more"):
        ModelCache(0, Loads(), lambda _: None)
