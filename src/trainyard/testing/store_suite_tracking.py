"""The conformance suite of the tracking part: experiments, runs, statuses, environments.

``MetricsSuite`` (mixed in) checks what runs log.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest

from trainyard.deletion import RunView, is_deleted
from trainyard.errors import AlreadyExistsError, InvalidInputError, InvalidTransitionError, NotFoundError
from trainyard.limits import (
    MAX_BULK_RUNS,
    MAX_FILTER_METRICS,
    MAX_FILTER_TERMS,
    MAX_FILTER_VALUES,
    MAX_KEY_LENGTH,
    MAX_ORDER_KEYS,
    MAX_PARAM_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
)
from trainyard.status import TERMINAL, RunStatus
from trainyard.store.base import Store
from trainyard.store.records import USER_TAG, NewRun, RunInfo
from trainyard.testing.store_suite_common import (
    ILLEGAL,
    UNKNOWN_ID,
    _metric,
    _new_run,
    _run_in,
    _together,
    _unchanged,
    own_tags,
)
from trainyard.testing.store_suite_metrics import MetricsSuite


class TrackingSuite(MetricsSuite):
    """Needs a ``store`` fixture giving a fresh, empty Store."""

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
        assert own_tags(got) == {"k": "v"} and got.params == {} and got.metrics == {}
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

    def test_a_child_run_is_its_parents_users(self, store: Store) -> None:
        exp = store.create_experiment("users")
        parent = store.create_run(exp.id, tags={USER_TAG: "ada"})  # a server puts its caller here
        user = parent.tags[USER_TAG]
        trial = store.create_run(exp.id, parent_id=parent.id, tags={"trial": "1"})
        step = store.create_run(exp.id, parent_id=trial.id)
        assert trial.tags == {"trial": "1", USER_TAG: user} and step.tags == {USER_TAG: user}

    def test_create_runs_makes_queued_runs_with_tags_and_params(self, store: Store) -> None:
        exp = store.create_experiment("batch")
        parent = store.create_run(exp.id, status=RunStatus.RUNNING, tags={USER_TAG: "ada"})
        user = parent.tags[USER_TAG]
        job = {"argv": ["python", "train.py"]}
        made = store.create_runs(
            [
                NewRun(
                    exp.id,
                    name=f"p{i}",
                    parent_id=parent.id,
                    compute="local",
                    job=job,
                    snapshot_id="snap",
                    environment="sk:1",
                    tags={"part": str(i)},
                    params={"data": f"d{i}"},
                )
                for i in range(3)
            ]  # fmt: skip
            + [NewRun(exp.id)]
        )
        assert [store.get_run(r.id) for r in made] == made
        assert [r.name for r in made[:3]] == ["p0", "p1", "p2"] and made[3].name
        assert all(r.status is RunStatus.QUEUED and r.attempt == 1 and r.start_time is None for r in made)
        assert [(r.parent_id, r.compute, r.job, r.snapshot_id, r.environment) for r in made[:3]] == [
            (parent.id, "local", job, "snap", "sk:1")
        ] * 3
        assert [r.tags for r in made[:3]] == [{"part": str(i), USER_TAG: user} for i in range(3)]
        assert [r.params for r in made] == [{"data": "d0"}, {"data": "d1"}, {"data": "d2"}, {}]
        assert len({r.id for r in made}) == 4 and store.create_runs([]) == []
        assert {r.id for r in store.search_runs(parent_id=parent.id)} == {r.id for r in made[:3]}

    def test_create_runs_creates_none_when_one_is_bad(self, store: Store) -> None:
        exp = store.create_experiment("batch-bad")
        too_long = "x" * (MAX_PARAM_VALUE_LENGTH + 1)
        for bad in (NewRun(exp.id, tags={"": "x"}), NewRun(exp.id, params={"p": too_long})):
            with pytest.raises(InvalidInputError):
                store.create_runs([NewRun(exp.id, name="fine"), bad])
        with pytest.raises(NotFoundError):
            store.create_runs([NewRun(exp.id, name="fine"), NewRun(exp.id, parent_id=UNKNOWN_ID)])
        assert store.count_runs(exp.id) == 0

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

    def test_search_size_limits(self, store: Store) -> None:
        """A search as large as ``trainyard.limits`` allows runs; a larger one is refused naming its limit."""
        exp, r = self._search_fixture(store)
        metrics = [f"m{i}" for i in range(MAX_FILTER_METRICS)]
        store.log_batch(r[1].id, metrics=[_metric(k, 1.0) for k in metrics])
        on_metrics = [f"metrics.{k} > 0" for k in metrics]
        rest = MAX_FILTER_TERMS - len(on_metrics) - 1

        def among(n: int) -> str:  # n values in all: 'A1', r1's alpha, and others
            return "params.alpha IN (" + ", ".join(["'A1'", *(f"'{i}'" for i in range(n - 1))]) + ")"

        in_values = MAX_FILTER_VALUES - len(on_metrics) - rest
        largest = " and ".join([*on_metrics, *["attributes.status != 'failed'"] * rest, among(in_values)])
        order = [f"params.p{i}" for i in range(MAX_ORDER_KEYS - 1)] + ["metrics.m0 DESC"]
        for page in (None, 5):
            found = store.search_runs([exp], filter_string=largest, order_by=order, max_results=page)
            assert [x.name for x in found] == ["r1"]
        too_many = (
            (" and ".join(["attributes.status != 'failed'"] * (MAX_FILTER_TERMS + 1)), MAX_FILTER_TERMS),
            (among(MAX_FILTER_VALUES + 1), MAX_FILTER_VALUES),
            (" and ".join([*on_metrics, "metrics.extra > 0"]), MAX_FILTER_METRICS),
            (" and ".join(["attributes.status != 'failed'"] * 500), MAX_FILTER_TERMS),
        )
        for flt, limit in too_many:
            with pytest.raises(InvalidInputError, match=f"at most {limit}"):
                store.search_runs([exp], filter_string=flt)
        with pytest.raises(InvalidInputError, match=f"at most {MAX_ORDER_KEYS}"):
            store.search_runs([exp], order_by=[f"params.p{i}" for i in range(MAX_ORDER_KEYS + 1)])

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

    def test_pages_ordered_by_a_metric_keep_ties_nan_and_missing_in_order(self, store: Store) -> None:
        """Every page size walks the same order: numbers (ties newest first, then by id), NaN,
        then runs without the metric; other experiments' values and deleted runs never count."""
        exp, other = store.create_experiment("ties").id, store.create_experiment("ties-other").id
        rng = random.Random(3)
        choices: list[float | None] = [0.1, 0.2, 0.3, 0.0, -0.0, math.nan, None]
        runs: list[tuple[RunInfo, float | None]] = []
        for i in range(24):
            run = store.create_run(exp, name=f"t{i}")
            value = rng.choice(choices)
            store.log_batch(run.id, metrics=[] if value is None else [_metric("loss", value)])
            store.log_batch(run.id, metrics=[_metric("acc", i / 24)])
            runs.append((store.get_run(run.id), value))
            time.sleep(0.002)
        for value in (10.0, -10.0, math.nan):  # the same key elsewhere, around every boundary
            store.log_batch(store.create_run(other, name="elsewhere").id, metrics=[_metric("loss", value)])
        values = {r.id: v for r, v in runs}
        gone = [r.id for r, v in runs[:3]]
        store.delete_runs(gone)

        def expected(descending: bool, kept: Any) -> list[str]:
            def key(item: tuple[RunInfo, float | None]) -> tuple[Any, ...]:
                run, value = item
                rank = 2 if value is None else 1 if math.isnan(value) else 0
                number = 0.0 if rank else (-value if descending else value)  # type: ignore[operator]
                return (rank, number, -run.created_at, run.id)

            return [r.name for r, v in sorted(runs, key=key) if kept(r)]

        for descending in (True, False):
            order = [f"metrics.loss {'DESC' if descending else 'ASC'}"]
            searches: list[tuple[dict[str, Any], Any]] = [
                ({"view": RunView.ALL}, lambda r: True),
                ({"view": RunView.ACTIVE}, lambda r: r.id not in gone),
                ({"filter_string": "metrics.acc >= 0.5"}, lambda r: r.metrics["acc"] >= 0.5),
                ({"filter_string": "metrics.loss > 0.1"}, lambda r: values[r.id] in (0.2, 0.3)),
            ]
            for kwargs, kept in searches:
                want = expected(descending, kept)
                assert [x.name for x in store.search_runs([exp], order_by=order, **kwargs)] == want
                for size in (1, 4, 7, len(want), 50):
                    names, token = [], None
                    while True:
                        page = store.search_runs(
                            [exp], order_by=order, max_results=size, page_token=token, **kwargs
                        )
                        names += [x.name for x in page]
                        token = page.next_page_token
                        if token is None:
                            break
                    assert names == want, (order, kwargs, size)

    # metrics ---------------------------------------------------------------------------------
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

    @pytest.mark.parametrize("current", sorted(TERMINAL, key=str))
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

    @pytest.mark.parametrize("end", [RunStatus.COMPLETED, RunStatus.FAILED])
    def test_a_run_that_ends_by_itself_after_a_cancel_was_asked_keeps_no_reason(
        self, store: Store, end: RunStatus
    ) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.request_cancel(run_id, "early termination by BanditPolicy(slack_factor=0.1) at step 9")
        assert store.set_status(run_id, end, expected=RunStatus.RUNNING)
        info = store.get_run(run_id)
        assert (info.status, info.cancel_reason, info.cancel_requested) == (end, None, False)
        assert info.error is None

    def test_cancel_keeps_its_reason(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        info = store.request_cancel(run_id, "early termination: below the median at step 3")
        assert info.cancel_reason == "early termination: below the median at step 3"
        assert store.get_run(run_id).cancel_reason == info.cancel_reason and info.error is None
        queued = store.request_cancel(_run_in(store, RunStatus.QUEUED), "canceled by the user")
        assert (queued.status, queued.cancel_reason, queued.error) == (
            RunStatus.CANCELED,
            "canceled by the user",
            "canceled by the user",
        )

    @pytest.mark.parametrize("current", [RunStatus.PREPARING, RunStatus.RUNNING])
    def test_cancel_a_started_run_asks_its_worker(self, store: Store, current: RunStatus) -> None:
        run_id = _run_in(store, current)
        assert store.get_run(run_id).cancel_requested is False
        info = store.request_cancel(run_id)
        assert info.cancel_requested is True and info.status is current and info.end_time is None
        assert store.get_run(run_id).cancel_requested is True
        assert store.set_status(run_id, RunStatus.CANCELED, expected=current)
        assert store.get_run(run_id).status is RunStatus.CANCELED

    @pytest.mark.parametrize("current", sorted(TERMINAL, key=str))
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
    def test_short_run_ids_resolve(self, store: Store) -> None:
        exp = store.create_experiment("ids")
        run = store.create_run(exp.id)
        store.create_run(exp.id)
        assert store.find_run_ids(run.id[:12]) == [run.id]
        assert store.find_run_ids(run.id) == [run.id]
        assert len(store.find_run_ids("")) == 2 and store.find_run_ids("zz%") == []
        assert store.find_run_ids("_") == []  # LIKE wildcards are taken literally

    def test_experiments_rename_and_keep_their_runs(self, store: Store) -> None:
        exp = store.create_experiment("old", tags={"team": "a"})
        run = store.create_run(exp.id)
        store.create_experiment("taken")
        renamed = store.update_experiment(exp.id, name="new")
        assert (renamed.id, renamed.name, renamed.tags) == (exp.id, "new", {"team": "a"})
        assert store.get_experiment_by_name("old") is None
        assert store.get_experiment_by_name("new") == renamed
        assert store.get_run(run.id).experiment_id == exp.id
        with pytest.raises(AlreadyExistsError):
            store.update_experiment(exp.id, name="taken")
        with pytest.raises(InvalidInputError):
            store.update_experiment(exp.id, name="")
        with pytest.raises(NotFoundError):
            store.update_experiment("0" * 32, name="x")

    def test_experiments_delete_softly_and_restore(self, store: Store) -> None:
        exp = store.create_experiment("gone")
        kept = store.create_experiment("kept")
        run = store.create_run(exp.id)
        assert store.update_experiment(exp.id, deleted=True).deleted
        assert store.list_experiments() == [kept]
        assert [e.name for e in store.list_experiments(include_deleted=True)] == ["gone", "kept"]
        assert store.get_experiment(exp.id).deleted and store.get_run(run.id).experiment_id == exp.id
        with pytest.raises(AlreadyExistsError):  # the name stays taken until it is restored
            store.create_experiment("gone")
        assert not store.update_experiment(exp.id, deleted=False).deleted
        assert [e.name for e in store.list_experiments()] == ["gone", "kept"]

    def test_runs_tag_in_bulk_all_or_nothing(self, store: Store) -> None:
        exp = store.create_experiment("bulk")
        a, b = (store.create_run(exp.id, tags={"old": "x", "keep": "k"}) for _ in range(2))
        store.update_run_tags([a.id, b.id, a.id], {"team": "vision", "old": None, "never": None})
        assert (
            own_tags(store.get_run(a.id)) == own_tags(store.get_run(b.id)) == {"team": "vision", "keep": "k"}
        )
        with pytest.raises(NotFoundError, match=UNKNOWN_ID):
            store.update_run_tags([a.id, UNKNOWN_ID], {"team": "other", "keep": None})
        with pytest.raises(InvalidInputError):
            store.update_run_tags([a.id], {"x": "v" * (MAX_TAG_VALUE_LENGTH + 1)})
        with pytest.raises(InvalidInputError, match=str(MAX_BULK_RUNS)):
            store.update_run_tags([f"{n:032x}" for n in range(MAX_BULK_RUNS + 1)], {"x": "1"})
        with pytest.raises(InvalidInputError):
            store.update_run_tags([], {"x": "1"})
        assert own_tags(store.get_run(a.id)) == {"team": "vision", "keep": "k"}

    def test_runs_delete_softly_and_restore(self, store: Store) -> None:
        exp = store.create_experiment("soft")
        gone, kept = store.create_run(exp.id, name="gone"), store.create_run(exp.id, name="kept")
        store.log_metric(gone.id, _metric("loss", 0.5, 0))
        store.delete_runs([gone.id])

        def names(view: RunView, **kwargs: Any) -> list[str]:
            return [r.name for r in store.search_runs([exp.id], view=view, **kwargs)]

        assert names(RunView.ACTIVE) == ["kept"] and names(RunView.DELETED) == ["gone"]
        counts = [store.count_runs(exp.id, view=v) for v in (RunView.ACTIVE, RunView.DELETED, RunView.ALL)]
        assert counts == [1, 1, 2] and store.count_runs(exp.id) == 2  # a title counts what it lists
        assert (
            sorted(names(RunView.ALL))
            == ["gone", "kept"]
            == sorted(r.name for r in store.search_runs([exp.id]))
        )
        # the view applies before paging: a page of one active run is the active run
        assert names(RunView.ACTIVE, max_results=1, order_by=["attributes.run_name"]) == ["kept"]
        assert is_deleted(store.get_run(gone.id).tags) and store.get_run(gone.id).metrics == {"loss": 0.5}
        with pytest.raises(NotFoundError, match=UNKNOWN_ID):
            store.restore_runs([gone.id, UNKNOWN_ID])
        assert names(RunView.DELETED) == ["gone"]
        store.restore_runs([gone.id, kept.id])  # a run that is not deleted is left as it is
        assert sorted(names(RunView.ACTIVE)) == ["gone", "kept"] and names(RunView.DELETED) == []

    def test_experiment_tags_set_overwrite_and_delete(self, store: Store) -> None:
        exp = store.create_experiment("t", tags={"a": "1", "b": "2"})
        assert store.update_experiment(exp.id, tags={"a": "one", "c": "3"}).tags == {
            "a": "one",
            "b": "2",
            "c": "3",
        }
        assert store.update_experiment(exp.id, tags={"b": None, "missing": None}).tags == {
            "a": "one",
            "c": "3",
        }
        assert store.get_experiment(exp.id).tags == {"a": "one", "c": "3"}
        with pytest.raises(InvalidInputError):
            store.update_experiment(exp.id, tags={"x": "v" * 9000})
        assert store.get_experiment(exp.id).tags == {"a": "one", "c": "3"}
