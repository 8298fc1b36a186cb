"""Metric values summarised per block of steps as they are logged, and long series cut from them.

A chart of a million values draws ~1,200: each step range's smallest and largest value
(``Store.get_metric_series``). Finding those in the rows is a pass over the whole series (2 s
of SQLite for 1,000,000 rows, most of it sorting the rows into ranges), so every batch also
updates ``metric_blocks``: per ``BLOCK`` steps, the count and the extremes with the step and
time they were logged at. A long series is then cut into ranges of whole blocks, read from
about ``1 / BLOCK`` as many rows; the two blocks at the ends are read from the rows, since the
steps asked may start or stop inside them. ``cut`` does this for several series (a compare
chart's runs) in two queries whatever their number.

A series is long when ranges of whole blocks keep at least half the ranges asked: a 10,000-step
series on a chart 600 pixels wide (299 ranges of 34 steps asked) is cut into its 157 blocks, each
range under 4 pixels wide, rather than from its rows (50 such series took 0.5 s from the rows).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, case, delete, insert, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite

from trainyard.store.sql.models import METRIC_BLOCKS, METRICS

BLOCK = 64  # steps per block
_ENDS = ("low", "high")
_PICKED = ("value", "negative_zero", "step", "timestamp")

Row = dict[str, Any]
# A value as returned: step, stored value, is_nan, negative_zero, timestamp.
Point = tuple[int, float, bool, bool, float]


def _finite(row: Row) -> bool:
    return not row["is_nan"] and math.isfinite(row["value"])


def _rank(end: str, value: float, step: int, timestamp: float) -> tuple[float, int, float]:
    """Smaller is the better pick: the lowest (or highest) value, then the earliest logged."""
    return (value if end == "low" else -value, step, timestamp)


def summaries(rows: Iterable[Row]) -> list[Row]:
    """The ``metric_blocks`` rows of metric rows (with ``run_id`` and ``attempt``), in the order
    given: of equal values at the same step and time, the first is kept."""
    blocks: dict[tuple[str, int, str, int], Row] = {}
    for row in rows:
        where = (row["run_id"], row["attempt"], row["key"], row["step"] // BLOCK)
        block = blocks.get(where)
        if block is None:
            block = blocks[where] = dict(zip(("run_id", "attempt", "key", "block"), where, strict=True))
            block.update({f"{end}_{name}": None for end in _ENDS for name in _PICKED}, count=0)
        block["count"] += 1
        if not _finite(row):
            continue
        for end in _ENDS:
            old = block[f"{end}_value"]
            rank = _rank(end, row["value"], row["step"], row["timestamp"])
            if old is None or rank < _rank(end, old, block[f"{end}_step"], block[f"{end}_timestamp"]):
                block.update({f"{end}_{name}": row[name] for name in _PICKED})
    return list(blocks.values())


@functools.cache
def _merge(dialect: str) -> Any:
    """The upsert that merges a block's new summary into the stored one (built once: building it
    costs more than running it for a small batch)."""
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(METRIC_BLOCKS)
    new, old = upsert.excluded, METRIC_BLOCKS.c
    merged: dict[str, Any] = {"count": old["count"] + new["count"]}
    for end in _ENDS:
        value, step, when = (f"{end}_value", f"{end}_step", f"{end}_timestamp")
        beats = new[value] < old[value] if end == "low" else new[value] > old[value]
        earlier = or_(new[step] < old[step], and_(new[step] == old[step], new[when] < old[when]))
        better = and_(
            new[value].is_not(None), or_(old[value].is_(None), beats, and_(new[value] == old[value], earlier))
        )
        merged.update(
            {f"{end}_{n}": case((better, new[f"{end}_{n}"]), else_=old[f"{end}_{n}"]) for n in _PICKED}
        )
    keys = [old.run_id, old.attempt, old.key, old.block]
    return upsert.on_conflict_do_update(index_elements=keys, set_=merged)


def add(conn: Connection, rows: list[Row]) -> None:
    """Merge the summaries of newly written metric rows into ``metric_blocks``."""
    if rows:
        conn.execute(_merge(conn.dialect.name), summaries(rows))


def rebuild(conn: Connection, chunk: int = 10_000) -> None:
    """``metric_blocks`` made again from every metric row: for a store written before it existed,
    or rows inserted around the store (benchmarks). The rows are streamed in series order and
    written a series at a time (at least ``chunk`` summaries per insert), so memory stays small."""
    conn.execute(delete(METRIC_BLOCKS))
    names = ("run_id", "attempt", "key", "step", "value", "is_nan", "negative_zero", "timestamp")
    c = METRICS.c
    query = select(*(c[n] for n in names)).order_by(c.run_id, c.attempt, c.key, c.step, c.timestamp, c.id)
    rows = conn.execute(query.execution_options(yield_per=chunk))  # a server-side cursor
    streamed = (dict(zip(names, row, strict=True)) for row in rows)
    waiting: list[Row] = []
    for _, series in itertools.groupby(streamed, key=lambda r: (r["run_id"], r["attempt"], r["key"])):
        waiting += summaries(series)
        if len(waiting) >= chunk:
            conn.execute(insert(METRIC_BLOCKS), waiting)
            waiting = []
    if waiting:
        conn.execute(insert(METRIC_BLOCKS), waiting)


# What a cut reads of each metric row: its point, and the row's id to keep ties in log order.
VALUE_COLUMNS = (
    METRICS.c.step,
    METRICS.c.value,
    METRICS.c.is_nan,
    METRICS.c.negative_zero,
    METRICS.c.timestamp,
    METRICS.c.id,
)


def width(low: int, high: int, ranges: int) -> int:
    """The steps per range when ``low`` to ``high`` is cut into at most ``ranges`` ranges of whole
    blocks starting at ``low``'s block; 0 when that would make fewer than half as many ranges
    (the span holds fewer than ``ranges / 2`` blocks: its rows are cut instead, in SQL).

    Ranges of ``k = ceil(blocks / ranges)`` blocks number ``ceil(blocks / k)``: all the blocks
    when ``k`` is 1, and more than ``ranges / 2`` when ``k`` is 2 or more, so a long series never
    draws at less than half the resolution asked.
    """
    spanned = (high - low // BLOCK * BLOCK) // BLOCK + 1
    return -(-spanned // ranges) * BLOCK if 2 * spanned >= ranges else 0


Series = tuple[str, int, int, int, int]  # run id, attempt, low and high step, step width


def cut(
    conn: Connection, key: str, where: list[Any], series: list[Series]
) -> dict[str, tuple[int, list[Point]]]:
    """Per run of ``series``, ``total`` and, per range of its step width from its low step's
    block, the smallest and largest finite value, and the first and the last value: the values
    of ``key`` of the run's attempt, ``where`` limiting the steps (both ends included). Two
    queries for all the runs: the rows of each run's end blocks, and the summaries between."""
    columns = (METRICS.c.run_id, *VALUE_COLUMNS)
    m, b = METRICS.c, METRIC_BLOCKS.c
    inside = []  # a select per run and end block, and per run of the summaries between
    between = []
    for run_id, attempt, low, high, _ in series:
        first_block, last_block = low // BLOCK, high // BLOCK
        for block in sorted({first_block, last_block}):  # the steps asked may stop inside these
            inside.append(
                select(*columns).where(
                    m.run_id == run_id,
                    m.attempt == attempt,
                    m.key == key,
                    m.step >= block * BLOCK,
                    m.step < (block + 1) * BLOCK,
                    *where,
                )
            )
        if last_block - first_block > 1:
            picked = (b[f"{end}_{n}"] for end in _ENDS for n in _PICKED)
            between.append(
                select(b.run_id, b.count, *picked).where(
                    b.run_id == run_id,
                    b.attempt == attempt,
                    b.key == key,
                    b.block > first_block,
                    b.block < last_block,
                )
            )
    ends: dict[str, list[Any]] = {s[0]: [] for s in series}
    for run_id, *point in conn.execute(inside[0] if len(inside) == 1 else union_all(*inside)):
        ends[run_id].append(point)
    for rows in ends.values():
        rows.sort(key=lambda p: (p[0], p[4], p[5]))  # step, timestamp, id
    summaries: dict[str, list[Any]] = {s[0]: [] for s in series}
    if between:
        for run_id, *row in conn.execute(between[0] if len(between) == 1 else union_all(*between)):
            summaries[run_id].append(row)
    return {
        run_id: _choose(
            [tuple(p[:5]) for p in ends[run_id]], summaries[run_id], low // BLOCK * BLOCK, step_width
        )
        for run_id, _, low, _, step_width in series
    }


