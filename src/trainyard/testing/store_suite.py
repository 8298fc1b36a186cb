"""The Store conformance suite: every Store implementation must pass it unchanged.

Modelled on Optuna's ``optuna.testing.pytest_storages``. Use it by subclassing in a test module
that provides a ``store`` fixture giving a fresh, empty store for each test::

    import pytest
    from trainyard.testing.store_suite import StoreSuite

    @pytest.fixture
    def store(tmp_path):
        s = MyStore(...)
        yield s
        s.close()

    class TestMyStore(StoreSuite):
        pass

The tests talk to the store only through the ``trainyard.store.Store`` interface, so the same
suite checks ``SqlStore`` on SQLite and PostgreSQL and any later implementation. A few tests
share one store between threads, as the contract allows. The property tests keep
``max_examples`` small since every example writes to a real database; they reuse the test's
store, each example in a run of its own.

Needs pytest and hypothesis (trainyard's ``dev`` extra).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainyard.errors import AlreadyExistsError, InvalidInputError, InvalidTransitionError, NotFoundError
from trainyard.limits import MAX_KEY_LENGTH
from trainyard.status import ALLOWED, TERMINAL, RunStatus
from trainyard.store.base import Metric, RunInfo, Store
from trainyard.testing.store_suite_updates import UpdateSuite

UNKNOWN_ID = "0" * 32

# A path of allowed transitions from QUEUED to each status.
PATHS: dict[RunStatus, list[RunStatus]] = {
    RunStatus.QUEUED: [],
    RunStatus.PREPARING: [RunStatus.PREPARING],
    RunStatus.RUNNING: [RunStatus.PREPARING, RunStatus.RUNNING],
    RunStatus.COMPLETED: [RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.COMPLETED],
    RunStatus.FAILED: [RunStatus.PREPARING, RunStatus.FAILED],
    RunStatus.CANCELED: [RunStatus.CANCELED],
}

# Every move the table forbids. Setting a non-terminal run to the status it already has is a
# no-op for SqlStore (a repeated request), not a move, so it is left out; a terminal run
# "moving" to its own status is a change of a finished run and is refused like any other.
ILLEGAL: list[tuple[RunStatus, RunStatus]] = [
    (current, target)
    for current in RunStatus
    for target in RunStatus
    if target not in ALLOWED[current] and (target != current or current.is_terminal)
]
assert ILLEGAL, "the transition table forbids nothing: the status tests would check nothing"

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _metric(key: str, value: float, step: int = 0, ts: float | None = None) -> Metric:
    return Metric(key, value, step, time.time() if ts is None else ts)


def _same(a: float, b: float) -> bool:
    """Equal, with NaN equal to NaN (and nothing else)."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def _canon(value: float) -> Any:
    """A hashable form of a float in which NaN equals NaN: for multisets of values."""
    return "nan" if math.isnan(value) else value


def _new_run(store: Store, experiment: str = "suite", **kwargs: Any) -> RunInfo:
    return store.create_run(store.get_or_create_experiment(experiment).id, **kwargs)


def _run_in(store: Store, status: RunStatus) -> str:
    """A fresh run walked to ``status`` through allowed transitions."""
    run = _new_run(store, "walk")
    for step in PATHS[status]:
        assert store.set_status(run.id, step), f"could not move a run to {step}"
    assert store.get_run(run.id).status is status
    return run.id


