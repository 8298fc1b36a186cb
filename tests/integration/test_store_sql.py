"""The shipped Store conformance suite, on SQLite and PostgreSQL."""

from trainyard.testing.store_suite import StoreSuite


class TestSqlStore(StoreSuite):
    pass
