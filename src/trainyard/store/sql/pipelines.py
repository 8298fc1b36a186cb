"""The published-pipelines half of ``SqlStore``: endpoints, their versions, schedules, firings.

A version's number is the endpoint's ``latest_version`` plus one, read with the endpoint's row
locked (``FOR UPDATE``; SQLite serializes write transactions) in the transaction that inserts
it. A firing is claimed with one conditional ``UPDATE schedules SET next_fire = :next WHERE
name = :name AND next_fire = :due AND enabled``; the claimer is whoever's update touched the
row, and it inserts the firing in that transaction.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.limits import MAX_TAG_VALUE_LENGTH
from trainyard.store.records import (
    MISSED_POLICIES,
    SCHEDULE_TRIGGERS,
    PipelineEndpoint,
    PublishedPipeline,
    Schedule,
    ScheduleFiring,
)
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.idempotency import SqlIdempotency
from trainyard.store.sql.models import PIPELINE_ENDPOINTS, PUBLISHED_PIPELINES, SCHEDULE_FIRINGS, SCHEDULES
from trainyard.store.validation import check_labels, check_name

FIRING_ACTIONS = ("run", "skip")


def _no_pipeline(name: str, version: int | None = None) -> NotFoundError:
    what = f"published pipeline {name!r}" if version is None else f"version {version} of pipeline {name!r}"
    return NotFoundError(f"there is no {what}; `trainyard pipeline published list` shows them")


def _no_schedule(name: str) -> NotFoundError:
    return NotFoundError(f"there is no schedule {name!r}; `trainyard schedule list` shows them")


def _schedule(row: Any) -> Schedule:
    fields = dict(row)
    fields["inputs"] = dict(fields["inputs"] or {})
    return Schedule(**fields)


class SqlPipelines(SqlIdempotency):
    """Published pipelines and schedules over ``engine``."""

    engine: Engine

    # published pipelines -----------------------------------------------------------------------
    def publish_pipeline(
        self,
        name: str,
        pipeline: dict[str, Any],
        *,
        description: str | None = None,
        make_default: bool = False,
    ) -> PublishedPipeline:
        check_name("pipeline", name)
        if not isinstance(pipeline, dict):
            raise InvalidInputError(f"pipeline {name!r}: the published record must be a JSON object")

        now = time.time()
        try:  # the endpoint's row first: it is what numbering versions locks
            with write_tx(self.engine) as conn:
                if self._pipeline_endpoint(conn, name) is None:
                    conn.execute(
                        insert(PIPELINE_ENDPOINTS).values(
                            name=name,
                            default_version=1,
                            latest_version=0,
                            description=description,
                            created_at=now,
                            updated_at=now,
                        )
                    )
        except IntegrityError:
            pass  # another process published the name at the same moment

        def write(conn: Connection) -> dict[str, Any]:
            latest = conn.execute(
                select(PIPELINE_ENDPOINTS.c.latest_version)
                .where(PIPELINE_ENDPOINTS.c.name == name)
                .with_for_update()
            ).scalar_one()
            version = latest + 1
            changes: dict[str, Any] = {"latest_version": version, "updated_at": time.time()}
            if make_default:
                changes["default_version"] = version
            if description is not None:
                changes["description"] = description
            conn.execute(
                update(PIPELINE_ENDPOINTS).where(PIPELINE_ENDPOINTS.c.name == name).values(**changes)
            )
            conn.execute(
                insert(PUBLISHED_PIPELINES).values(
                    name=name,
                    version=version,
                    pipeline=pipeline,
                    description=description,
                    created_at=time.time(),
                )
            )
            return {"name": name, "version": version}

        made = self._create("published_pipeline", write)
        return self.get_published_pipeline(made["name"], made["version"])

    def _pipeline_endpoint(self, conn: Connection, name: str) -> PipelineEndpoint | None:
        row = (
            conn.execute(select(PIPELINE_ENDPOINTS).where(PIPELINE_ENDPOINTS.c.name == name))
            .mappings()
            .first()
        )
        return None if row is None else PipelineEndpoint(**dict(row))

    def _pipeline_version(self, conn: Connection, name: str, version: int) -> PublishedPipeline:
        query = select(PUBLISHED_PIPELINES).where(
            PUBLISHED_PIPELINES.c.name == name, PUBLISHED_PIPELINES.c.version == version
        )
        row = conn.execute(query).mappings().first()
        if row is None:
            raise _no_pipeline(name, version)
        return PublishedPipeline(**dict(row))

    def get_published_pipeline(self, name: str, version: int | None = None) -> PublishedPipeline:
        with read_tx(self.engine) as conn:
            if version is None:
                endpoint = self._pipeline_endpoint(conn, name)
                if endpoint is None:
                    raise _no_pipeline(name)
                version = endpoint.default_version
            return self._pipeline_version(conn, name, int(version))

    def list_published_pipelines(self, name: str) -> list[PublishedPipeline]:
        query = (
            select(PUBLISHED_PIPELINES)
            .where(PUBLISHED_PIPELINES.c.name == name)
            .order_by(PUBLISHED_PIPELINES.c.version.desc())
        )
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        if not rows:
            raise _no_pipeline(name)
        return [PublishedPipeline(**dict(r)) for r in rows]

    def get_pipeline_endpoint(self, name: str) -> PipelineEndpoint:
        with read_tx(self.engine) as conn:
            found = self._pipeline_endpoint(conn, name)
        if found is None:
            raise _no_pipeline(name)
        return found

    def list_pipeline_endpoints(self) -> list[PipelineEndpoint]:
        with read_tx(self.engine) as conn:
            rows = (
                conn.execute(select(PIPELINE_ENDPOINTS).order_by(PIPELINE_ENDPOINTS.c.name)).mappings().all()
            )
        return [PipelineEndpoint(**dict(r)) for r in rows]

    def set_pipeline_default(self, name: str, version: int) -> PipelineEndpoint:
        def tx() -> PipelineEndpoint:
            with write_tx(self.engine) as conn:
                self._pipeline_version(conn, name, int(version))
                conn.execute(
                    update(PIPELINE_ENDPOINTS)
                    .where(PIPELINE_ENDPOINTS.c.name == name)
                    .values(default_version=int(version), updated_at=time.time())
                )
                found = self._pipeline_endpoint(conn, name)
                assert found is not None  # its version exists
                return found

        return with_retries(tx)

    # schedules -----------------------------------------------------------------------------------
    def create_schedule(
        self,
        name: str,
        *,
        pipeline: str,
        trigger: str,
        spec: str,
        next_fire: float,
        inputs: dict[str, str] | None = None,
        missed: str = "run-once",
        watermark: str | None = None,
        poll_seconds: float | None = None,
    ) -> Schedule:
        check_name("schedule", name)
        if trigger not in SCHEDULE_TRIGGERS:
            raise InvalidInputError(
                f"schedule trigger {trigger!r} is not one of {', '.join(SCHEDULE_TRIGGERS)}"
            )
        if missed not in MISSED_POLICIES:
            raise InvalidInputError(
                f"missed-time policy {missed!r} is not one of {', '.join(MISSED_POLICIES)}"
            )
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidInputError(f"schedule {name!r}: its {trigger} trigger needs a value")
        row = {
            "name": name,
            "pipeline": pipeline,
            "trigger": trigger,
            "spec": spec,
            "inputs": check_labels("input", inputs, MAX_TAG_VALUE_LENGTH),
            "missed": missed,
            "enabled": True,
            "next_fire": float(next_fire),
            "watermark": watermark,
            "poll_seconds": None if poll_seconds is None else float(poll_seconds),
            "created_at": time.time(),
        }

        def write(conn: Connection) -> dict[str, Any]:
            if self._pipeline_endpoint(conn, pipeline) is None:
                raise _no_pipeline(pipeline)
            if self._schedule_row(conn, name) is not None:
                raise AlreadyExistsError(
                    f"schedule {name!r} already exists; delete it first or pick another name"
                )
            conn.execute(insert(SCHEDULES).values(**row))
            return {"name": name}

        try:
            made = self._create("schedule", write)
        except IntegrityError:  # created at the same moment by another process
            raise AlreadyExistsError(f"schedule {name!r} already exists") from None
        return self.get_schedule(made["name"])

    def _schedule_row(self, conn: Connection, name: str) -> Any:
        return conn.execute(select(SCHEDULES).where(SCHEDULES.c.name == name)).mappings().first()

    def _read_schedule(self, conn: Connection, name: str) -> Schedule:
        row = self._schedule_row(conn, name)
        if row is None:
            raise _no_schedule(name)
        return _schedule(row)

    def get_schedule(self, name: str) -> Schedule:
        with read_tx(self.engine) as conn:
            return self._read_schedule(conn, name)

    def list_schedules(self) -> list[Schedule]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(SCHEDULES).order_by(SCHEDULES.c.name)).mappings().all()
        return [_schedule(r) for r in rows]

    def set_schedule_enabled(self, name: str, enabled: bool, *, next_fire: float | None = None) -> Schedule:
        changes: dict[str, Any] = {"enabled": bool(enabled)}
        if next_fire is not None:
            changes["next_fire"] = float(next_fire)

        def tx() -> Schedule:
            with write_tx(self.engine) as conn:
                self._read_schedule(conn, name)
                conn.execute(update(SCHEDULES).where(SCHEDULES.c.name == name).values(**changes))
                return self._read_schedule(conn, name)

        return with_retries(tx)

    def delete_schedule(self, name: str) -> None:
        def tx() -> None:
            with write_tx(self.engine) as conn:
                self._read_schedule(conn, name)
                conn.execute(delete(SCHEDULE_FIRINGS).where(SCHEDULE_FIRINGS.c.schedule == name))
                conn.execute(delete(SCHEDULES).where(SCHEDULES.c.name == name))

        with_retries(tx)

    def claim_schedule_fire(
        self,
        name: str,
        *,
        due: float,
        next_fire: float,
        action: str,
        missed: int = 0,
        watermark: str | None = None,
    ) -> ScheduleFiring | None:
        if action not in FIRING_ACTIONS:
            raise InvalidInputError(f"firing action {action!r} is not one of {', '.join(FIRING_ACTIONS)}")
        changes: dict[str, Any] = {"next_fire": float(next_fire)}
        if watermark is not None:
            changes["watermark"] = watermark

        def tx() -> ScheduleFiring | None:
            with write_tx(self.engine) as conn:
                claimed = conn.execute(
                    update(SCHEDULES)
                    .where(
                        SCHEDULES.c.name == name,
                        SCHEDULES.c.next_fire == float(due),
                        SCHEDULES.c.enabled == True,  # noqa: E712 - SQL, not Python
                    )
                    .values(**changes)
                ).rowcount
                if claimed != 1:
                    return None
                firing = {
                    "schedule": name,
                    "due": float(due),
                    "claimed_at": time.time(),
                    "action": action,
                    "missed": int(missed),
                }
                new_id = conn.execute(insert(SCHEDULE_FIRINGS).values(**firing)).inserted_primary_key
                assert new_id is not None
                return self._schedule_firing(conn, int(new_id[0]))

        return with_retries(tx)

    def _schedule_firing(self, conn: Connection, firing_id: int) -> ScheduleFiring:
        row = (
            conn.execute(select(SCHEDULE_FIRINGS).where(SCHEDULE_FIRINGS.c.id == firing_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"there is no schedule firing {firing_id}")
        return ScheduleFiring(**dict(row))

    def finish_schedule_firing(
        self, firing_id: int, *, run_id: str | None = None, error: str | None = None
    ) -> ScheduleFiring:
        def tx() -> ScheduleFiring:
            with write_tx(self.engine) as conn:
                self._schedule_firing(conn, int(firing_id))
                conn.execute(
                    update(SCHEDULE_FIRINGS)
                    .where(SCHEDULE_FIRINGS.c.id == int(firing_id))
                    .values(run_id=run_id, error=None if error is None else error[:2000])
                )
                return self._schedule_firing(conn, int(firing_id))

        return with_retries(tx)

    def list_schedule_firings(self, name: str, *, limit: int = 20) -> list[ScheduleFiring]:
        query = (
            select(SCHEDULE_FIRINGS)
            .where(SCHEDULE_FIRINGS.c.schedule == name)
            .order_by(SCHEDULE_FIRINGS.c.id.desc())
            .limit(max(1, int(limit)))
        )
        with read_tx(self.engine) as conn:
            self._read_schedule(conn, name)
            rows = conn.execute(query).mappings().all()
        return [ScheduleFiring(**dict(r)) for r in rows]
