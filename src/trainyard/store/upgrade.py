"""Schema migration of a workspace's SQL store, by URI: what ``trainyard db upgrade`` and
``trainyard server`` do before they open the store, without reaching into ``store.sql`` themselves."""

from __future__ import annotations

from trainyard.errors import WorkspaceError
from trainyard.store.sql import schema
from trainyard.store.sql.engine import make_engine

HEAD = schema.HEAD


def schema_revision(uri: str) -> str | None:
    """The store's schema revision (None for an empty database)."""
    engine = make_engine(uri)
    try:
        return schema.current_revision(engine)
    finally:
        engine.dispose()


def upgrade_schema(uri: str) -> str | None:
    """Migrate the store to ``HEAD``; returns the revision it started from (None: it was empty).

    A revision this trainyard does not know was written by a newer one: ``WorkspaceError``, and
    nothing is changed.
    """
    engine = make_engine(uri)
    try:
        rev = schema.current_revision(engine)
        if rev is not None and rev not in schema.KNOWN:
            raise WorkspaceError(
                f"the store is at schema {rev}, which this trainyard ({HEAD}) does not know; "
                "it was written by a newer trainyard: upgrade trainyard"
            )
        return schema.upgrade(engine)
    finally:
        engine.dispose()
