"""The agents' queue of ``SqlStore``, read straight from the runs table, and the agents seen
(the server-only part)."""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from trainyard.status import RunStatus
from trainyard.store.queue import AGENT_MEMORY_SECONDS, TASK_TAG, AgentSighting, QueueRun
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import AGENTS, RUNS, TAGS

ON_QUEUE = (RunStatus.QUEUED.value, RunStatus.PREPARING.value, RunStatus.RUNNING.value)


class SqlQueue:
    engine: Engine

    def queued_run_ids(self, compute: str, limit: int = 8) -> list[str]:
        """The oldest queued runs an agent for ``compute`` may claim: not a driver's Ray tasks'."""
        a_task = exists().where(TAGS.c.run_id == RUNS.c.id, TAGS.c.key == TASK_TAG, TAGS.c.value == "true")
        query = (
            select(RUNS.c.id)
            .where(
                RUNS.c.status == RunStatus.QUEUED.value,
                RUNS.c.compute == compute,
                RUNS.c.worker.is_(None),
                ~a_task,
            )
            .order_by(RUNS.c.created_at)
            .limit(limit)
        )
        with read_tx(self.engine) as conn:
            return list(conn.execute(query).scalars())

    def record_agent(self, agent: str, compute: str, user: str) -> None:
        now = time.time()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        seen = {"compute": compute, "user_name": user, "last_seen": now}
        upsert = dialect.insert(AGENTS).values(id=agent, **seen)
        upsert = upsert.on_conflict_do_update(index_elements=[AGENTS.c.id], set_=seen)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(delete(AGENTS).where(AGENTS.c.last_seen < now - AGENT_MEMORY_SECONDS))
                conn.execute(upsert)

        with_retries(tx)

    def list_agents(self) -> list[AgentSighting]:
        query = (
            select(AGENTS)
            .where(AGENTS.c.last_seen >= time.time() - AGENT_MEMORY_SECONDS)
            .order_by(AGENTS.c.compute, AGENTS.c.id)
        )
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [AgentSighting(r["id"], r["compute"], r["user_name"], r["last_seen"]) for r in rows]

    def queue_runs(self, compute: str | None = None) -> list[QueueRun]:
        columns = (RUNS.c.id, RUNS.c.compute, RUNS.c.status, RUNS.c.worker, RUNS.c.heartbeat_at)
        query = select(*columns).where(RUNS.c.status.in_(ON_QUEUE), RUNS.c.compute.is_not(None))
        if compute is not None:
            query = query.where(RUNS.c.compute == compute)
        with read_tx(self.engine) as conn:
            rows = conn.execute(query.order_by(RUNS.c.created_at)).all()
        return [QueueRun(r.id, r.compute, RunStatus(r.status), r.worker, r.heartbeat_at) for r in rows]
