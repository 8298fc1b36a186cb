"""The Store conformance suite: every Store implementation must pass it unchanged.

Use it by subclassing in a test module that provides a ``store`` fixture::

    from trainyard.testing.store_suite import StoreSuite

    class TestMyStore(StoreSuite):
        pass
"""

from __future__ import annotations

import math
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainyard.errors import AlreadyExistsError, InvalidInputError, InvalidTransitionError, NotFoundError
from trainyard.status import ALLOWED, RunStatus
from trainyard.store import Metric, Store


def _metric(key: str, value: float, step: int = 0, ts: float | None = None) -> Metric:
    return Metric(key, value, step, time.time() if ts is None else ts)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _run_in(store: Store, status: RunStatus) -> str:
    """A run walked to ``status`` through allowed transitions."""
    exp = store.get_or_create_experiment("walk")
    run = store.create_run(exp.id)
    path = {
        RunStatus.QUEUED: [],
        RunStatus.PREPARING: [RunStatus.PREPARING],
        RunStatus.RUNNING: [RunStatus.PREPARING, RunStatus.RUNNING],
        RunStatus.COMPLETED: [RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.COMPLETED],
        RunStatus.FAILED: [RunStatus.FAILED],
        RunStatus.CANCELED: [RunStatus.CANCELED],
    }[status]
    for step in path:
        store.set_status(run.id, step)
    return run.id


