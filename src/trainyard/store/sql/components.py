"""The components half of ``SqlStore``: registered command components, string versions per name.

A version without a given name is numbered inside the write transaction that inserts it (the
name's highest whole-number version plus one), as is ``seq``, the order of creation: SQLite
serializes write transactions; on PostgreSQL two creates at once collide on a key and the loser's
transaction is run again, checking for the same content again first.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.store.records import ComponentVersion
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import COMPONENTS
from trainyard.store.validation import check_component_ref

_KEY_RETRIES = 5


def _record(row: Any) -> ComponentVersion:
    fields = dict(row)
    fields.pop("seq")
    fields["spec"] = dict(fields["spec"])
    return ComponentVersion(**fields)


def _no_component(name: str, version: str | None = None) -> NotFoundError:
    what = f"component {name!r}" if version is None else f"version {version!r} of component {name!r}"
    return NotFoundError(f"there is no {what}; `trainyard component list` shows the components")


def next_version(versions: list[str]) -> str:
    """The version a create without one gets: after the highest whole-number one."""
    return str(max((int(v) for v in versions if v.isdigit()), default=0) + 1)


class SqlComponents:
    """Component versions over ``engine``."""

    engine: Engine

    def create_component_version(
        self,
        name: str,
        *,
        version: str | None,
        spec: dict[str, Any],
        content_hash: str,
        snapshot_id: str | None = None,
    ) -> ComponentVersion:
        check_component_ref(name, version)
        if not isinstance(spec, dict):
            raise InvalidInputError(f"component {name!r}: the spec must be a mapping")

        def tx() -> ComponentVersion:
            with write_tx(self.engine) as conn:
                query = select(COMPONENTS).where(COMPONENTS.c.name == name).order_by(COMPONENTS.c.seq)
                rows = [dict(r) for r in conn.execute(query).mappings().all()]
                if version is None:
                    same = [r for r in rows if r["content_hash"] == content_hash]
                    if same:  # unchanged content: the newest version that has it
                        return _record(same[-1])
                    chosen = next_version([r["version"] for r in rows])
                else:
                    existing = next((r for r in rows if r["version"] == version), None)
                    if existing is not None:
                        if existing["content_hash"] == content_hash:
                            return _record(existing)
                        raise InvalidInputError(
                            f"component {name!r} version {version!r} is already registered with other "
                            "content; give a new version, or leave the version out to number it"
                        )
                    chosen = version
                seq = max((r["seq"] for r in rows), default=0) + 1
                row = {
                    "name": name,
                    "version": chosen,
                    "seq": seq,
                    "spec": spec,
                    "content_hash": content_hash,
                    "snapshot_id": snapshot_id,
                    "created_at": time.time(),
                }
                conn.execute(insert(COMPONENTS).values(**row))
                return self._component(conn, name, chosen)

        for attempt in range(_KEY_RETRIES):
            try:
                return with_retries(tx)
            except IntegrityError:  # another create took the version or seq first: again
                if attempt == _KEY_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _component(self, conn: Connection, name: str, version: str) -> ComponentVersion:
        query = select(COMPONENTS).where(COMPONENTS.c.name == name, COMPONENTS.c.version == version)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise _no_component(name, version)
        return _record(row)

    def get_component_version(self, name: str, version: str | None = None) -> ComponentVersion:
        with read_tx(self.engine) as conn:
            if version is not None:
                return self._component(conn, name, str(version))
            query = (
                select(COMPONENTS)
                .where(COMPONENTS.c.name == name, COMPONENTS.c.archived == False)  # noqa: E712 - SQL
                .order_by(COMPONENTS.c.seq.desc())
                .limit(1)
            )
            row = conn.execute(query).mappings().first()
        if row is None:
            raise _no_component(name)
        return _record(row)

    def list_component_versions(self, name: str | None = None) -> list[ComponentVersion]:
        if name is not None:
            query = select(COMPONENTS).where(COMPONENTS.c.name == name).order_by(COMPONENTS.c.seq.desc())
        else:
            live = COMPONENTS.c.archived == False  # noqa: E712 - SQL, not Python
            newest = (
                select(COMPONENTS.c.name, func.max(COMPONENTS.c.seq).label("seq"))
                .where(live)
                .group_by(COMPONENTS.c.name)
                .subquery()
            )
            query = (
                select(COMPONENTS)
                .join(newest, (newest.c.name == COMPONENTS.c.name) & (newest.c.seq == COMPONENTS.c.seq))
                .order_by(COMPONENTS.c.name)
            )
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        if name is not None and not rows:
            raise _no_component(name)
        return [_record(r) for r in rows]

    def set_component_version_archived(self, name: str, version: str, archived: bool) -> ComponentVersion:
        def tx() -> ComponentVersion:
            with write_tx(self.engine) as conn:
                self._component(conn, name, version)
                conn.execute(
                    update(COMPONENTS)
                    .where(COMPONENTS.c.name == name, COMPONENTS.c.version == version)
                    .values(archived=bool(archived))
                )
                return self._component(conn, name, version)

        return with_retries(tx)
