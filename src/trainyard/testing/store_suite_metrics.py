"""The tracking suite's metrics, params and tags: append-only metrics, write-once params, tags."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.limits import MAX_KEY_LENGTH
from trainyard.status import RunStatus
from trainyard.store.base import Store
from trainyard.store.records import Metric
from trainyard.testing.store_suite_common import (
    PROPERTY_SETTINGS,
    _canon,
    _metric,
    _new_run,
    _run_in,
    _same,
    _together,
    own_tags,
)


class MetricsSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

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
        assert own_tags(found[run.id]) == {"created": "yes", "t": "1"}
        assert (found[bare.id].metrics, found[bare.id].params, own_tags(found[bare.id])) == ({}, {}, {})
        assert found[run.id] == store.get_run(run.id)

    # search grammar (MLflow's filter_string, order_by, page tokens) ------------------------------
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
        assert info.params == {} and own_tags(info) == {}

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
        assert own_tags(info) == {} and info.metrics == {} and store.get_metric_history(run.id) == []

    def test_params_are_per_run(self, store: Store) -> None:
        one, two = _new_run(store), _new_run(store)
        store.log_batch(one.id, params={"lr": "0.1"})
        store.log_batch(two.id, params={"lr": "0.2"})
        assert (store.get_run(one.id).params, store.get_run(two.id).params) == ({"lr": "0.1"}, {"lr": "0.2"})

    # tags ------------------------------------------------------------------------------------
    def test_tags_overwrite_and_delete(self, store: Store) -> None:
        run = _new_run(store, tags={"a": "1"})
        store.log_batch(run.id, tags={"a": "2", "b": "3"})
        assert own_tags(store.get_run(run.id)) == {"a": "2", "b": "3"}
        store.log_batch(run.id, tags={"a": "4"})
        assert own_tags(store.get_run(run.id)) == {"a": "4", "b": "3"}
        store.delete_tag(run.id, "a")
        assert own_tags(store.get_run(run.id)) == {"b": "3"}
        store.delete_tag(run.id, "never-set")
        assert own_tags(store.get_run(run.id)) == {"b": "3"}

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
        assert own_tags(info) == {"b": "3"} and info.params == {} and info.metrics == {}
        assert store.get_metric_history(run.id) == []

    # batch ids and attempts ----------------------------------------------------------------------
    def test_a_batch_sent_again_under_its_id_is_stored_once(self, store: Store) -> None:
        run, other = _new_run(store), _new_run(store)
        batch = [_metric("loss", 0.5, 0, 10.0), _metric("loss", 0.25, 1, 11.0)]
        for _ in range(2):  # the second is a client's retry after the first one's reply was lost
            store.log_batch(run.id, metrics=batch, params={"lr": "0.1"}, tags={"t": "1"}, batch_id="b-1")
        store.log_batch(run.id, metrics=[_metric("loss", 0.125, 2, 12.0)], batch_id="b-2")
        store.log_batch(other.id, metrics=batch, batch_id="b-1")  # an id names a batch of one run
        store.log_batch(run.id, metrics=[_metric("loss", 0.125, 2, 12.0)])  # no id: appended
        assert [m.step for m in store.get_metric_history(run.id, "loss")] == [0, 1, 2, 2]
        assert [m.step for m in store.get_metric_history(other.id, "loss")] == [0, 1]
        info = store.get_run(run.id)
        assert (info.params, own_tags(info), info.metrics) == ({"lr": "0.1"}, {"t": "1"}, {"loss": 0.125})

    def test_one_batch_sent_by_several_threads_at_once_is_stored_once(self, store: Store) -> None:
        run = _new_run(store)
        batch = [_metric("m", float(i), i, 10.0 + i) for i in range(5)]
        _together(4, lambda i: store.log_batch(run.id, metrics=batch, batch_id="raced"))
        assert [m.step for m in store.get_metric_history(run.id, "m")] == [0, 1, 2, 3, 4]

    def test_a_refused_batch_keeps_no_id_and_a_bad_id_is_refused(self, store: Store) -> None:
        run = _new_run(store)
        store.log_batch(run.id, params={"p": "1"})
        with pytest.raises(InvalidInputError, match="cannot change"):  # refused inside the write
            store.log_batch(run.id, metrics=[_metric("m", 1.0)], params={"p": "2"}, batch_id="b")
        store.log_batch(run.id, metrics=[_metric("m", 1.0)], batch_id="b")  # the id is still free
        assert len(store.get_metric_history(run.id, "m")) == 1
        for bad in ("", "x" * 201):
            with pytest.raises(InvalidInputError, match="batch id"):
                store.log_batch(run.id, metrics=[_metric("m", 2.0)], batch_id=bad)
        assert len(store.get_metric_history(run.id, "m")) == 1

    def test_each_attempt_of_a_retried_run_keeps_its_own_series(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.log_batch(run_id, metrics=[_metric("loss", 1.0 - s / 10, s, 100.0 + s) for s in range(3)])
        store.log_batch(run_id, metrics=[_metric("first-only", 1.0)])
        assert store.requeue(run_id, RunStatus.RUNNING, "worker lost")
        assert store.get_run(run_id).metrics == {}  # run lists show the new attempt's values
        assert store.get_metric_history(run_id) == []
        assert store.set_status(run_id, RunStatus.PREPARING) and store.set_status(run_id, RunStatus.RUNNING)
        store.log_batch(run_id, metrics=[_metric("loss", 2.0 - s / 10, s, 200.0 + s) for s in range(2)])
        assert [(m.step, m.value) for m in store.get_metric_history(run_id, "loss")] == [(0, 2.0), (1, 1.9)]
        assert [m.key for m in store.get_metric_history(run_id)] == ["loss", "loss"]
        first = store.get_metric_history(run_id, attempt=1)
        assert [(m.key, m.step) for m in first] == [("first-only", 0), ("loss", 0), ("loss", 1), ("loss", 2)]
        assert store.get_metric_history(run_id, "loss", attempt=2) == store.get_metric_history(run_id, "loss")
        assert store.get_run(run_id).metrics == {"loss": 1.9}
        for bad in (0, 3, -1):
            with pytest.raises(InvalidInputError, match="attempts 1 to 2"):
                store.get_metric_history(run_id, attempt=bad)
            with pytest.raises(InvalidInputError, match="attempts 1 to 2"):
                store.log_batch(run_id, metrics=[_metric("loss", 0.0, 9)], attempt=bad)

    def test_a_lost_attempts_late_values_stay_in_its_own_history(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.log_batch(run_id, metrics=[_metric("loss", 1.0, 0, 100.0)], attempt=1)
        assert store.requeue(run_id, RunStatus.RUNNING, "no heartbeat")  # its script still runs
        store.log_batch(run_id, metrics=[_metric("loss", 2.0, 0, 200.0)], attempt=2)  # the retry
        store.log_batch(run_id, metrics=[_metric("loss", 0.5, 1, 300.0)], attempt=1)  # written late
        assert [m.value for m in store.get_metric_history(run_id, "loss")] == [2.0]
        assert [m.value for m in store.get_metric_history(run_id, "loss", attempt=1)] == [1.0, 0.5]
        assert store.get_run(run_id).metrics == {"loss": 2.0}  # the late value is not the latest

    # series cut to a chart's width -------------------------------------------------------------
    def test_a_series_that_fits_comes_back_exactly(self, store: Store) -> None:
        run = _new_run(store)
        values = [0.5, math.nan, math.inf, -0.0, 2.0]
        store.log_batch(run.id, metrics=[_metric("v", v, s * 2, 10.0 + s) for s, v in enumerate(values)])
        store.log_batch(run.id, metrics=[_metric("other", 9.0, 1)])
        series = store.get_metric_series(run.id, "v", 5)
        history = store.get_metric_history(run.id, "v")
        assert series.exact and series.total == 5 and series.key == "v"
        assert series.steps == [m.step for m in history] and series.timestamps == [
            m.timestamp for m in history
        ]
        assert all(_same(a, m.value) for a, m in zip(series.values, history, strict=True))
        zoomed = store.get_metric_series(run.id, "v", 4, min_step=2, max_step=6)
        assert zoomed.exact and zoomed.steps == [2, 4, 6] and zoomed.total == 3
        empty = store.get_metric_series(run.id, "never", 10)
        assert empty.exact and empty.total == 0 and empty.steps == []

    @PROPERTY_SETTINGS
    @given(
        st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=300),
        st.integers(min_value=4, max_value=40),
        st.integers(min_value=1, max_value=5),
    )
    def test_a_cut_series_fits_the_budget_and_keeps_the_extremes(
        self, store: Store, values: list[float], points: int, stride: int
    ) -> None:
        run = _new_run(store)
        logged = [_metric("m", v, 1000 + s * stride, float(s)) for s, v in enumerate(values)]
        store.log_batch(run.id, metrics=logged)
        series = store.get_metric_series(run.id, "m", points)
        assert series.total == len(values) and series.exact == (len(values) <= points)
        assert len(series.steps) <= points
        assert series.steps == sorted(series.steps)
        assert series.steps[0] == logged[0].step and series.steps[-1] == logged[-1].step
        finite = [v for v in values if math.isfinite(v)]
        shown = [v for v in series.values if math.isfinite(v)]
        if finite:
            assert max(shown) == max(finite) and min(shown) == min(finite)
        by_step = {m.step: m for m in logged}
        for step, value, when in zip(series.steps, series.values, series.timestamps, strict=True):
            assert _same(value, by_step[step].value) and when == by_step[step].timestamp  # as logged

    def test_a_long_series_is_cut_where_it_is_stored(self, store: Store) -> None:
        run = _new_run(store)
        for start in range(0, 20_000, 1000):  # a spike at step 12,345 that sampling would miss
            batch = [
                _metric("loss", 9.0 if s == 12_345 else 1.0 / (1 + s), s, float(s))
                for s in range(start, start + 1000)
            ]
            store.log_batch(run.id, metrics=batch)
        series = store.get_metric_series(run.id, "loss", 200)
        assert not series.exact and series.total == 20_000 and len(series.steps) <= 200
        assert 9.0 in series.values and series.steps[series.values.index(9.0)] == 12_345
        zoomed = store.get_metric_series(run.id, "loss", 200, min_step=12_300, max_step=12_399)
        assert zoomed.exact and zoomed.steps == list(range(12_300, 12_400))

    @PROPERTY_SETTINGS
    @given(
        st.lists(
            st.tuples(
                st.sampled_from([0.0, 1.0, -1.0, 2.5, -0.0, math.nan, math.inf, -math.inf]),
                st.integers(min_value=0, max_value=300),  # steps since the value before
            ),
            min_size=1,
            max_size=150,
        ),
        st.integers(min_value=-20_000, max_value=20_000),
        st.integers(min_value=1, max_value=60),
        st.integers(min_value=4, max_value=30),
        st.tuples(st.floats(0, 1), st.floats(0, 1)),
        st.booleans(),
    )
    def test_a_series_spread_over_many_steps_is_cut_to_every_ranges_extremes(
        self,
        store: Store,
        logged: list[tuple[float, int]],
        start: int,
        batch: int,
        points: int,
        cuts: tuple[float, float],
        bounded: bool,
    ) -> None:
        """Wide enough step spans are cut from summaries of blocks of steps (SQL stores), logged
        over several batches; negative steps, repeated steps, ties and non-finite values."""
        run = _new_run(store)
        metrics, step = [], start
        for i, (value, gap) in enumerate(logged):
            step += gap
            metrics.append(_metric("m", value, step, float(i)))
        for i in range(0, len(metrics), batch):
            store.log_batch(run.id, metrics=metrics[i : i + batch])
        low, high = metrics[0].step, metrics[-1].step
        if bounded:
            low, high = sorted(round(low + f * (high - low)) for f in cuts)
        inside = [m for m in metrics if low <= m.step <= high]
        series = store.get_metric_series(run.id, "m", points, min_step=low, max_step=high)
        assert series.total == len(inside) and series.exact == (len(inside) <= points)
        assert len(series.steps) <= points and series.steps == sorted(series.steps)
        returned = list(zip(series.steps, series.timestamps, strict=True))
        by_place = {(m.step, m.timestamp): m.value for m in inside}
        assert all(_same(v, by_place[p]) for v, p in zip(series.values, returned, strict=True))
        if inside:
            assert returned[0] == (inside[0].step, inside[0].timestamp)
            assert returned[-1] == (inside[-1].step, inside[-1].timestamp)
        finite = [m.value for m in inside if math.isfinite(m.value)]
        shown = [v for v in series.values if math.isfinite(v)]
        if finite:
            assert max(shown) == max(finite) and min(shown) == min(finite)

    def test_several_runs_series_are_each_cut_as_one_runs(self, store: Store) -> None:
        """``get_metric_series_of_runs``: series that come back whole, are cut from their rows, are
        cut from their blocks, are long in steps but few, are missing, or were logged again by a
        retry (the last attempt counts), in the order asked, each equal to its own cut."""
        exact, short, long, sparse, bare = (_new_run(store) for _ in range(5))
        odd = [math.nan, -0.0, math.inf]
        store.log_batch(
            exact.id, metrics=[_metric("m", ([*odd, 0.5] * 8)[s], s, float(s)) for s in range(30)]
        )
        store.log_batch(short.id, metrics=[_metric("m", math.sin(s), s, float(s)) for s in range(400)])
        for first in range(0, 3000, 500):
            spike = [
                _metric("m", 9.0 if s == 1234 else 1 / (1 + s), s, float(s))
                for s in range(first, first + 500)
            ]
            store.log_batch(long.id, metrics=spike)
        store.log_batch(sparse.id, metrics=[_metric("m", float(s), s * 5000) for s in range(3)])
        store.log_batch(bare.id, metrics=[_metric("other", 1.0)])
        retried = _run_in(store, RunStatus.RUNNING)
        store.log_batch(retried, metrics=[_metric("m", 5.0, s) for s in range(100)])
        assert store.requeue(retried, RunStatus.RUNNING, "worker lost")
        store.log_batch(retried, metrics=[_metric("m", float(s), s) for s in range(50)])
        asked = [long.id, exact.id, bare.id, short.id, sparse.id, retried, long.id]
        for points, steps in ((40, {}), (40, {"min_step": 100, "max_step": 2500}), (4, {}), (1000, {})):
            batch = store.get_metric_series_of_runs(asked, "m", points, **steps)
            one = [store.get_metric_series(r, "m", points, **steps) for r in asked]
            assert len(batch) == len(asked)
            for got, want in zip(batch, one, strict=True):
                assert (got.key, got.total, got.exact) == (want.key, want.total, want.exact)
                assert got.steps == want.steps and got.timestamps == want.timestamps
                assert all(_same(a, b) for a, b in zip(got.values, want.values, strict=True))
        cut = store.get_metric_series_of_runs([long.id, bare.id, retried], "m", 40)
        assert not cut[0].exact and 9.0 in cut[0].values and cut[0].total == 3000
        assert cut[1].total == 0 and cut[2].total == 50  # the retry's, not the lost attempt's 100
        assert store.get_metric_series_of_runs([retried], "m", 50)[0].values == [float(s) for s in range(50)]
        assert store.get_metric_series_of_runs([], "m", 40) == []
        with pytest.raises(NotFoundError, match="0" * 32):
            store.get_metric_series_of_runs([exact.id, "0" * 32], "m", 40)
        with pytest.raises(InvalidInputError):
            store.get_metric_series_of_runs([exact.id], "m", 3)

    def test_a_series_of_an_attempt_and_of_nothing(self, store: Store) -> None:
        run_id = _run_in(store, RunStatus.RUNNING)
        store.log_batch(run_id, metrics=[_metric("loss", 1.0, 0, 1.0)])
        assert store.requeue(run_id, RunStatus.RUNNING, "worker lost")
        store.log_batch(run_id, metrics=[_metric("loss", 2.0, 0, 2.0), _metric("loss", 3.0, 1, 3.0)])
        assert store.get_metric_series(run_id, "loss", 10).values == [2.0, 3.0]
        assert store.get_metric_series(run_id, "loss", 10, attempt=1).values == [1.0]
        with pytest.raises(InvalidInputError, match="attempts 1 to 2"):
            store.get_metric_series(run_id, "loss", 10, attempt=3)
        for points in (3, 20_001):
            with pytest.raises(InvalidInputError, match="points"):
                store.get_metric_series(run_id, "loss", points)
        with pytest.raises(NotFoundError):
            store.get_metric_series("0" * 32, "loss", 10)

    # statuses --------------------------------------------------------------------------------
