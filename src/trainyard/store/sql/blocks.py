"""Metric values summarised per block of steps as they are logged, and long series cut from them.

A chart of a million values draws ~1,200: each step range's smallest and largest value
(``Store.get_metric_series``). Finding those in the rows is a pass over the whole series (2 s
of SQLite for 1,000,000 rows, most of it sorting the rows into ranges), so every batch also
updates ``metric_blocks``: per ``BLOCK`` steps, the count and the extremes with the step and
time they were logged at. A long series is then cut into ranges of whole blocks, read from
about ``1 / BLOCK`` as many rows; the two blocks at the ends are read from the rows, since the
steps asked may start or stop inside them.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, case, delete, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from trainyard.store.sql.models import METRIC_BLOCKS, METRICS

BLOCK = 64  # steps per block
# A cut reads blocks when each range spans at least this many of them (fewer: the rows, in SQL).
MIN_BLOCKS_PER_RANGE = 4
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


def width(low: int, high: int, ranges: int) -> int:
    """The steps per range when ``low`` to ``high`` is cut into at most ``ranges`` ranges of whole
    blocks starting at ``low``'s block; 0 when ranges that wide would hold too few blocks."""
    start = low // BLOCK * BLOCK
    blocks = -(-(high - start + 1) // (ranges * BLOCK))
    return blocks * BLOCK if blocks >= MIN_BLOCKS_PER_RANGE else 0


def cut(
    conn: Connection, where: list[Any], ident: tuple[str, int, str], low: int, high: int, step_width: int
) -> tuple[int, list[Point]]:
    """``total`` and, per range of ``step_width`` steps from ``low``'s block, its smallest and
    largest finite value, and the first and the last value; ``where`` picks the metric's rows,
    ``ident`` its run, attempt and key."""
    run_id, attempt, key = ident
    first_block, last_block = low // BLOCK, high // BLOCK
    columns = (
        METRICS.c.step,
        METRICS.c.value,
        METRICS.c.is_nan,
        METRICS.c.negative_zero,
        METRICS.c.timestamp,
    )
    order = (METRICS.c.step, METRICS.c.timestamp, METRICS.c.id)
    ends: list[Point] = []
    for block in sorted({first_block, last_block}):  # the steps asked may stop inside these
        inside = (METRICS.c.step >= block * BLOCK, METRICS.c.step < (block + 1) * BLOCK)
        ends += [tuple(r) for r in conn.execute(select(*columns).where(*where, *inside).order_by(*order))]
    b = METRIC_BLOCKS.c
    query = select(b.count, *(b[f"{end}_{n}"] for end in _ENDS for n in _PICKED)).where(
        b.run_id == run_id, b.attempt == attempt, b.key == key, b.block > first_block, b.block < last_block
    )
    start = first_block * BLOCK
    total = len(ends)
    best: dict[tuple[int, str], tuple[tuple[float, int, float], Point]] = {}

    def offer(end: str, point: Point) -> None:
        step, value, _, _, when = point
        slot = ((step - start) // step_width, end)
        rank = _rank(end, value, step, when)
        if slot not in best or rank < best[slot][0]:
            best[slot] = (rank, point)

    for point in ends:
        if not point[2] and math.isfinite(point[1]):
            for end in _ENDS:
                offer(end, point)
    for count, *picked in conn.execute(query):
        total += count
        for i, end in enumerate(_ENDS):
            value, negative_zero, step, when = picked[i * 4 : i * 4 + 4]
            if value is not None:
                offer(end, (step, value, False, bool(negative_zero), when))
    chosen = {point for _, point in best.values()}
    if ends:
        chosen |= {ends[0], ends[-1]}
    return total, sorted(chosen, key=lambda p: (p[0], p[4], p[1]))