class StoreSuite:
    # experiments -----------------------------------------------------------------------------
    def test_experiments(self, store: Store) -> None:
        exp = store.create_experiment("alpha", tags={"team": "a"})
        assert store.get_experiment(exp.id) == exp
        assert store.get_experiment_by_name("alpha") == exp
        assert store.get_experiment_by_name("missing") is None
        with pytest.raises(AlreadyExistsError):
            store.create_experiment("alpha")
        store.create_experiment("beta")
        assert [e.name for e in store.list_experiments()] == ["alpha", "beta"]
        with pytest.raises(NotFoundError):
            store.get_experiment("nope")

    def test_get_or_create_is_race_safe(self, store: Store) -> None:
        found: list[str] = []
        threads = [
            threading.Thread(target=lambda: found.append(store.get_or_create_experiment("race").id))
            for _ in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(found) == 6 and len(set(found)) == 1
        assert [e.name for e in store.list_experiments()] == ["race"]

    # runs ------------------------------------------------------------------------------------
    def test_runs_are_created_found_and_searched(self, store: Store) -> None:
        a = store.create_experiment("a")
        b = store.create_experiment("b")
        first = store.create_run(a.id, name="first", tags={"k": "v"}, job={"argv": ["python", "x.py"]})
        time.sleep(0.01)
        second = store.create_run(a.id, status=RunStatus.RUNNING)
        child = store.create_run(a.id, parent_id=second.id, status=RunStatus.RUNNING)
        other = store.create_run(b.id)
        got = store.get_run(first.id)
        assert got.name == "first" and got.tags == {"k": "v"} and got.job == {"argv": ["python", "x.py"]}
        assert got.status is RunStatus.QUEUED and got.start_time is None and got.attempt == 1
        assert store.get_run(second.id).start_time is not None
        assert [r.id for r in store.search_runs([a.id])][-1] == first.id  # newest first
        assert {r.id for r in store.search_runs([a.id])} == {first.id, second.id, child.id}
        assert [r.id for r in store.search_runs(parent_id=second.id)] == [child.id]
        assert {r.id for r in store.search_runs(statuses=[RunStatus.QUEUED])} == {first.id, other.id}
        assert len(store.search_runs(max_results=2)) == 2
        assert (store.count_runs(a.id), store.count_runs(b.id)) == (3, 1)
        with pytest.raises(NotFoundError):
            store.get_run("0" * 32)
        with pytest.raises(NotFoundError):
            store.create_run("no-such-experiment")

    def test_search_fills_params_tags_and_latest_metrics(self, store: Store) -> None:
        exp = store.create_experiment("fill")
        run = store.create_run(exp.id)
        store.log_batch(
            run.id,
            metrics=[_metric("loss", 0.5, 2), _metric("loss", 0.9, 1), _metric("acc", 0.7, 0)],
            params={"alpha": "0.1"},
            tags={"t": "1"},
        )
        (found,) = store.search_runs([exp.id])
        assert found.metrics == {"loss": 0.5, "acc": 0.7}
        assert found.params == {"alpha": "0.1"} and found.tags == {"t": "1"}

    # metrics ---------------------------------------------------------------------------------
    def test_metrics_append_and_sort_by_step_then_time(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("m").id)
        store.log_batch(run.id, metrics=[_metric("x", 3.0, 5, 30.0), _metric("x", 1.0, -2, 10.0)])
        store.log_batch(run.id, metrics=[_metric("x", 2.0, 5, 20.0), _metric("x", 1.0, -2, 10.0)])
        history = store.get_metric_history(run.id, "x")
        assert [(m.step, m.timestamp, m.value) for m in history] == [
            (-2, 10.0, 1.0),
            (-2, 10.0, 1.0),
            (5, 20.0, 2.0),
            (5, 30.0, 3.0),
        ]
        assert store.get_run(run.id).metrics["x"] == 3.0

    def test_non_finite_values_come_back_exactly(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("nf").id)
        values = [math.nan, math.inf, -math.inf, 1e308, -1e-308]
        store.log_batch(run.id, metrics=[_metric("v", v, i) for i, v in enumerate(values)])
        got = [m.value for m in store.get_metric_history(run.id, "v")]
        assert all(_same(a, b) for a, b in zip(got, values, strict=True))
        store.log_batch(run.id, metrics=[_metric("last", math.nan)])
        assert math.isnan(store.get_run(run.id).metrics["last"])

    def test_metric_names(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("names").id)
        store.log_batch(run.id, metrics=[_metric("train/loss", 1), _metric("précision ✓", 2)])
        assert {m.key for m in store.get_metric_history(run.id)} == {"train/loss", "précision ✓"}
        with pytest.raises(InvalidInputError, match="250"):
            store.log_batch(run.id, metrics=[_metric("k" * 251, 1)])

    def test_a_large_batch(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("big").id)
        store.log_batch(run.id, metrics=[_metric("v", float(i), i) for i in range(10_000)])
        history = store.get_metric_history(run.id, "v")
        assert len(history) == 10_000 and history[-1].value == 9999.0

    def test_logging_to_an_unknown_run_fails(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.log_batch("0" * 32, metrics=[_metric("x", 1)])

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        points=st.lists(
            st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000)),
            min_size=1,
            max_size=30,
        )
    )
    def test_history_is_every_value_sorted(self, store: Store, points: list[tuple[float, int]]) -> None:
        run = store.create_run(store.get_or_create_experiment("prop").id)
        metrics = [Metric("p", v, s, float(i)) for i, (v, s) in enumerate(points)]
        store.log_batch(run.id, metrics=metrics)
        history = store.get_metric_history(run.id, "p")
        expected = sorted(metrics, key=lambda m: (m.step, m.timestamp))
        assert [(m.step, m.timestamp) for m in history] == [(m.step, m.timestamp) for m in expected]
        assert all(_same(a.value, b.value) for a, b in zip(history, expected, strict=True))

    # params and tags -------------------------------------------------------------------------
    def test_params_are_write_once(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("p").id)
        store.log_batch(run.id, params={"alpha": "0.1"})
        store.log_batch(run.id, params={"alpha": "0.1"})
        with pytest.raises(InvalidInputError, match="cannot change"):
            store.log_batch(run.id, metrics=[_metric("m", 1)], params={"alpha": "0.2"}, tags={"t": "x"})
        info = store.get_run(run.id)
        assert info.params == {"alpha": "0.1"} and info.tags == {} and info.metrics == {}

    def test_tags_overwrite_and_delete(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("t").id, tags={"a": "1"})
        store.log_batch(run.id, tags={"a": "2", "b": "3"})
        assert store.get_run(run.id).tags == {"a": "2", "b": "3"}
        store.delete_tag(run.id, "a")
        assert store.get_run(run.id).tags == {"b": "3"}
        with pytest.raises(InvalidInputError, match="limit"):
            store.log_batch(run.id, tags={"huge": "x" * 10_000_000})
        assert store.get_run(run.id).tags == {"b": "3"}

    # statuses --------------------------------------------------------------------------------
    def test_lifecycle_sets_times(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        assert store.get_run(run_id).start_time is not None and store.get_run(run_id).end_time is None
        assert store.set_status(run_id, RunStatus.COMPLETED, exit_code=0)
        info = store.get_run(run_id)
        assert info.status is RunStatus.COMPLETED and info.end_time >= info.start_time and info.exit_code == 0

    @pytest.mark.parametrize("current", list(RunStatus))
    def test_illegal_transitions_are_refused(self, store: Store, current: RunStatus) -> None:
        for target in RunStatus:
            if target in ALLOWED[current] or target == current and not current.is_terminal:
                continue
            run_id = _run_in(store, current)
            with pytest.raises(InvalidTransitionError):
                store.set_status(run_id, target)
            assert store.get_run(run_id).status is current

    def test_compare_and_set(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        assert not store.set_status(run_id, RunStatus.FAILED, expected=RunStatus.PREPARING)
        assert store.get_run(run_id).status is RunStatus.RUNNING
        assert store.set_status(run_id, RunStatus.COMPLETED, expected=RunStatus.RUNNING)
        assert not store.set_status(run_id, RunStatus.FAILED, error="late", expected=RunStatus.COMPLETED)
        info = store.get_run(run_id)
        assert info.status is RunStatus.COMPLETED and info.error is None

    def test_requeue_counts_the_attempt(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        assert store.requeue(run_id, RunStatus.RUNNING, "worker lost")
        info = store.get_run(run_id)
        assert info.status is RunStatus.QUEUED and info.attempt == 2 and info.error == "worker lost"
        assert not store.requeue(run_id, RunStatus.RUNNING, "again")

    def test_heartbeat_and_cancel(self, store: Store) -> None:
        queued = _run_in(store, RunStatus.QUEUED)
        assert store.request_cancel(queued).status is RunStatus.CANCELED
        running = _run_in(store, RunStatus.RUNNING)
        assert store.heartbeat(running, "host:1:2") is False
        assert store.get_run(running).worker == "host:1:2"
        info = store.request_cancel(running)
        assert info.cancel_requested and info.status is RunStatus.RUNNING
        assert store.heartbeat(running) is True
        done = _run_in(store, RunStatus.COMPLETED)
        with pytest.raises(InvalidTransitionError, match="already completed"):
            store.request_cancel(done)

    def test_run_error(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.set_run_error(run_id, "bad data")
        assert store.get_run(run_id).error == "bad data"
        store.set_run_error(run_id, None)
        assert store.get_run(run_id).error is None

    # environments ----------------------------------------------------------------------------
    def test_environments_are_versioned_by_spec(self, store: Store) -> None:
        one = store.register_environment("sk", {"requirements": ["a"]}, "h1")
        assert store.register_environment("sk", {"requirements": ["a"]}, "h1").version == one.version == 1
        two = store.register_environment("sk", {"requirements": ["b"]}, "h2")
        assert two.version == 2
        assert store.get_environment("sk").spec_hash == "h2"
        assert store.get_environment("sk", 1).spec == {"requirements": ["a"]}
        with pytest.raises(NotFoundError):
            store.get_environment("sk", 9)
        with pytest.raises(NotFoundError):
            store.get_environment("nope")
        assert [(e.name, e.version) for e in store.list_environments()] == [("sk", 1), ("sk", 2)]
