"""The conformance suite of the server-only part: idempotent creates, the agents' queue and the
agents seen.

The ``store`` fixture gives a store implementing both ``Store`` and ``ServerStore`` (SqlStore);
users and tokens are checked by the server's auth tests, which need a running server.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError
from trainyard.status import RunStatus
from trainyard.store.queue import AGENT_MEMORY_SECONDS
from trainyard.store.server import server_part
from trainyard.testing.store_suite_common import _together


class ServerSuite:
    """Needs a ``store`` fixture giving a fresh, empty store with the server-only part."""

    def test_a_create_retried_with_its_key_returns_the_first_record(self, store: Any) -> None:
        keyed = server_part(store).with_idempotency_key("client-key-1")
        exp = keyed.create_experiment("keyed")
        assert keyed.create_experiment("keyed") == exp  # not AlreadyExistsError: the same create
        run = server_part(store).with_idempotency_key("client-key-2").create_run(exp.id)
        assert server_part(store).with_idempotency_key("client-key-2").create_run(exp.id) == run
        assert store.count_runs(exp.id) == 1
        with pytest.raises(AlreadyExistsError):
            store.create_experiment("keyed")  # without the key it is a second create

    def test_each_kind_of_create_is_kept_once_per_key(self, store: Any) -> None:
        part = server_part(store)
        model = part.with_idempotency_key("m").create_registered_model("keyed-model")
        assert part.with_idempotency_key("m").create_registered_model("keyed-model") == model
        version = part.with_idempotency_key("v").create_model_version("keyed-model", source="s", files=["f"])
        again = part.with_idempotency_key("v").create_model_version("keyed-model", source="s", files=["f"])
        assert again == version and [v.version for v in store.list_model_versions("keyed-model")] == [1]
        endpoint = part.with_idempotency_key("e").create_endpoint("ep-keyed", 8100, "a", "b")
        assert part.with_idempotency_key("e").create_endpoint("ep-keyed", 8100, "a", "b") == endpoint
        made = part.with_idempotency_key("d").create_deployment("ep-keyed", "blue", "keyed-model", 1, 1)
        assert (
            part.with_idempotency_key("d").create_deployment("ep-keyed", "blue", "keyed-model", 1, 1) == made
        )

    def test_different_keys_create_again(self, store: Any) -> None:
        exp = store.create_experiment("two-keys")
        part = server_part(store)
        first = part.with_idempotency_key("a").create_run(exp.id)
        second = part.with_idempotency_key("b").create_run(exp.id)
        assert first.id != second.id and store.count_runs(exp.id) == 2

    def test_a_key_used_for_another_kind_is_refused(self, store: Any) -> None:
        keyed = server_part(store).with_idempotency_key("shared")
        exp = keyed.create_experiment("kinds")
        with pytest.raises(InvalidInputError, match="idempotency key"):
            keyed.create_run(exp.id)
        assert store.count_runs(exp.id) == 0

    def test_a_failed_create_records_no_key(self, store: Any) -> None:
        keyed = server_part(store).with_idempotency_key("fails")
        with pytest.raises(InvalidInputError):
            keyed.create_experiment("")
        assert keyed.create_experiment("after-failure").name == "after-failure"

    def test_concurrent_creates_with_one_key_make_one_run(self, store: Any) -> None:
        exp = store.create_experiment("racing")
        part = server_part(store)
        runs = _together(8, lambda _: part.with_idempotency_key("race").create_run(exp.id))
        assert len({r.id for r in runs}) == 1
        assert store.count_runs(exp.id) == 1

    def test_queued_run_ids_are_the_oldest_waiting_for_the_compute(self, store: Any) -> None:
        exp = store.create_experiment("queue")
        first = store.create_run(exp.id, compute="gpu")
        second = store.create_run(exp.id, compute="gpu")
        store.create_run(exp.id, compute="cpu")
        taken = store.create_run(exp.id, compute="gpu")
        store.set_status(taken.id, RunStatus.PREPARING, worker="agent:1:2")
        part = server_part(store)
        assert part.queued_run_ids("gpu") == [first.id, second.id]
        assert part.queued_run_ids("gpu", limit=1) == [first.id]
        assert part.queued_run_ids("none") == []

    def test_agents_are_remembered_by_their_last_claim_for_an_hour(
        self, store: Any, monkeypatch: Any
    ) -> None:
        part = server_part(store)
        part.record_agent("box-b:20:7", "gpu", "ada")
        part.record_agent("box-a:10:5", "gpu", "ada")
        part.record_agent("box-c:30:9", "cpu", "bo")
        before = {a.id: a.last_seen for a in part.list_agents()}
        part.record_agent("box-b:20:7", "gpu", "ada")
        seen = part.list_agents()
        assert [(a.id, a.compute, a.user) for a in seen] == [
            ("box-c:30:9", "cpu", "bo"),
            ("box-a:10:5", "gpu", "ada"),
            ("box-b:20:7", "gpu", "ada"),
        ]
        assert seen[2].last_seen >= before["box-b:20:7"]
        later = time.time() + AGENT_MEMORY_SECONDS + 1
        monkeypatch.setattr(time, "time", lambda: later)
        assert part.list_agents() == []
        part.record_agent("box-a:10:5", "gpu", "ada")  # and the old rows go
        monkeypatch.undo()
        assert [a.id for a in part.list_agents()] == ["box-a:10:5"]

    def test_queue_runs_are_those_waiting_or_in_progress_on_a_compute(self, store: Any) -> None:
        exp = store.create_experiment("on-queues")
        waiting = store.create_run(exp.id, compute="gpu")
        running = store.create_run(exp.id, compute="gpu")
        store.set_status(running.id, RunStatus.PREPARING, worker="box:1:2")
        store.set_status(running.id, RunStatus.RUNNING)
        store.heartbeat(running.id, worker="box:3:4")
        done = store.create_run(exp.id, compute="gpu")
        store.set_status(done.id, RunStatus.CANCELED)
        elsewhere = store.create_run(exp.id, compute="cpu")
        store.create_run(exp.id, status=RunStatus.RUNNING)  # no compute: not on a queue
        part = server_part(store)
        runs = part.queue_runs()
        assert [(r.id, r.compute, r.status) for r in runs] == [
            (waiting.id, "gpu", RunStatus.QUEUED),
            (running.id, "gpu", RunStatus.RUNNING),
            (elsewhere.id, "cpu", RunStatus.QUEUED),
        ]
        assert runs[1].worker == "box:3:4" and runs[1].heartbeat_at is not None
        assert [r.id for r in part.queue_runs("cpu")] == [elsewhere.id]
        assert part.queue_runs("none") == []
