"""The shipped Store conformance suite, on SQLite and PostgreSQL.

The ``store`` fixture (tests/conftest.py) is parametrised over both backends: a SQLite file in
the test's tmp dir, and a fresh PostgreSQL database copied from a migrated template.
"""

from trainyard.testing.store_suite import ServerSuite, StoreSuite


class TestSqlStore(StoreSuite):
    pass


class TestSqlServerPart(ServerSuite):
    pass