def _choose(ends: list[Point], summaries: list[Any], start: int, step_width: int) -> tuple[int, list[Point]]:
    """``total`` and the points a cut keeps of one series: the rows of its end blocks (in order)
    and the summaries of the blocks between, in ranges of ``step_width`` steps from ``start``."""
    total = len(ends)
    best: dict[tuple[int, str], tuple[tuple[float, int, float], Point]] = {}

    def offer(slot: tuple[int, str], rank: tuple[float, int, float], point: Point) -> None:
        if slot not in best or rank < best[slot][0]:
            best[slot] = (rank, point)

    for point in ends:
        step, value, is_nan, _, when = point
        if not is_nan and math.isfinite(value):
            place = (step - start) // step_width
            offer((place, "low"), (value, step, when), point)
            offer((place, "high"), (-value, step, when), point)
    for count, low, low_nz, low_step, low_when, high, high_nz, high_step, high_when in summaries:
        total += count
        if low is not None:  # a block's extremes are both in its range, or it has neither
            place = (low_step - start) // step_width
            offer((place, "low"), (low, low_step, low_when), (low_step, low, False, bool(low_nz), low_when))
            point = (high_step, high, False, bool(high_nz), high_when)
            offer((place, "high"), (-high, high_step, high_when), point)
    chosen = {point for _, point in best.values()}
    if ends:
        chosen |= {ends[0], ends[-1]}
    return total, sorted(chosen, key=lambda p: (p[0], p[4], p[1]))
