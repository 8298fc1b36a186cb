"""The datastores half of ``SqlStore``: named storage locations, and what keeps them referenced.

A delete locks the datastore's row (``FOR UPDATE``) before it counts the versions on it, and a
data version's create locks the row it names for share (``lock_datastore``) before it inserts: on
PostgreSQL one of the two waits for the other, so a version never names a deleted datastore;
SQLite serializes the write transactions anyway.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.datastores import check_datastore, check_datastore_name
from trainyard.store.records import DEFAULT_DATASTORE, DatastoreRecord
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.idempotency import SqlIdempotency
from trainyard.store.sql.models import DATA_VERSIONS, DATASTORES

_SHOWN = 5  # versions named in a refused delete


def _record(row: Any) -> DatastoreRecord:
    fields = dict(row)
    fields["credentials"] = dict(fields["credentials"] or {})
    return DatastoreRecord(**fields)


def _no_datastore(name: str) -> NotFoundError:
    return NotFoundError(f"there is no datastore {name!r}; `trainyard datastore list` shows the datastores")


def lock_datastore(conn: Connection, name: str) -> None:
    """Inside a write: ``NotFoundError`` unless ``name`` is built in or stored (its row held for share)."""
    if name == DEFAULT_DATASTORE:
        return
    query = select(DATASTORES.c.name).where(DATASTORES.c.name == name).with_for_update(read=True)
    if conn.execute(query).first() is None:
        raise _no_datastore(name)


class SqlDatastores(SqlIdempotency):
    """Datastores over ``engine``."""

    engine: Engine

    def create_datastore(
        self,
        name: str,
        *,
        url: str,
        endpoint: str | None = None,
        credentials: dict[str, str] | None = None,
        description: str | None = None,
    ) -> DatastoreRecord:
        kind, url, credentials = check_datastore(name, url, endpoint, credentials)
        row = {
            "name": name,
            "type": kind,
            "url": url,
            "endpoint": endpoint,
            "credentials": credentials,
            "description": description,
            "created_at": time.time(),
        }

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(insert(DATASTORES).values(**row))
            return {"name": name}

        try:
            self._create("datastore", write)  # once per idempotency key: a retried create is no clash
        except IntegrityError:
            raise AlreadyExistsError(
                f"a datastore named {name!r} already exists; `trainyard datastore delete {name}` first"
            ) from None
        return self.get_datastore(name)

    def get_datastore(self, name: str) -> DatastoreRecord:
        check_datastore_name(name)
        with read_tx(self.engine) as conn:
            row = conn.execute(select(DATASTORES).where(DATASTORES.c.name == name)).mappings().first()
        if row is None:
            raise _no_datastore(name)
        return _record(row)

    def list_datastores(self) -> list[DatastoreRecord]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(DATASTORES).order_by(DATASTORES.c.name)).mappings().all()
        return [_record(r) for r in rows]

    def delete_datastore(self, name: str) -> None:
        check_datastore_name(name)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                locked = select(DATASTORES.c.name).where(DATASTORES.c.name == name).with_for_update()
                if conn.execute(locked).first() is None:
                    raise _no_datastore(name)
                on_it = (
                    select(DATA_VERSIONS.c.name, DATA_VERSIONS.c.version)
                    .where(DATA_VERSIONS.c.datastore == name)
                    .order_by(DATA_VERSIONS.c.name, DATA_VERSIONS.c.version)
                )
                versions = conn.execute(on_it.limit(_SHOWN + 1)).all()
                if versions:
                    named = ", ".join(f"{v.name}:{v.version}" for v in versions[:_SHOWN])
                    more = " and more" if len(versions) > _SHOWN else ""
                    raise InvalidInputError(
                        f"datastore {name!r} cannot be deleted: data asset versions are on it ({named}{more})"
                    )
                conn.execute(delete(DATASTORES).where(DATASTORES.c.name == name))

        with_retries(tx)
