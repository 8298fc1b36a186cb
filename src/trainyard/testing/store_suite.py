"""The Store conformance suite: every Store implementation must pass it unchanged.

Modelled on Optuna's ``optuna.testing.pytest_storages``. Use it by subclassing in a test module
that provides a ``store`` fixture giving a fresh, empty store for each test::

    import pytest
    from trainyard.testing.store_suite import StoreSuite

    @pytest.fixture
    def store(tmp_path):
        s = MyStore(...)
        yield s
        s.close()

    class TestMyStore(StoreSuite):
        pass

One suite per part of the Store, composed here: ``TrackingSuite`` (with ``MetricsSuite``),
``RegistrySuite``, ``EndpointSuite``, ``DataSuite``, ``DatastoreSuite``, ``ComponentSuite``,
``PipelineSuite``; a store implementing only some parts subclasses those.
``ServerSuite`` checks the server-only part. The tests talk to the store only through its
interfaces, so the same suites check ``SqlStore`` on SQLite and PostgreSQL, ``RestStore`` in
front of each, and any later implementation. A few tests share one store between threads, as
the contract allows. The property tests keep ``max_examples`` small since every example writes
to a real database; they reuse the test's store, each example in a run of its own.

Needs pytest and hypothesis (trainyard's ``dev`` extra).
"""

from __future__ import annotations

from trainyard.testing.store_suite_components import ComponentSuite
from trainyard.testing.store_suite_data import DataSuite
from trainyard.testing.store_suite_datastores import DatastoreSuite
from trainyard.testing.store_suite_endpoints import EndpointSuite
from trainyard.testing.store_suite_pipelines import PipelineSuite
from trainyard.testing.store_suite_registry import RegistrySuite
from trainyard.testing.store_suite_server import ServerSuite
from trainyard.testing.store_suite_tracking import TrackingSuite

__all__ = [
    "ComponentSuite",
    "DataSuite",
    "DatastoreSuite",
    "EndpointSuite",
    "PipelineSuite",
    "RegistrySuite",
    "ServerSuite",
    "StoreSuite",
    "TrackingSuite",
]


class StoreSuite(
    TrackingSuite, RegistrySuite, EndpointSuite, DataSuite, DatastoreSuite, ComponentSuite, PipelineSuite
):
    """Subclass in a module that provides a ``store`` fixture (a fresh, empty Store)."""
