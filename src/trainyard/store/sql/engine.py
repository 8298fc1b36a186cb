"""Engines for SQLite and PostgreSQL, set up for many processes writing one workspace.

SQLite: WAL journal, a 30 s busy timeout, foreign keys on, and ``BEGIN IMMEDIATE`` for every
write transaction, so that a read-then-write never deadlocks on the lock upgrade. PostgreSQL:
psycopg 3, with bounded retries on serialization failures and deadlocks. Every read is one
transaction over one snapshot (``read_tx``).
"""

from __future__ import annotations

import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool

from trainyard.errors import InvalidInputError, WorkspaceError

BUSY_TIMEOUT_MS = 30_000
RETRIES = 8
# What the databases say about a statement over their limits: the caller's query, not an outage.
TOO_COMPLEX = (
    "expression tree is too large",
    "tables in a join",
    "too many sql variables",
    "too many terms",
    "too many columns",
    "parser stack overflow",
    "stack depth limit exceeded",
    "number of parameters must be between",
)

T = TypeVar("T")


def normalize_uri(uri: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


def make_engine(uri: str) -> Engine:
    uri = normalize_uri(uri)
    try:
        url = make_url(uri)
    except Exception:
        raise WorkspaceError(
            f"cannot read store URI {uri!r}; use sqlite:///path/to/file.db or postgresql://host/db"
        ) from None
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise WorkspaceError(
                "an in-memory SQLite store cannot be shared between the processes of a job; "
                "use a file: sqlite:///path/to/trainyard.db"
            )
        # Kept connections: closing a WAL database's last one checkpoints it and deletes its
        # journal, two fsyncs (10-20 ms per transaction when every one opened its own). No
        # bound on overflow: a thread never waits for a connection, as with none kept.
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=-1,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _setup_sqlite(engine)
        _ENGINES.add(engine)
        return engine
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        _ENGINES.add(engine)
        return engine
    raise WorkspaceError(f"unsupported store {url.get_backend_name()!r}: use sqlite or postgresql")


# Every engine of this process. Connections never cross a fork: SQLite's own rule, since a
# child that closes a connection it inherited (its garbage collector does) writes and unlocks
# the parent's database files, or files that took their descriptors' numbers in the child.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _close_kept_connections() -> None:
    """Before a fork: close the connections no thread is using, so the child gets none."""
    for engine in list(_ENGINES):
        engine.dispose()


def _forget_parent_connections() -> None:
    """In the child: the pools it inherited (with any connection another thread had out at the
    fork) are the parent's; it opens its own."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):  # not run by subprocess, which execs at once
    os.register_at_fork(before=_close_kept_connections, after_in_child=_forget_parent_connections)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def _too_complex(exc: DBAPIError) -> bool:
    """A statement over a database limit (PostgreSQL's class 54 is "program limit exceeded")."""
    if str(getattr(exc.orig, "sqlstate", "") or "").startswith("54"):
        return True
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(s in text for s in TOO_COMPLEX)


def _retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(s in text for s in ("database is locked", "deadlock detected", "could not serialize", "busy"))


def with_retries(fn: Callable[[], T]) -> T:
    """Run a whole transaction again on a lock timeout, deadlock or serialization failure."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except (OperationalError, DBAPIError) as exc:
            if not _retryable(exc) or attempt == RETRIES - 1:
                raise
            time.sleep(min(0.05 * 2**attempt, 1.0))
    raise AssertionError("unreachable")


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A short write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
    with engine.connect() as conn:
        conn = conn.execution_options(write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction whose statements all see one snapshot of the database.

    SQLite's deferred transaction keeps the snapshot of its first read (WAL). PostgreSQL's
    default, READ COMMITTED, takes a new one per statement, so a read made of several queries
    (runs, then their params and tags) could see rows the first query did not: REPEATABLE READ.
    A read over a database limit (a search too complex to compile) is the caller's to change:
    ``InvalidInputError``, without the SQL.
    """
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
    except DBAPIError as exc:
        if not _too_complex(exc):
            raise
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise InvalidInputError(
            f"the query is too complex for the database ({reason}); search with fewer terms"
        ) from None


def execute_write(engine: Engine, statement: Any) -> int:
    """One statement in its own write transaction (retried); the rows it touched."""

    def tx() -> int:
        with write_tx(engine) as conn:
            return conn.execute(statement).rowcount

    return with_retries(tx)
