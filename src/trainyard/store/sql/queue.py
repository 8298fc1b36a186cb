"""The agents' queue of ``SqlStore``, read straight from the runs table (the server-only part)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from trainyard.status import RunStatus
from trainyard.store.sql.engine import read_tx
from trainyard.store.sql.models import RUNS


class SqlQueue:
    engine: Engine

    def queued_run_ids(self, compute: str, limit: int = 8) -> list[str]:
        query = (
            select(RUNS.c.id)
            .where(
                RUNS.c.status == RunStatus.QUEUED.value, RUNS.c.compute == compute, RUNS.c.worker.is_(None)
            )
            .order_by(RUNS.c.created_at)
            .limit(limit)
        )
        with read_tx(self.engine) as conn:
            return list(conn.execute(query).scalars())