def _together(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Call ``fn(0..n-1)`` on ``n`` threads released at once; re-raise the first error."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def _unchanged(before: RunInfo, after: RunInfo) -> None:
    """Nothing about the run changed (the heartbeat aside)."""
    fields = ("status", "start_time", "end_time", "error", "exit_code", "worker", "attempt")
    fields += ("cancel_requested", "tags", "params", "metrics")
    for name in fields:
        assert getattr(after, name) == getattr(before, name), f"{name} changed"


class StoreSuite(UpdateSuite):
    """Subclass in a module that provides a ``store`` fixture (a fresh, empty Store)."""

    # experiments -----------------------------------------------------------------------------
    def test_create_and_get_experiment(self, store: Store) -> None:
        before = time.time()
        exp = store.create_experiment("alpha", tags={"team": "vision", "note": "ünï/code"})
        assert exp.name == "alpha" and exp.tags == {"team": "vision", "note": "ünï/code"}
        assert before - 1 <= exp.created_at <= time.time() + 1
        assert store.get_experiment(exp.id) == exp
        assert store.get_experiment_by_name("alpha") == exp
        assert store.get_experiment_by_name("missing") is None
        with pytest.raises(NotFoundError):
            store.get_experiment(UNKNOWN_ID)

    def test_duplicate_experiment_name_is_refused(self, store: Store) -> None:
        exp = store.create_experiment("alpha")
        with pytest.raises(AlreadyExistsError, match="alpha"):
            store.create_experiment("alpha", tags={"other": "1"})
        assert store.list_experiments() == [exp]

    @pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_KEY_LENGTH + 1)])
    def test_bad_experiment_names_are_refused(self, store: Store, name: str) -> None:
        with pytest.raises(InvalidInputError):
            store.create_experiment(name)
        assert store.list_experiments() == []

    def test_list_experiments(self, store: Store) -> None:
        assert store.list_experiments() == []
        created = [store.create_experiment(n) for n in ("a", "b", "c/d", "é")]
        listed = store.list_experiments()
        assert len(listed) == 4 and sorted(listed, key=lambda e: e.id) == sorted(created, key=lambda e: e.id)

    def test_get_or_create_experiment(self, store: Store) -> None:
        made = store.get_or_create_experiment("gc")
        assert store.get_or_create_experiment("gc") == made
        assert store.list_experiments() == [made]

    def test_get_or_create_is_race_safe(self, store: Store) -> None:
        found = _together(8, lambda _: store.get_or_create_experiment("race"))
        assert len({e.id for e in found}) == 1
        assert [e.name for e in store.list_experiments()] == ["race"]

    # runs ------------------------------------------------------------------------------------
    def test_create_and_get_run(self, store: Store) -> None:
        exp = store.create_experiment("runs")
        job = {"argv": ["python", "train.py", "--lr", "0.1"], "env": {"A": "1"}, "n": 3}
        before = time.time()
        run = store.create_run(
            exp.id,
            name="first",
            compute="local",
            job=job,
            snapshot_id="snap1",
            environment="sk:2",
            tags={"k": "v"},
        )
        got = store.get_run(run.id)
        assert got == run
        assert (got.experiment_id, got.name, got.parent_id) == (exp.id, "first", None)
        assert (got.compute, got.job, got.snapshot_id, got.environment) == ("local", job, "snap1", "sk:2")
        assert got.status is RunStatus.QUEUED and got.attempt == 1 and not got.cancel_requested
        assert got.start_time is None and got.end_time is None and got.error is None
        assert got.tags == {"k": "v"} and got.params == {} and got.metrics == {}
        assert before - 1 <= got.created_at <= time.time() + 1
        unnamed = store.create_run(exp.id)
        assert unnamed.name and unnamed.id != run.id

    def test_run_created_running_has_a_start_time(self, store: Store) -> None:
        run = _new_run(store, status=RunStatus.RUNNING)
        got = store.get_run(run.id)
        assert got.status is RunStatus.RUNNING and got.start_time is not None and got.end_time is None

    def test_unknown_ids_are_not_found(self, store: Store) -> None:
        exp = store.create_experiment("nf")
        with pytest.raises(NotFoundError):
            store.get_run(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.create_run(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.create_run(exp.id, parent_id=UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.set_status(UNKNOWN_ID, RunStatus.RUNNING)
        with pytest.raises(NotFoundError):
            store.request_cancel(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.log_batch(UNKNOWN_ID, metrics=[_metric("x", 1.0)])
        with pytest.raises(NotFoundError):
            store.get_metric_history(UNKNOWN_ID)
        assert store.search_runs() == [] and store.count_runs(exp.id) == 0

    def test_parent_and_children(self, store: Store) -> None:
        exp = store.create_experiment("sweep")
        parent = store.create_run(exp.id, status=RunStatus.RUNNING)
        children = []
        for _ in range(3):
            time.sleep(0.002)
            children.append(store.create_run(exp.id, parent_id=parent.id))
        other_parent = store.create_run(exp.id)
        assert all(store.get_run(c.id).parent_id == parent.id for c in children)
        assert [r.id for r in store.search_runs(parent_id=parent.id)] == [c.id for c in reversed(children)]
        assert store.search_runs(parent_id=other_parent.id) == []
        assert store.count_runs(exp.id) == 5  # children count too

    def test_search_runs_filters_newest_first(self, store: Store) -> None:
        a = store.create_experiment("a")
        b = store.create_experiment("b")
        made: list[RunInfo] = []
        for i in range(6):
            time.sleep(0.002)  # distinct creation times
            made.append(store.create_run((a if i % 3 else b).id, name=f"r{i}"))
        store.set_status(made[1].id, RunStatus.RUNNING)
        store.set_status(made[2].id, RunStatus.CANCELED)
        store.set_status(made[4].id, RunStatus.RUNNING)
        newest_first = [r.id for r in reversed(made)]
        in_a = [r.id for r in reversed(made) if r.experiment_id == a.id]

        def ids(*args: Any, **kwargs: Any) -> list[str]:
            return [r.id for r in store.search_runs(*args, **kwargs)]

        assert ids() == newest_first
        assert ids([a.id]) == in_a and len(in_a) == 4
        assert ids([a.id, b.id]) == newest_first
        assert ids([UNKNOWN_ID]) == []
        assert ids(statuses=[RunStatus.RUNNING]) == [made[4].id, made[1].id]
        assert ids(statuses=[RunStatus.QUEUED, RunStatus.CANCELED]) == [
            made[5].id,
            made[3].id,
            made[2].id,
            made[0].id,
        ]
        assert ids([b.id], statuses=[RunStatus.QUEUED]) == [made[3].id, made[0].id]
        assert ids(max_results=2) == newest_first[:2]
        assert ids([a.id], max_results=3) == in_a[:3]
        assert ids(max_results=100) == newest_first
        assert (store.count_runs(a.id), store.count_runs(b.id)) == (4, 2)

    def test_search_fills_params_tags_and_latest_metrics(self, store: Store) -> None:
        exp = store.create_experiment("fill")
        run = store.create_run(exp.id, tags={"created": "yes"})
        bare = store.create_run(exp.id)
        store.log_batch(
            run.id,
            metrics=[_metric("loss", 0.5, 2, 1.0), _metric("loss", 0.9, 1, 2.0), _metric("acc", 0.7, 0)],
            params={"alpha": "0.1", "layers": "3"},
            tags={"t": "1"},
        )
        found = {r.id: r for r in store.search_runs([exp.id])}
        assert found[run.id].metrics == {"loss": 0.5, "acc": 0.7}
        assert found[run.id].params == {"alpha": "0.1", "layers": "3"}
        assert found[run.id].tags == {"created": "yes", "t": "1"}
        assert (found[bare.id].metrics, found[bare.id].params, found[bare.id].tags) == ({}, {}, {})
        assert found[run.id] == store.get_run(run.id)

    # search grammar (MLflow's filter_string, order_by, page tokens) ------------------------------
    def _search_fixture(self, store: Store) -> tuple[str, list[RunInfo]]:
        """Six runs: rmse 0.5..0.0 (r5 has NaN, r4 none), alpha 'a0'/'A1', tags, two statuses."""
        exp = store.create_experiment("grammar")
        runs = []
        for i in range(6):
            time.sleep(0.002)
            run = store.create_run(exp.id, name=f"r{i}", tags={"team": "vision" if i % 2 else "nlp"})
            metrics = [] if i == 4 else [_metric("rmse", math.nan if i == 5 else 0.5 - i / 10)]
            store.log_batch(run.id, metrics=metrics, params={"alpha": f"a{i}" if i % 2 == 0 else f"A{i}"})
            runs.append(run)
        store.set_status(runs[1].id, RunStatus.RUNNING)
        store.set_status(runs[1].id, RunStatus.COMPLETED)
        store.set_status(runs[2].id, RunStatus.CANCELED)
        return exp.id, runs

    def test_search_filter_string(self, store: Store) -> None:
        exp, r = self._search_fixture(store)

        def names(flt: str, **kwargs: Any) -> set[str]:
            return {x.name for x in store.search_runs([exp], filter_string=flt, **kwargs)}

        assert names("metrics.rmse < 0.25") == {"r3"}  # NaN and a missing metric never match
        assert names("metrics.rmse >= 0.3 and tags.team = 'nlp'") == {"r0", "r2"}
        assert names("metric.rmse != 0.5") == {"r1", "r2", "r3"}
        assert names("params.alpha = 'a2'") == {"r2"}
        assert names("params.alpha LIKE 'a%'") == {"r0", "r2", "r4"}  # LIKE is case-sensitive
        assert names("params.alpha ILIKE 'a%'") == {f"r{i}" for i in range(6)}
        assert names("tags.`team` IN ('vision') and params.alpha != 'A1'") == {"r3", "r5"}
        assert names("attributes.status = 'completed'") == {"r1"}
        assert names("attributes.status = 'FINISHED'") == {"r1"}  # MLflow's name for completed
        assert names("status NOT IN ('queued')") == {"r1", "r2"}
        assert names("attributes.run_name = 'r4' and params.alpha = 'a4'") == {"r4"}
        assert names(f"attributes.run_id IN ('{r[0].id}', '{r[3].id}')") == {"r0", "r3"}
        assert names("metrics.rmse > -1e9", statuses=[RunStatus.QUEUED]) == {"r0", "r3"}
        assert names("  ") == {f"r{i}" for i in range(6)}
        for bad in (
            "metrics.rmse <",
            "metrics.rmse < 'x'",
            "params.alpha < 1",
            "metrics.rmse < 1 or metrics.rmse > 2",
            "attributes.colour = 'red'",
            "status = 'sleeping'",
            "params.alpha = 'unterminated",
        ):
            with pytest.raises(InvalidInputError):
                store.search_runs([exp], filter_string=bad)

    def test_search_order_by_and_pages(self, store: Store) -> None:
        exp, r = self._search_fixture(store)

        def names(order: list[str]) -> list[str]:
            return [x.name for x in store.search_runs([exp], order_by=order)]

        assert names(["metrics.rmse DESC"]) == ["r0", "r1", "r2", "r3", "r5", "r4"]  # missing last
        assert names(["metrics.rmse"]) == ["r3", "r2", "r1", "r0", "r5", "r4"]
        assert names(["params.alpha ASC"]) == ["r1", "r3", "r5", "r0", "r2", "r4"]
        assert names(["tags.team", "attributes.run_name DESC"]) == ["r4", "r2", "r0", "r5", "r3", "r1"]
        assert names(["attributes.start_time DESC"])[0] == "r1"  # the only run that started
        assert names([]) == [f"r{i}" for i in reversed(range(6))]
        with pytest.raises(InvalidInputError):
            store.search_runs([exp], order_by=["metrics.rmse SIDEWAYS"])

        pages, token = [], None
        while True:
            page = store.search_runs([exp], order_by=["metrics.rmse DESC"], max_results=4, page_token=token)
            pages.append([x.name for x in page])
            token = page.next_page_token
            if token is None:
                break
        assert pages == [["r0", "r1", "r2", "r3"], ["r5", "r4"]]
        exact = store.search_runs([exp], max_results=6)
        assert len(exact) == 6 and exact.next_page_token is None
        for bad_token in ("not-a-token", "e30="):
            with pytest.raises(InvalidInputError):
                store.search_runs([exp], max_results=2, page_token=bad_token)
        with pytest.raises(InvalidInputError):
            store.search_runs([exp], max_results=0)

    # metrics ---------------------------------------------------------------------------------
    def test_metrics_append_and_are_never_overwritten(self, store: Store) -> None:
        run = _new_run(store)
        store.log_metric(run.id, _metric("x", 1.0, 0, 10.0))
        store.log_metric(run.id, _metric("x", 2.0, 0, 10.0))  # same key, step and time
        store.log_batch(run.id, metrics=[_metric("x", 3.0, 0, 11.0), _metric("x", 3.0, 0, 11.0)])
        values = [m.value for m in store.get_metric_history(run.id, "x")]
        assert sorted(values) == [1.0, 2.0, 3.0, 3.0]

    def test_history_sorted_by_step_then_time_when_logged_out_of_order(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(run.id, metrics=[_metric("x", 3.0, 5, 30.0), _metric("x", 1.0, -2, 10.0)])
        store.log_batch(run.id, metrics=[_metric("x", 2.0, 5, 20.0), _metric("x", 0.0, -7, 40.0)])
        store.log_batch(run.id, metrics=[_metric("x", 4.0, 0, 5.0)])
        history = store.get_metric_history(run.id, "x")
        assert [(m.key, m.step, m.timestamp, m.value) for m in history] == [
            ("x", -7, 40.0, 0.0),
            ("x", -2, 10.0, 1.0),
            ("x", 0, 5.0, 4.0),
            ("x", 5, 20.0, 2.0),
            ("x", 5, 30.0, 3.0),
        ]

    def test_history_of_every_key_is_sorted_by_key_first(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(
            run.id,
            metrics=[_metric("b", 1.0, 1, 1.0), _metric("a", 2.0, 2, 1.0), _metric("b", 3.0, 0, 2.0)],
        )
        other = _new_run(store)
        store.log_batch(other.id, metrics=[_metric("a", 9.0, 0)])
        history = store.get_metric_history(run.id)
        assert [(m.key, m.step) for m in history] == [("a", 2), ("b", 0), ("b", 1)]
        assert store.get_metric_history(run.id, "nothing") == []
        assert [m.value for m in store.get_metric_history(other.id)] == [9.0]

    def test_negative_steps(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(run.id, metrics=[_metric("w", float(s), s) for s in (0, -1, -5, -(2**40), 2**40)])
        assert [m.step for m in store.get_metric_history(run.id, "w")] == [-(2**40), -5, -1, 0, 2**40]
        assert store.get_run(run.id).metrics["w"] == float(2**40)

    def test_non_finite_values_come_back_exactly(self, store: Store) -> None:
        run = _new_run(store)
        values = [math.nan, math.inf, -math.inf, 1e308, -1e-308, 5e-324, 0.1, -0.0, 1 / 3]
        store.log_batch(run.id, metrics=[_metric("v", v, i) for i, v in enumerate(values)])
        got = [m.value for m in store.get_metric_history(run.id, "v")]
        assert len(got) == len(values)
        for a, b in zip(got, values, strict=True):
            assert _same(a, b), (a, b)
        for key, value in (("nan", math.nan), ("pinf", math.inf), ("ninf", -math.inf)):
            store.log_batch(run.id, metrics=[_metric(key, 1.0, 0), _metric(key, value, 1)])
            latest = store.get_run(run.id).metrics[key]
            assert _same(latest, value), (key, latest)
            assert _same(store.get_metric_history(run.id, key)[-1].value, value)

    def test_latest_metric_is_the_highest_step(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(run.id, metrics=[_metric("m", 10.0, 10, 100.0)])
        store.log_batch(run.id, metrics=[_metric("m", 3.0, 3, 200.0)])  # later, but a lower step
        assert store.get_run(run.id).metrics == {"m": 10.0}
        store.log_batch(run.id, metrics=[_metric("m", 11.0, 10, 300.0)])  # same step, newer
        assert store.get_run(run.id).metrics == {"m": 11.0}
        store.log_batch(run.id, metrics=[_metric("m", 9.0, 10, 50.0)])  # same step, older
        assert store.get_run(run.id).metrics == {"m": 11.0}
        store.log_batch(run.id, metrics=[_metric("m", 12.0, 12, 1.0), _metric("m", -1.0, 11, 400.0)])
        assert store.get_run(run.id).metrics == {"m": 12.0}
        assert len(store.get_metric_history(run.id, "m")) == 6

    def test_metric_names(self, store: Store) -> None:
        run = _new_run(store)
        names = ["train/loss", "val/acc@1", "précision ✓", "损失", "a" * MAX_KEY_LENGTH]
        store.log_batch(run.id, metrics=[_metric(n, float(i)) for i, n in enumerate(names)])
        assert {m.key: m.value for m in store.get_metric_history(run.id)} == {
            n: float(i) for i, n in enumerate(names)
        }
        assert store.get_metric_history(run.id, "train/loss")[0].value == 0.0
        assert set(store.get_run(run.id).metrics) == set(names)

    @pytest.mark.parametrize("key", ["k" * (MAX_KEY_LENGTH + 1), "", "nul\x00byte"])
    def test_bad_metric_names_are_refused_and_nothing_is_written(self, store: Store, key: str) -> None:
        run = _new_run(store)
        with pytest.raises(InvalidInputError):
            store.log_batch(
                run.id, metrics=[_metric("fine", 1.0), _metric(key, 1.0)], params={"p": "1"}, tags={"t": "1"}
            )
        info = store.get_run(run.id)
        assert store.get_metric_history(run.id) == [] and info.metrics == {}
        assert info.params == {} and info.tags == {}

    def test_a_batch_of_ten_thousand_metrics(self, store: Store) -> None:
        run = _new_run(store)
        n = 10_000
        keys = ("loss", "acc")
        metrics = [_metric(keys[i % 2], float(i) / 7, n - i, 1000.0 + i) for i in range(n)]
        store.log_batch(run.id, metrics=metrics)
        history = store.get_metric_history(run.id)
        assert len(history) == n
        assert Counter((m.key, m.step, m.value) for m in history) == Counter(
            (m.key, m.step, m.value) for m in metrics
        )
        assert history == sorted(history, key=lambda m: (m.key, m.step, m.timestamp))
        # highest step of each key: i = 0 for "loss", i = 1 for "acc"
        assert store.get_run(run.id).metrics == {"loss": 0.0, "acc": 1 / 7}

    @PROPERTY_SETTINGS
    @given(
        points=st.lists(
            st.tuples(
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-(2**53), 2**53) | st.integers(-3, 3),
                st.sampled_from([0.0, 1.0, 1.5]) | st.floats(0, 4e9),
            ),
            min_size=1,
            max_size=40,
        ),
        batches=st.integers(1, 4),
    )
    def test_history_is_every_value_sorted_whatever_the_order(
        self, store: Store, points: list[tuple[float, int, float]], batches: int
    ) -> None:
        run = _new_run(store, "property")
        metrics = [Metric("p", v, s, t) for v, s, t in points]
        for b in range(batches):
            chunk = metrics[b::batches]
            if chunk:
                store.log_batch(run.id, metrics=chunk)
        history = store.get_metric_history(run.id, "p")
        order = [(m.step, m.timestamp) for m in history]
        assert order == sorted(order)
        assert Counter((m.step, m.timestamp, _canon(m.value)) for m in history) == Counter(
            (m.step, m.timestamp, _canon(m.value)) for m in metrics
        )
        newest = max((m.step, m.timestamp) for m in metrics)
        candidates = [m.value for m in metrics if (m.step, m.timestamp) == newest]
        latest = store.get_run(run.id).metrics["p"]
        assert any(_same(latest, c) for c in candidates), (latest, candidates)

    def test_threads_sharing_a_store_log_to_one_run(self, store: Store) -> None:
        run = _new_run(store)
        n_threads, n_batches = 4, 15

        def log(i: int) -> None:
            for j in range(n_batches):
                step = j * n_threads + i
                store.log_batch(
                    run.id,
                    metrics=[_metric("shared", float(step), step), _metric(f"own{i}", float(j), j)],
                    params={"same": "1"},
                    tags={"last": str(i)},
                )

        _together(n_threads, log)
        history = store.get_metric_history(run.id)
        assert len(history) == n_threads * n_batches * 2
        top = n_threads * n_batches - 1
        info = store.get_run(run.id)
        assert info.metrics == {"shared": float(top)} | {f"own{i}": n_batches - 1.0 for i in range(n_threads)}
        assert info.params == {"same": "1"} and info.tags["last"] in {str(i) for i in range(n_threads)}

    # params ----------------------------------------------------------------------------------
    def test_params_are_write_once(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(run.id, params={"alpha": "0.1", "name": "ü/x"})
        store.log_batch(run.id, params={"alpha": "0.1"})  # the same value again is fine
        assert store.get_run(run.id).params == {"alpha": "0.1", "name": "ü/x"}
        with pytest.raises(InvalidInputError, match="alpha"):
            store.log_batch(
                run.id,
                metrics=[_metric("m", 1.0)],
                params={"beta": "new", "alpha": "0.2"},
                tags={"t": "x"},
            )
        info = store.get_run(run.id)
        assert info.params == {"alpha": "0.1", "name": "ü/x"}
        assert info.tags == {} and info.metrics == {} and store.get_metric_history(run.id) == []

    def test_params_are_per_run(self, store: Store) -> None:
        one, two = _new_run(store), _new_run(store)
        store.log_batch(one.id, params={"lr": "0.1"})
        store.log_batch(two.id, params={"lr": "0.2"})
        assert (store.get_run(one.id).params, store.get_run(two.id).params) == ({"lr": "0.1"}, {"lr": "0.2"})

    # tags ------------------------------------------------------------------------------------
    def test_tags_overwrite_and_delete(self, store: Store) -> None:
        run = _new_run(store, tags={"a": "1"})
        store.log_batch(run.id, tags={"a": "2", "b": "3"})
        assert store.get_run(run.id).tags == {"a": "2", "b": "3"}
        store.log_batch(run.id, tags={"a": "4"})
        assert store.get_run(run.id).tags == {"a": "4", "b": "3"}
        store.delete_tag(run.id, "a")
        assert store.get_run(run.id).tags == {"b": "3"}
        store.delete_tag(run.id, "never-set")
        assert store.get_run(run.id).tags == {"b": "3"}

    def test_a_huge_tag_is_refused_and_nothing_is_written(self, store: Store) -> None:
        run = _new_run(store, tags={"b": "3"})
        with pytest.raises(InvalidInputError, match="limit"):
            store.log_batch(
                run.id,
                metrics=[_metric("m", 1.0)],
                params={"p": "1"},
                tags={"b": "changed", "huge": "x" * 10_000_000},
            )
        info = store.get_run(run.id)
        assert info.tags == {"b": "3"} and info.params == {} and info.metrics == {}
        assert store.get_metric_history(run.id) == []

    # statuses --------------------------------------------------------------------------------
    def test_lifecycle_sets_start_and_end_times(self, store: Store) -> None:
        run = _new_run(store)
        assert store.set_status(run.id, RunStatus.PREPARING, worker="host:1:100")
        info = store.get_run(run.id)
        assert info.status is RunStatus.PREPARING and info.end_time is None and info.worker == "host:1:100"
        assert store.set_status(run.id, RunStatus.RUNNING)
        info = store.get_run(run.id)
        assert info.status is RunStatus.RUNNING and info.start_time is not None and info.end_time is None
        started = info.start_time
        time.sleep(0.01)
        assert store.set_status(run.id, RunStatus.COMPLETED, exit_code=0)
        info = store.get_run(run.id)
        assert info.status is RunStatus.COMPLETED and info.exit_code == 0
        assert info.start_time == started and info.end_time is not None and info.end_time > started
        assert info.duration is not None and info.duration > 0

    def test_failure_records_error_and_exit_code(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        assert store.set_status(run_id, RunStatus.FAILED, error="Traceback …\nValueError", exit_code=3)
        info = store.get_run(run_id)
        assert (info.status, info.error, info.exit_code) == (RunStatus.FAILED, "Traceback …\nValueError", 3)
        assert info.end_time is not None

    @pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=[f"{c.value}-{t.value}" for c, t in ILLEGAL])
    def test_illegal_transitions_are_refused(
        self, store: Store, current: RunStatus, target: RunStatus
    ) -> None:
        run_id = _run_in(store, current)
        before = store.get_run(run_id)
        with pytest.raises(InvalidTransitionError):
            store.set_status(run_id, target, error="should not be written", exit_code=9)
        _unchanged(before, store.get_run(run_id))

    @pytest.mark.parametrize("current", sorted(TERMINAL, key=lambda s: s.value))
    def test_terminal_runs_never_change_under_compare_and_set(self, store: Store, current: RunStatus) -> None:
        run_id = _run_in(store, current)
        before = store.get_run(run_id)
        for target in RunStatus:
            for expected in RunStatus:
                assert store.set_status(run_id, target, error="late", exit_code=1, expected=expected) is False
        _unchanged(before, store.get_run(run_id))

    def test_compare_and_set_when_the_run_moved_on(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        before = store.get_run(run_id)
        for stale in (RunStatus.QUEUED, RunStatus.PREPARING):
            assert store.set_status(run_id, RunStatus.FAILED, error="stale", expected=stale) is False
        _unchanged(before, store.get_run(run_id))
        with pytest.raises(InvalidTransitionError):  # expected matches, but the move is illegal
            store.set_status(run_id, RunStatus.PREPARING, expected=RunStatus.RUNNING)
        _unchanged(before, store.get_run(run_id))
        assert store.set_status(run_id, RunStatus.COMPLETED, expected=RunStatus.RUNNING) is True
        assert store.get_run(run_id).status is RunStatus.COMPLETED

    def test_compare_and_set_has_exactly_one_winner(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.QUEUED)
        won = _together(
            6,
            lambda i: store.set_status(
                run_id, RunStatus.PREPARING, expected=RunStatus.QUEUED, worker=f"w{i}"
            ),
        )
        assert won.count(True) == 1, won
        info = store.get_run(run_id)
        assert info.status is RunStatus.PREPARING and info.worker == f"w{won.index(True)}"

    def test_requeue_counts_the_attempt(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        assert store.requeue(run_id, RunStatus.RUNNING, "worker lost") is True
        info = store.get_run(run_id)
        assert (info.status, info.attempt, info.error) == (RunStatus.QUEUED, 2, "worker lost")
        assert store.requeue(run_id, RunStatus.RUNNING, "again") is False  # it is queued now
        assert store.get_run(run_id).attempt == 2
        assert store.set_status(run_id, RunStatus.PREPARING)
        assert store.requeue(run_id, RunStatus.PREPARING, "lost while preparing") is True
        assert store.get_run(run_id).attempt == 3
        assert store.set_status(run_id, RunStatus.RUNNING)
        assert store.set_status(run_id, RunStatus.COMPLETED)
        before = store.get_run(run_id)
        assert store.requeue(run_id, RunStatus.RUNNING, "too late") is False
        with pytest.raises(InvalidTransitionError):
            store.requeue(run_id, RunStatus.COMPLETED, "a finished run is not requeued")
        _unchanged(before, store.get_run(run_id))

    def test_heartbeat_returns_cancel_requested(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        first = store.get_run(run_id).heartbeat_at
        time.sleep(0.01)
        assert store.heartbeat(run_id, "host:1:2") is False
        info = store.get_run(run_id)
        assert info.worker == "host:1:2" and info.heartbeat_at is not None
        assert first is None or info.heartbeat_at > first
        assert store.heartbeat(run_id) is False and store.get_run(run_id).worker == "host:1:2"
        store.request_cancel(run_id)
        assert store.heartbeat(run_id) is True

    def test_cancel_a_queued_run_at_once(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.QUEUED)
        info = store.request_cancel(run_id)
        assert info.status is RunStatus.CANCELED and info.end_time is not None
        assert info.cancel_reason is None and store.get_run(run_id) == info

    def test_cancel_keeps_its_reason(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        info = store.request_cancel(run_id, "early termination: below the median at step 3")
        assert info.cancel_reason == "early termination: below the median at step 3"
        assert store.get_run(run_id).cancel_reason == info.cancel_reason and info.error is None

    @pytest.mark.parametrize("current", [RunStatus.PREPARING, RunStatus.RUNNING])
    def test_cancel_a_started_run_asks_its_worker(self, store: Store, current: RunStatus) -> None:
        run_id = _run_in(store, current)
        assert store.get_run(run_id).cancel_requested is False
        info = store.request_cancel(run_id)
        assert info.cancel_requested is True and info.status is current and info.end_time is None
        assert store.get_run(run_id).cancel_requested is True
        assert store.set_status(run_id, RunStatus.CANCELED, expected=current)
        assert store.get_run(run_id).status is RunStatus.CANCELED

    @pytest.mark.parametrize("current", sorted(TERMINAL, key=lambda s: s.value))
    def test_cancel_a_finished_run_is_refused(self, store: Store, current: RunStatus) -> None:
        run_id = _run_in(store, current)
        before = store.get_run(run_id)
        with pytest.raises(InvalidTransitionError):
            store.request_cancel(run_id)
        _unchanged(before, store.get_run(run_id))

    def test_set_run_error(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.set_run_error(run_id, "bad data")
        info = store.get_run(run_id)
        assert info.error == "bad data" and info.status is RunStatus.RUNNING
        store.set_run_error(run_id, None)
        assert store.get_run(run_id).error is None

    # environments ----------------------------------------------------------------------------
    def test_environments_are_versioned_by_spec_hash(self, store: Store) -> None:
        spec1 = {"requirements": ["numpy==2.0"], "env_vars": {"A": "1"}, "python": "3.11"}
        spec2 = {"requirements": ["numpy==2.1"]}
        one = store.register_environment("sk", spec1, "h1")
        assert (one.name, one.version, one.spec_hash, one.spec) == ("sk", 1, "h1", spec1)
        assert store.register_environment("sk", spec1, "h1") == one
        two = store.register_environment("sk", spec2, "h2")
        assert two.version == 2
        assert store.register_environment("sk", spec1, "h1") == one  # an old spec keeps its version
        assert store.register_environment("other", spec2, "h2").version == 1
        assert store.get_environment("sk") == two
        assert store.get_environment("sk", 1) == one
        assert store.get_environment("sk", 2) == two

    def test_unknown_environments_are_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get_environment("nope")
        store.register_environment("sk", {}, "h1")
        with pytest.raises(NotFoundError):
            store.get_environment("sk", 9)
        with pytest.raises(NotFoundError):
            store.get_environment("nope", 1)

    def test_list_environments(self, store: Store) -> None:
        assert store.list_environments() == []
        store.register_environment("b", {"x": 1}, "h1")
        store.register_environment("a", {"x": 1}, "h1")
        store.register_environment("b", {"x": 2}, "h2")
        assert [(e.name, e.version, e.spec_hash) for e in store.list_environments()] == [
            ("a", 1, "h1"),
            ("b", 1, "h1"),
            ("b", 2, "h2"),
        ]

    def test_concurrent_registrations_agree(self, store: Store) -> None:
        got = _together(4, lambda i: store.register_environment("race", {"i": i % 2}, f"h{i % 2}"))
        assert {(r.spec_hash, r.version) for r in got} in ({("h0", 1), ("h1", 2)}, {("h0", 2), ("h1", 1)})
        assert len(store.list_environments()) == 2

    # model registry --------------------------------------------------------------------------
    def test_model_versions_count_up_per_name(self, store: Store) -> None:
        run = store.create_run(store.create_experiment("reg").id)
        one = store.create_model_version(
            "diabetes",
            source=f"runs/{run.id}/outputs",
            files=["model.pkl"],
            run_id=run.id,
            tags={"algo": "ridge"},
            properties={"r2": 0.4},
        )
        two = store.create_model_version("diabetes", source="upload", files=["a", "b"])
        other = store.create_model_version("iris", source="upload", files=["m"])
        assert (one.version, two.version, other.version) == (1, 2, 1)
        assert one.run_id == run.id and one.tags == {"algo": "ridge"} and one.properties == {"r2": "0.4"}
        assert store.get_model_version("diabetes", 2).files == ["a", "b"]
        assert [v.version for v in store.list_model_versions("diabetes")] == [2, 1]
        assert [(m.name, m.latest_version) for m in store.list_models()] == [("diabetes", 2), ("iris", 1)]
        with pytest.raises(NotFoundError):
            store.get_model_version("diabetes", 3)
        with pytest.raises(NotFoundError):
            store.list_model_versions("nope")
        with pytest.raises(NotFoundError):
            store.create_model_version("x", source="s", files=["f"], run_id="0" * 32)
        for bad in ("", "../x", "a b", "x" * 300):
            with pytest.raises(InvalidInputError):
                store.create_model_version(bad, source="s", files=["f"])
        with pytest.raises(InvalidInputError, match="no files"):
            store.create_model_version("empty", source="s", files=[])

    def test_concurrent_model_registrations_get_distinct_versions(self, store: Store) -> None:
        got = _together(6, lambda i: store.create_model_version("race", source="s", files=[f"f{i}"]).version)
        assert sorted(got) == [1, 2, 3, 4, 5, 6]

    def test_model_aliases_move_between_versions(self, store: Store) -> None:
        for _ in range(2):
            store.create_model_version("m", source="s", files=["f"])
        store.set_model_alias("m", "production", 1)
        store.set_model_alias("m", "staging", 2)
        assert store.get_model_version_by_alias("m", "production").version == 1
        store.set_model_alias("m", "production", 2)
        assert store.get_model_version_by_alias("m", "production").version == 2
        assert store.get_model_version("m", 2).aliases == ["production", "staging"]
        assert store.get_model_version("m", 1).aliases == []
        assert store.list_models()[0].aliases == {"production": 2, "staging": 2}
        store.delete_model_alias("m", "staging")
        with pytest.raises(NotFoundError):
            store.get_model_version_by_alias("m", "staging")
        with pytest.raises(NotFoundError):
            store.set_model_alias("m", "production", 7)
        for bad in ("latest", "3", "has space", ""):
            with pytest.raises(InvalidInputError):
                store.set_model_alias("m", bad, 1)

    def test_model_versions_archive_and_restore(self, store: Store) -> None:
        store.create_model_version("m", source="s", files=["f"])
        assert store.set_model_version_status("m", 1, "archived").status == "archived"
        assert store.set_model_version_status("m", 1, "ready").status == "ready"
        with pytest.raises(InvalidInputError):
            store.set_model_version_status("m", 1, "deleted")

    def test_short_run_ids_resolve(self, store: Store) -> None:
        exp = store.create_experiment("ids")
        run = store.create_run(exp.id)
        store.create_run(exp.id)
        assert store.find_run_ids(run.id[:12]) == [run.id]
        assert store.find_run_ids(run.id) == [run.id]
        assert len(store.find_run_ids("")) == 2 and store.find_run_ids("zz%") == []
        assert store.find_run_ids("_") == []  # LIKE wildcards are taken literally
