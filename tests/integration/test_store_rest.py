"""The shipped Store conformance suite against ``RestStore`` -> real HTTP -> server -> SqlStore.

One server per module on a loopback port; each test gets a fresh workspace (a SQLite file, or the
module's PostgreSQL database emptied) swapped in behind it, so every test starts from an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, _fresh_pg_database
from tests.integration.server_helpers import threaded_server
from trainyard.server.running import ThreadedServer
from trainyard.store.rest import RestStore
from trainyard.testing.store_suite import StoreSuite
from trainyard.workspace import Workspace


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from threaded_server(tmp_path_factory)


@pytest.fixture(scope="module")
def pg_module_uri(pg_admin: str, pg_template: str) -> Iterator[str]:
    """One PostgreSQL database for the module, emptied before each test (faster than a copy each)."""
    yield from _fresh_pg_database(pg_admin, pg_template)


def _emptied(uri: str) -> str:
    from sqlalchemy import text

    from trainyard.store.sql.engine import make_engine
    from trainyard.store.sql.models import metadata

    engine = make_engine(uri)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(metadata.tables)} CASCADE"))
    engine.dispose()
    return uri


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, server: ThreadedServer, tmp_path: Path) -> Iterator[RestStore]:
    if request.param == "postgresql":
        uri = _emptied(request.getfixturevalue("pg_module_uri"))
    else:
        uri = request.getfixturevalue("sqlite_uri")
    ws = Workspace.create(tmp_path / "served", store=uri)
    server.app.state.workspace = ws
    rest = RestStore(server.url, token=server.token, retry_seconds=5)  # type: ignore[attr-defined]
    yield rest
    rest.close()
    ws.close()


class TestRestStore(StoreSuite):
    pass
