"""Store fixtures: a SQLite file, and a fresh PostgreSQL database per test.

PostgreSQL databases are copied from a template migrated once per session, which takes a
fraction of a second. Without a server the PostgreSQL cases are skipped, except under CI,
where they must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URIS = ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://root@127.0.0.1:5432/postgres")


def _admin_uri() -> str | None:
    import psycopg

    for uri in PG_ADMIN_URIS:
        try:
            with psycopg.connect(uri, connect_timeout=3):
                return uri
        except psycopg.Error:
            continue
    return None


def _admin(uri: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[str, str]]:
    admin = _admin_uri()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 and CI must test it")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    from trainyard.store.sql.store import SqlStore

    name = f"trainyard_tpl_{os.getpid()}"
    _admin(admin, f"DROP DATABASE IF EXISTS {name}")
    _admin(admin, f"CREATE DATABASE {name}")
    base = admin.rsplit("/", 1)[0]
    SqlStore(f"{base}/{name}").close()
    yield admin, name
    _admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_uri(pg_template: tuple[str, str]) -> Iterator[str]:
    admin, template = pg_template
    name = f"trainyard_t_{uuid.uuid4().hex[:12]}"
    _admin(admin, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield f"{admin.rsplit('/', 1)[0]}/{name}"
    _admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/trainyard.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_uri(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
        return request.getfixturevalue("pg_uri")
    return request.getfixturevalue("sqlite_uri")


@pytest.fixture
def store(store_uri: str):
    from trainyard.store.sql.store import SqlStore

    s = SqlStore(store_uri)
    yield s
    s.close()
