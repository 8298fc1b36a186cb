"""The conformance suite of the published-pipelines part: versions under an endpoint with a
default, schedules, and the compare-and-set that lets exactly one scheduler claim a due time."""

from __future__ import annotations

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.base import Store
from trainyard.testing.store_suite_common import _new_run, _together

RECORD = {"job": {"type": "pipeline", "jobs": {"a": {"command": "echo hi"}}}, "snapshots": {"a": "s" * 64}}


def _schedule(store: Store, name: str = "nightly", **extra: object) -> object:
    fields: dict[str, object] = {
        "pipeline": "retrain",
        "trigger": "cron",
        "spec": "0 3 * * *",
        "next_fire": 1000.0,
    }
    fields.update(extra)
    return store.create_schedule(name, **fields)  # type: ignore[arg-type]


class PipelineSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_published_versions_count_up_under_one_endpoint_with_a_default(self, store: Store) -> None:
        one = store.publish_pipeline("retrain", RECORD, description="first")
        two = store.publish_pipeline("retrain", {**RECORD, "v": 2})
        assert (one.version, two.version, one.pipeline, two.description) == (1, 2, RECORD, None)
        endpoint = store.get_pipeline_endpoint("retrain")
        assert (endpoint.default_version, endpoint.latest_version, endpoint.description) == (1, 2, "first")
        assert store.get_published_pipeline("retrain").version == 1  # the default, not the newest
        assert store.get_published_pipeline("retrain", 2).pipeline == {**RECORD, "v": 2}
        assert store.set_pipeline_default("retrain", 2).default_version == 2
        assert store.get_published_pipeline("retrain").version == 2
        three = store.publish_pipeline("retrain", RECORD, make_default=True)
        assert store.get_pipeline_endpoint("retrain").default_version == three.version == 3
        assert [p.version for p in store.list_published_pipelines("retrain")] == [3, 2, 1]
        store.publish_pipeline("batch-score", RECORD)
        assert [e.name for e in store.list_pipeline_endpoints()] == ["batch-score", "retrain"]

    def test_published_pipeline_bad_names_and_missing_versions(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no published pipeline 'nope'"):
            store.get_published_pipeline("nope")
        with pytest.raises(NotFoundError):
            store.get_pipeline_endpoint("nope")
        with pytest.raises(NotFoundError):
            store.list_published_pipelines("nope")
        with pytest.raises(InvalidInputError, match="pipeline name"):
            store.publish_pipeline("a b", RECORD)
        store.publish_pipeline("retrain", RECORD)
        with pytest.raises(NotFoundError, match="version 4"):
            store.get_published_pipeline("retrain", 4)
        with pytest.raises(NotFoundError, match="version 4"):
            store.set_pipeline_default("retrain", 4)
        assert store.get_pipeline_endpoint("retrain").default_version == 1

    def test_concurrent_publishes_get_distinct_versions(self, store: Store) -> None:
        got = _together(5, lambda i: store.publish_pipeline("race", {**RECORD, "i": i}).version)
        assert sorted(got) == [1, 2, 3, 4, 5]
        assert store.get_pipeline_endpoint("race").latest_version == 5

    def test_schedules_are_created_listed_toggled_and_deleted(self, store: Store) -> None:
        store.publish_pipeline("retrain", RECORD)
        made = _schedule(store, inputs={"alpha": "0.5"}, missed="skip")
        _schedule(store, "watch", trigger="data", spec="data:churn", watermark="3", poll_seconds=30.0)
        got = store.get_schedule("nightly")
        assert got == made
        assert (got.pipeline, got.trigger, got.spec, got.inputs, got.missed, got.enabled, got.next_fire) == (
            "retrain",
            "cron",
            "0 3 * * *",
            {"alpha": "0.5"},
            "skip",
            True,
            1000.0,
        )
        watch = store.get_schedule("watch")
        assert (watch.watermark, watch.poll_seconds, watch.missed) == ("3", 30.0, "run-once")
        assert [s.name for s in store.list_schedules()] == ["nightly", "watch"]
        off = store.set_schedule_enabled("nightly", False)
        assert (off.enabled, off.next_fire) == (False, 1000.0)
        on = store.set_schedule_enabled("nightly", True, next_fire=5000.0)
        assert (on.enabled, on.next_fire) == (True, 5000.0)
        store.delete_schedule("nightly")
        assert [s.name for s in store.list_schedules()] == ["watch"]
        with pytest.raises(NotFoundError, match="no schedule 'nightly'"):
            store.get_schedule("nightly")
        with pytest.raises(NotFoundError):
            store.delete_schedule("nightly")

    def test_schedule_bad_input(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no published pipeline 'retrain'"):
            _schedule(store)
        store.publish_pipeline("retrain", RECORD)
        _schedule(store)
        with pytest.raises(AlreadyExistsError, match="nightly"):
            _schedule(store)
        with pytest.raises(InvalidInputError, match="trigger"):
            _schedule(store, "x", trigger="hourly")
        with pytest.raises(InvalidInputError, match="missed"):
            _schedule(store, "x", missed="always")
        with pytest.raises(InvalidInputError, match="schedule name"):
            _schedule(store, "a/b")
        with pytest.raises(NotFoundError):
            store.set_schedule_enabled("x", False)

    def test_a_due_time_is_claimed_once_and_its_firing_recorded(self, store: Store) -> None:
        store.publish_pipeline("retrain", RECORD)
        _schedule(store, next_fire=1000.5)
        first = store.claim_schedule_fire("nightly", due=1000.5, next_fire=2000.25, action="run", missed=2)
        assert first is not None and (first.schedule, first.due, first.action, first.missed) == (
            "nightly",
            1000.5,
            "run",
            2,
        )
        assert first.run_id is None and first.error is None
        again = store.claim_schedule_fire("nightly", due=1000.5, next_fire=2000.25, action="run")
        assert again is None
        assert store.get_schedule("nightly").next_fire == 2000.25
        run = _new_run(store)
        done = store.finish_schedule_firing(first.id, run_id=run.id)
        assert (done.id, done.run_id, done.error) == (first.id, run.id, None)
        skipped = store.claim_schedule_fire("nightly", due=2000.25, next_fire=3000.0, action="skip", missed=5)
        assert skipped is not None
        failed = store.finish_schedule_firing(skipped.id, error="no such input")
        assert failed.error == "no such input"
        assert [(f.due, f.action, f.run_id) for f in store.list_schedule_firings("nightly")] == [
            (2000.25, "skip", None),
            (1000.5, "run", run.id),
        ]
        assert len(store.list_schedule_firings("nightly", limit=1)) == 1
        store.set_schedule_enabled("nightly", False)
        assert store.claim_schedule_fire("nightly", due=3000.0, next_fire=4000.0, action="run") is None
        with pytest.raises(NotFoundError):
            store.list_schedule_firings("nope")
        with pytest.raises(InvalidInputError):
            store.claim_schedule_fire("nightly", due=3000.0, next_fire=4000.0, action="maybe")

    def test_a_claim_moves_the_watermark_with_the_due_time(self, store: Store) -> None:
        store.publish_pipeline("retrain", RECORD)
        _schedule(store, "watch", trigger="data", spec="data:churn", watermark="1", next_fire=10.0)
        assert store.claim_schedule_fire("watch", due=10.0, next_fire=40.0, action="run", watermark="2")
        assert store.claim_schedule_fire("watch", due=40.0, next_fire=70.0, action="skip") is not None
        got = store.get_schedule("watch")
        assert (got.next_fire, got.watermark) == (70.0, "2")

    def test_concurrent_claims_of_one_due_time_fire_once(self, store: Store) -> None:
        store.publish_pipeline("retrain", RECORD)
        _schedule(store, next_fire=1234.125)

        def claim(_: int) -> bool:
            return (
                store.claim_schedule_fire("nightly", due=1234.125, next_fire=9999.0, action="run") is not None
            )

        assert sorted(_together(6, claim)) == [False] * 5 + [True]
        assert len(store.list_schedule_firings("nightly")) == 1
