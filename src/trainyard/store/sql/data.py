"""The data half of ``SqlStore``: data asset versions numbered per name, and run lineage.

A version's number is the name's highest plus one, taken inside the write transaction that
inserts it: SQLite serializes write transactions; on PostgreSQL two creates at once collide on
the primary key and the loser's transaction is run again (``with_retries`` on the conflict).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.limits import MAX_TAG_VALUE_LENGTH
from trainyard.store.records import DATA_TYPES, DEFAULT_DATASTORE, DataLineage, DataVersion
from trainyard.store.sql.datastores import lock_datastore
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import DATA_LINEAGE, DATA_VERSIONS, RUNS
from trainyard.store.validation import check_labels, check_model_name

DIRECTIONS = ("read", "written")
_PK_RETRIES = 5


def _record(row: Any) -> DataVersion:
    fields = dict(row)
    fields["table"] = fields.pop("table_stats")
    fields["tags"] = dict(fields["tags"] or {})
    return DataVersion(**fields)


def _no_data(name: str, version: int | None = None) -> NotFoundError:
    what = f"data asset {name!r}" if version is None else f"version {version} of data asset {name!r}"
    return NotFoundError(f"there is no {what}; `trainyard data list` shows the data assets")


def check_data_type(type: str) -> str:
    if type not in DATA_TYPES:
        raise InvalidInputError(f"data type {type!r} is not one of {', '.join(DATA_TYPES)}")
    return type


class SqlData:
    """Data versions and lineage over ``engine``."""

    engine: Engine

    def create_data_version(
        self,
        name: str,
        *,
        type: str,
        content_hash: str,
        size_bytes: int,
        file_count: int,
        prefix: str | None = None,
        uri: str | None = None,
        datastore: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        table: dict[str, Any] | None = None,
        created_by_run: str | None = None,
    ) -> DataVersion:
        check_model_name(name)
        check_data_type(type)
        if (prefix is None) == (uri is None):
            raise InvalidInputError(
                f"data asset {name!r}: give the files' prefix or a reference uri, not both"
            )
        row = {
            "name": name,
            "type": type,
            "description": description,
            "tags": check_labels("tag", tags, MAX_TAG_VALUE_LENGTH),
            "datastore": datastore or DEFAULT_DATASTORE,
            "prefix": prefix,
            "uri": uri,
            "content_hash": content_hash,
            "size_bytes": int(size_bytes),
            "file_count": int(file_count),
            "table_stats": table,
            "created_by_run": created_by_run,
        }

        def tx() -> DataVersion:
            with write_tx(self.engine) as conn:
                lock_datastore(conn, datastore or DEFAULT_DATASTORE)  # a delete of it waits, or went first
                latest = self._latest(conn, name, include_archived=True)
                if latest is not None and latest.content_hash == content_hash:
                    return latest  # unchanged content: the version that has it already
                version = (latest.version if latest else 0) + 1
                if created_by_run is not None and not _run_exists(conn, created_by_run):
                    raise NotFoundError(
                        f"cannot create data asset {name!r}: no run with id {created_by_run!r}"
                    )
                conn.execute(insert(DATA_VERSIONS).values(**row, version=version, created_at=time.time()))
                return self._read(conn, name, version)

        for attempt in range(_PK_RETRIES):
            try:
                return with_retries(tx)
            except IntegrityError:  # another create took the number first: number again
                if attempt == _PK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _latest(self, conn: Connection, name: str, *, include_archived: bool = False) -> DataVersion | None:
        query = select(DATA_VERSIONS).where(DATA_VERSIONS.c.name == name)
        if not include_archived:
            query = query.where(DATA_VERSIONS.c.archived == False)  # noqa: E712 - SQL, not Python
        row = conn.execute(query.order_by(DATA_VERSIONS.c.version.desc()).limit(1)).mappings().first()
        return None if row is None else _record(row)

    def _read(self, conn: Connection, name: str, version: int) -> DataVersion:
        query = select(DATA_VERSIONS).where(DATA_VERSIONS.c.name == name, DATA_VERSIONS.c.version == version)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise _no_data(name, version)
        return _record(row)

    def get_data_version(self, name: str, version: int | None = None) -> DataVersion:
        with read_tx(self.engine) as conn:
            if version is not None:
                return self._read(conn, name, int(version))
            found = self._latest(conn, name)
        if found is None:
            raise _no_data(name)
        return found

    def list_data_versions(self, name: str | None = None) -> list[DataVersion]:
        query = select(DATA_VERSIONS)
        if name is not None:
            query = query.where(DATA_VERSIONS.c.name == name).order_by(DATA_VERSIONS.c.version.desc())
        else:
            newest = select(DATA_VERSIONS.c.name, func.max(DATA_VERSIONS.c.version).label("v")).group_by(
                DATA_VERSIONS.c.name
            )
            sub = newest.subquery()
            query = query.join(
                sub, (sub.c.name == DATA_VERSIONS.c.name) & (sub.c.v == DATA_VERSIONS.c.version)
            ).order_by(DATA_VERSIONS.c.name)
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        if name is not None and not rows:
            raise _no_data(name)
        return [_record(r) for r in rows]

    def set_data_version_archived(self, name: str, version: int, archived: bool) -> DataVersion:
        def tx() -> DataVersion:
            with write_tx(self.engine) as conn:
                self._read(conn, name, version)
                conn.execute(
                    update(DATA_VERSIONS)
                    .where(DATA_VERSIONS.c.name == name, DATA_VERSIONS.c.version == version)
                    .values(archived=bool(archived))
                )
                return self._read(conn, name, version)

        return with_retries(tx)

    def record_data_lineage(self, run_id: str, name: str, version: int, direction: str) -> None:
        if direction not in DIRECTIONS:
            raise InvalidInputError(f"lineage direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
        key = {"run_id": run_id, "name": name, "version": int(version), "direction": direction}

        def tx() -> None:
            with write_tx(self.engine) as conn:
                if not _run_exists(conn, run_id):
                    raise NotFoundError(f"no run with id {run_id!r}")
                self._read(conn, name, int(version))
                query = select(DATA_LINEAGE.c.run_id).where(*(DATA_LINEAGE.c[k] == v for k, v in key.items()))
                if conn.execute(query).first() is None:
                    conn.execute(insert(DATA_LINEAGE).values(**key))

        with_retries(tx)

    def list_data_lineage(
        self, *, run_id: str | None = None, name: str | None = None, version: int | None = None
    ) -> list[DataLineage]:
        query = select(DATA_LINEAGE)
        for column, value in (("run_id", run_id), ("name", name), ("version", version)):
            if value is not None:
                query = query.where(DATA_LINEAGE.c[column] == value)
        order = (DATA_LINEAGE.c.run_id, DATA_LINEAGE.c.name, DATA_LINEAGE.c.version, DATA_LINEAGE.c.direction)
        with read_tx(self.engine) as conn:
            rows = conn.execute(query.order_by(*order)).mappings().all()
        return [DataLineage(**dict(r)) for r in rows]


def _run_exists(conn: Connection, run_id: str) -> bool:
    return conn.execute(select(RUNS.c.id).where(RUNS.c.id == run_id)).first() is not None
