"""Store fixtures: a SQLite file, and a fresh PostgreSQL database per test.

PostgreSQL databases are copied (``CREATE DATABASE … TEMPLATE``) from a template database
migrated once per session, which takes a fraction of a second per test. Without a server the
PostgreSQL cases are skipped, except under CI (``CI`` set), where they must run and fail instead.

Fixtures (and every test gets fork servers with a 2 s idle timeout):

* ``sqlite_uri`` / ``sqlite_store``: a SQLite file in the test's tmp dir (store created).
* ``pg_uri`` / ``pg_store``: a fresh, migrated PostgreSQL database.
* ``pg_empty_uri``: a fresh PostgreSQL database with no tables at all.
* ``store_uri`` / ``store``: parametrised over ``sqlite`` and ``postgresql``.
* ``empty_store_uri``: parametrised; a database with nothing in it yet.

The ``postgres`` marker is registered in pyproject.toml; the PostgreSQL parameters carry it, so
``-m "not postgres"`` deselects them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_SERVER = "127.0.0.1:5432"
PG_ADMIN_URIS = (
    f"postgresql://postgres@{PG_SERVER}/postgres",
    f"postgresql://root@{PG_SERVER}/postgres",
)


def _admin_uri() -> tuple[str | None, str]:
    """The first admin URI that connects, and why none did."""
    import psycopg

    reasons = []
    for uri in PG_ADMIN_URIS:
        try:
            with psycopg.connect(uri, connect_timeout=3):
                return uri, ""
        except psycopg.Error as exc:
            reasons.append(f"{uri}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")
    return None, "; ".join(reasons)


def _admin(uri: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(sql)


def _db_uri(admin: str, name: str) -> str:
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def _drop(admin: str, name: str) -> None:
    # Fixtures close their engines first; FORCE only ends connections a test leaked
    # (e.g. a worker process still winding down), so that teardown never hangs or fails.
    _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_admin() -> str:
    """An admin URI of the PostgreSQL server; skips (or fails under CI) when there is none."""
    admin, why = _admin_uri()
    if admin is None:
        message = f"PostgreSQL is not reachable on {PG_SERVER} ({why})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(f"{message}; start it to run the PostgreSQL tests")
    return admin


@pytest.fixture(scope="session")
def pg_template(pg_admin: str) -> Iterator[str]:
    """A database migrated to the head schema once per session; tests get copies of it."""
    from trainyard.store.sql.store import SqlStore

    name = f"trainyard_tpl_{os.getpid()}"
    _drop(pg_admin, name)
    _admin(pg_admin, f'CREATE DATABASE "{name}"')
    try:
        SqlStore(_db_uri(pg_admin, name)).close()  # no connection may stay open on a template
        yield name
    finally:
        _drop(pg_admin, name)


def _fresh_pg_database(admin: str, template: str | None) -> Iterator[str]:
    name = f"trainyard_t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    _admin(admin, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield _db_uri(admin, name)
    finally:
        _drop(admin, name)


@pytest.fixture
def pg_uri(pg_admin: str, pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the head schema, dropped after the test."""
    yield from _fresh_pg_database(pg_admin, pg_template)


@pytest.fixture
def pg_empty_uri(pg_admin: str) -> Iterator[str]:
    """A fresh PostgreSQL database without any table, dropped after the test."""
    yield from _fresh_pg_database(pg_admin, None)


@pytest.fixture
def pg_store(pg_uri: str):
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(pg_uri)
    yield store
    store.close()


@pytest.fixture
def sqlite_uri(tmp_path) -> str:
    """A SQLite URI in the test's tmp dir; the file does not exist yet."""
    return f"sqlite:///{tmp_path}/trainyard.db"


@pytest.fixture
def sqlite_store(sqlite_uri: str):
    from trainyard.store.sql.store import SqlStore

    store = SqlStore(sqlite_uri)
    yield store
    store.close()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_uri(request: pytest.FixtureRequest) -> str:
    """A store URI at the head schema (SQLite: created on first open), for each backend."""
    return request.getfixturevalue("pg_uri" if request.param == "postgresql" else "sqlite_uri")


@pytest.fixture(params=BACKENDS)
def empty_store_uri(request: pytest.FixtureRequest) -> str:
    """A URI of a database with nothing in it, for each backend."""
    return request.getfixturevalue("pg_empty_uri" if request.param == "postgresql" else "sqlite_uri")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest):
    """An empty store, for each backend: what ``trainyard.testing.store_suite`` runs against."""
    return request.getfixturevalue("pg_store" if request.param == "postgresql" else "sqlite_store")


@pytest.fixture(autouse=True)
def _short_lived_fork_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace's fork server (``compute/forkserver.py``) leaves 2 s after its last job, not 60 s:
    a test session leaves none behind for long."""
    monkeypatch.setenv("TRAINYARD_FORK_SERVER_IDLE_SECONDS", "2")
