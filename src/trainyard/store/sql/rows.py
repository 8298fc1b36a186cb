"""The rows a ``log_batch`` writes: validated up front, written in one transaction.

Metrics append (NaN and -0.0 stored as flags) under the run's attempt and update their blocks'
summaries (``blocks``); the latest value per key is kept in ``latest_metrics`` for run lists (of
the current attempt: a requeue clears it); params are write-once; tags overwrite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from trainyard.errors import InvalidInputError
from trainyard.limits import MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH
from trainyard.store.records import Metric
from trainyard.store.sql import blocks
from trainyard.store.sql.models import LATEST, METRICS, PARAMS, TAGS
from trainyard.store.validation import (
    validate_key,
    validate_value,
)

Row = dict[str, Any]


def _labelled_rows(run_id: str, kind: str, values: dict[str, str], limit: int) -> list[Row]:
    return [
        {"run_id": run_id, "key": validate_key(kind, k), "value": validate_value(kind, k, v, limit)}
        for k, v in values.items()
    ]


def tag_rows(run_id: str, tags: dict[str, str]) -> list[Row]:
    return _labelled_rows(run_id, "tag", tags, MAX_TAG_VALUE_LENGTH)


def _metric_row(run_id: str, m: Metric) -> Row:
    validate_key("metric", m.key)
    nan = math.isnan(m.value)
    return {
        "run_id": run_id,
        "key": m.key,
        "value": 0.0 if nan else m.value,
        "is_nan": nan,
        "negative_zero": m.value == 0.0 and math.copysign(1.0, m.value) < 0,
        "step": int(m.step),
        "timestamp": float(m.timestamp),
    }


def _newest(row: Row) -> tuple[int, float]:
    return (row["step"], row["timestamp"])


@dataclass(frozen=True)
class Batch:
    run_id: str
    metrics: list[Row]
    latest: dict[str, Row]
    params: list[Row]
    tags: list[Row]

    @classmethod
    def of(
        cls, run_id: str, metrics: Sequence[Metric], params: dict[str, str], tags: dict[str, str]
    ) -> Batch:
        metric_rows = [_metric_row(run_id, m) for m in metrics]
        latest: dict[str, Row] = {}
        for row in metric_rows:
            if row["key"] not in latest or _newest(row) >= _newest(latest[row["key"]]):
                latest[row["key"]] = row
        return cls(
            run_id,
            metric_rows,
            latest,
            _labelled_rows(run_id, "param", params, MAX_PARAM_VALUE_LENGTH),
            tag_rows(run_id, tags),
        )

    def write(self, conn: Connection, experiment_id: str, attempt: int, current: int) -> None:
        """The rows, the metrics under ``attempt``; the latest values only from the ``current`` one
        (kept with the run's experiment, which ordered searches walk by)."""
        if self.metrics:
            written = [{**row, "attempt": attempt} for row in self.metrics]
            conn.execute(insert(METRICS), written)
            blocks.add(conn, written)
            if attempt == current:  # a lost attempt's late values are history, not the run's latest
                self._update_latest(conn, experiment_id)
        if self.params:
            self._insert_params(conn)
        if self.tags:
            keys = [t["key"] for t in self.tags]
            conn.execute(delete(TAGS).where(TAGS.c.run_id == self.run_id, TAGS.c.key.in_(keys)))
            conn.execute(insert(TAGS), self.tags)

    def _update_latest(self, conn: Connection, experiment_id: str) -> None:
        query = select(LATEST.c.key, LATEST.c.step, LATEST.c.timestamp).where(
            LATEST.c.run_id == self.run_id, LATEST.c.key.in_(list(self.latest))
        )
        existing = {key: (step, ts) for key, step, ts in conn.execute(query)}
        new = [{**r, "experiment_id": experiment_id} for key, r in self.latest.items() if key not in existing]
        if new:
            conn.execute(insert(LATEST), new)
        for key, row in self.latest.items():
            if key in existing and _newest(row) >= existing[key]:
                conn.execute(
                    update(LATEST)
                    .where(LATEST.c.run_id == self.run_id, LATEST.c.key == key)
                    .values({k: row[k] for k in ("value", "is_nan", "negative_zero", "step", "timestamp")})
                )

    def _insert_params(self, conn: Connection) -> None:
        keys = [r["key"] for r in self.params]
        query = select(PARAMS.c.key, PARAMS.c.value).where(
            PARAMS.c.run_id == self.run_id, PARAMS.c.key.in_(keys)
        )
        existing = dict(conn.execute(query).all())
        for r in self.params:
            old = existing.get(r["key"])
            if old is not None and old != r["value"]:
                raise InvalidInputError(
                    f"param {r['key']!r} is already {old!r} on this run and params cannot change "
                    f"(got {r['value']!r}); log a metric or a tag for values that change"
                )
        fresh = [r for r in self.params if r["key"] not in existing]
        if fresh:
            conn.execute(insert(PARAMS), fresh)
