"""``SqlStore``: the Store over SQLAlchemy Core, for SQLite and PostgreSQL.

One class per part (``tracking``, ``environments``, ``registry``, ``data``, ``datastores``,
``components``, ``endpoints``, ``pipelines``; ``auth``, ``queue`` and ``idempotency`` for the
server-only part), composed here over one engine.
"""

from __future__ import annotations

from sqlalchemy import Engine

from trainyard.store.base import Store
from trainyard.store.server import ServerStore
from trainyard.store.sql import schema
from trainyard.store.sql.auth import SqlAuth
from trainyard.store.sql.components import SqlComponents
from trainyard.store.sql.data import SqlData
from trainyard.store.sql.datastores import SqlDatastores
from trainyard.store.sql.endpoints import SqlEndpoints
from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.environments import SqlEnvironments
from trainyard.store.sql.pipelines import SqlPipelines
from trainyard.store.sql.queue import SqlQueue
from trainyard.store.sql.registry import SqlRegistry
from trainyard.store.sql.tracking import SqlTracking


class SqlStore(
    SqlTracking,
    SqlEnvironments,
    SqlRegistry,
    SqlData,
    SqlComponents,
    SqlDatastores,
    SqlEndpoints,
    SqlPipelines,
    SqlAuth,
    SqlQueue,
    Store,
    ServerStore,
):
    """Store (and the server-only part) over a SQL database. ``create`` makes the tables in an empty one."""

    def __init__(self, uri: str, *, create: bool = True) -> None:
        self.uri = uri
        self.engine: Engine = make_engine(uri)
        schema.ensure_current(self.engine, create=create)

    def close(self) -> None:
        self.engine.dispose()
