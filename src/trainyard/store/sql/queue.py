"""The agents' queue, read straight from the runs table (server side, like ``store/sql/auth.py``).

A claim polls this every 0.1 s per waiting agent, so it is one indexed query for ids only, not a
``search_runs`` that fills in params, tags and metrics.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from trainyard.status import RunStatus
from trainyard.store.sql.engine import read_tx
from trainyard.store.sql.models import RUNS


def queued_for(engine: Engine, compute: str, limit: int = 8) -> list[str]:
    """Ids of the oldest runs waiting for an agent of ``compute`` (queued, no worker on them)."""
    query = (
        select(RUNS.c.id)
        .where(RUNS.c.status == RunStatus.QUEUED.value, RUNS.c.compute == compute, RUNS.c.worker.is_(None))
        .order_by(RUNS.c.created_at)
        .limit(limit)
    )
    with read_tx(engine) as conn:
        return list(conn.execute(query).scalars())
