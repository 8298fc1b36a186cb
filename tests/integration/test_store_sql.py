"""The shipped Store conformance suite, on SQLite and PostgreSQL.

The ``store`` fixture (tests/conftest.py) is parametrised over both backends: a SQLite file in
the test's tmp dir, and a fresh PostgreSQL database copied from a migrated template.
"""

import pytest
from sqlalchemy import text

from trainyard.errors import InvalidInputError
from trainyard.store.sql.engine import read_tx
from trainyard.store.sql.store import SqlStore
from trainyard.testing.store_suite import ServerSuite, StoreSuite


class TestSqlStore(StoreSuite):
    pass


class TestSqlServerPart(ServerSuite):
    pass


def test_a_read_over_a_database_limit_is_the_callers_error(store_uri: str) -> None:
    """SQLite's expression depth, PostgreSQL's stack depth: a 400 to change the query, not an outage."""
    store = SqlStore(store_uri)
    try:
        too_deep = text("SELECT " + " + ".join(["1"] * 100_000))
        with (
            pytest.raises(InvalidInputError, match="too complex for the database") as raised,
            read_tx(store.engine) as conn,
        ):
            conn.execute(too_deep)
        assert "SELECT" not in str(raised.value)
    finally:
        store.close()
