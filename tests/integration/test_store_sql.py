"""The shipped Store conformance suite, on SQLite and PostgreSQL.

The ``store`` fixture (tests/conftest.py) is parametrised over both backends: a SQLite file in
the test's tmp dir, and a fresh PostgreSQL database copied from a migrated template.
"""

import math

import pytest
from sqlalchemy import text

from trainyard.errors import InvalidInputError
from trainyard.store import Metric
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


def test_negative_zero_keeps_its_sign(store_uri: str) -> None:
    """-0.0 in a metric's history and as its latest value, bit for bit (RELIABILITY row 15); SQLite
    stores a whole REAL as an integer, so the sign is kept as a flag."""
    store = SqlStore(store_uri)
    try:
        run = store.create_run(store.create_experiment("signs").id)
        store.log_batch(run.id, metrics=[Metric("z", 1.0, 0, 1.0), Metric("z", -0.0, 1, 2.0)])
        values = [m.value for m in store.get_metric_history(run.id, "z")] + [
            store.get_run(run.id).metrics["z"]
        ]
        assert [math.copysign(1.0, v) for v in values] == [1.0, -1.0, -1.0], values
    finally:
        store.close()
