"""The shipped Store conformance suite, on SQLite and PostgreSQL.

The ``store`` fixture (tests/conftest.py) is parametrised over both backends: a SQLite file in
the test's tmp dir, and a fresh PostgreSQL database copied from a migrated template.
"""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from trainyard.errors import InvalidInputError
from trainyard.store import Metric
from trainyard.store.sql import blocks
from trainyard.store.sql.engine import read_tx
from trainyard.store.sql.models import METRIC_BLOCKS
from trainyard.store.sql.store import SqlStore
from trainyard.testing.store_suite import ServerSuite, StoreSuite


class TestSqlStore(StoreSuite):
    pass


class TestSqlServerPart(ServerSuite):
    pass


def test_a_read_over_a_database_limit_is_the_callers_error(store_uri: str) -> None:
    """SQLite's expression depth, PostgreSQL's stack depth: a 400 to change the query, not an outage."""
    store = SqlStore(store_uri)
    try:
        too_deep = text("SELECT " + " + ".join(["1"] * 100_000))
        with (
            pytest.raises(InvalidInputError, match="too complex for the database") as raised,
            read_tx(store.engine) as conn,
        ):
            conn.execute(too_deep)
        assert "SELECT" not in str(raised.value)
    finally:
        store.close()


def test_negative_zero_keeps_its_sign(store_uri: str) -> None:
    """-0.0 in a metric's history and as its latest value, bit for bit (RELIABILITY row 15); SQLite
    stores a whole REAL as an integer, so the sign is kept as a flag."""
    store = SqlStore(store_uri)
    try:
        run = store.create_run(store.create_experiment("signs").id)
        store.log_batch(run.id, metrics=[Metric("z", 1.0, 0, 1.0), Metric("z", -0.0, 1, 2.0)])
        values = [m.value for m in store.get_metric_history(run.id, "z")] + [
            store.get_run(run.id).metrics["z"]
        ]
        assert [math.copysign(1.0, v) for v in values] == [1.0, -1.0, -1.0], values
    finally:
        store.close()


def _blocks(store: SqlStore) -> list[tuple]:
    with read_tx(store.engine) as conn:
        return [tuple(r) for r in conn.execute(select(METRIC_BLOCKS).order_by(*METRIC_BLOCKS.primary_key))]


@pytest.mark.parametrize("seed", range(3))
def test_a_long_series_is_cut_from_blocks_with_every_ranges_extremes(store_uri: str, seed: int) -> None:
    """Blocks merged batch by batch (steps out of order, repeated, ties, NaN and infinities) equal
    blocks made from all the rows at once, and each range of the cut shows its own extremes."""
    rng = random.Random(seed)
    store = SqlStore(store_uri)
    try:
        run = store.create_run(store.create_experiment("long").id)
        choices = [0.0, 1.0, -1.0, 0.5, -0.0, math.nan, math.inf, -math.inf]
        steps = [rng.randrange(-3_000, 40_000) for _ in range(4_000)]
        values = [rng.random() if rng.random() < 0.5 else rng.choice(choices) for _ in steps]
        logged = [Metric("m", v, s, rng.choice([1.0, 2.0])) for v, s in zip(values, steps, strict=True)]
        for i in range(0, len(logged), 500):
            store.log_batch(run.id, metrics=logged[i : i + 500])
        merged = _blocks(store)
        with store.engine.begin() as conn:
            blocks.rebuild(conn)
        assert _blocks(store) == merged

        low, high = rng.randrange(-3_000, 0), rng.randrange(30_000, 40_000)
        points = 40
        width = blocks.width(low, high, points // 2 - 1)
        assert width, "the cut must come from the blocks here"
        series = store.get_metric_series(run.id, "m", points, min_step=low, max_step=high)
        inside = sorted((m for m in logged if low <= m.step <= high), key=lambda m: (m.step, m.timestamp))
        assert not series.exact and series.total == len(inside) and len(series.steps) <= points
        assert (series.steps[0], series.steps[-1]) == (inside[0].step, inside[-1].step)
        first = low // blocks.BLOCK * blocks.BLOCK
        ranges: dict[int, list[float]] = {}
        for m in inside:
            if math.isfinite(m.value):
                ranges.setdefault((m.step - first) // width, []).append(m.value)
        shown: dict[int, list[float]] = {}
        for step, value in zip(series.steps, series.values, strict=True):
            if math.isfinite(value):
                shown.setdefault((step - first) // width, []).append(value)
        assert {k: (min(v), max(v)) for k, v in shown.items()} == {
            k: (min(v), max(v)) for k, v in ranges.items()
        }
    finally:
        store.close()


def test_more_runs_than_one_statement_holds_are_cut_in_chunks(store_uri: str) -> None:
    """SQLite allows 500 selects in one compound statement; a cut of many runs is made 100 at a
    time, each run's series as its own cut."""
    store = SqlStore(store_uri)
    try:
        experiment = store.create_experiment("many").id
        runs = [store.create_run(experiment).id for _ in range(260)]
        for n, run_id in enumerate(runs):
            logged = [Metric("m", float(s * n), s * 50, 1.0) for s in range((n % 3 + 1) * 20)]
            store.log_batch(run_id, metrics=logged)
        for points in (4, 20):  # from the blocks (two end blocks each: 520 selects), from the rows
            batch = store.get_metric_series_of_runs(runs, "m", points)
            assert batch == [store.get_metric_series(r, "m", points) for r in runs]
            assert [s.total for s in batch[:3]] == [20, 40, 60]
    finally:
        store.close()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=0, max_value=2**22),
    st.integers(min_value=1, max_value=9_999),
)
def test_a_cut_from_blocks_keeps_at_least_half_the_ranges_asked(low: int, span: int, ranges: int) -> None:
    """``blocks.width``: whole-block ranges from ``low``'s block, never more than asked, and used
    only where they number at least half of those asked; else the rows are cut (0)."""
    assert blocks.width(0, 9_999, 596 // 2 - 1) == blocks.BLOCK  # a compare chart's 10,000 steps
    assert blocks.width(0, 9_999, 1200 // 2 - 1) == 0  # twice as wide: from the rows
    high = low + span
    start = low // blocks.BLOCK * blocks.BLOCK
    spanned = (high - start) // blocks.BLOCK + 1
    width = blocks.width(low, high, ranges)
    if width == 0:
        assert 2 * spanned < ranges
        return
    made = -(-(high - start + 1) // width)
    assert width % blocks.BLOCK == 0 and made <= ranges and 2 * made >= ranges
