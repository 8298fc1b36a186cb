"""The conformance suite of the server-only part: idempotent creates and the agents' queue.

The ``store`` fixture gives a store implementing both ``Store`` and ``ServerStore`` (SqlStore);
users and tokens are checked by the server's auth tests, which need a running server.
"""

from __future__ import annotations

from typing import Any

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError
from trainyard.status import RunStatus
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
