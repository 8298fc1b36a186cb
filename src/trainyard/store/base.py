"""The Store users see: the tracking, registry, endpoints, data and datastores parts, composed.

Every read and write of metadata goes through it. Each part states its contract in its module
(``trainyard.store.tracking``, ``.registry``, ``.endpoints``, ``.data``, ``.datastores``,
``.components``, ``.pipelines``) and every method its arguments, return and errors;
``trainyard.testing`` ships the conformance suites that check them. What holds for the whole:

* Thread safety: one Store object may be shared by the threads of a process.
* Multi-process safety: several processes may write the same workspace at once; no call
  fails because another process holds a lock (implementations wait and retry).
* Errors are ``TrainyardError``s: ``NotFoundError``, ``AlreadyExistsError``,
  ``InvalidInputError``, ``InvalidTransitionError``, each saying what to fix.

The server-only part (users, tokens, the agents' queue, idempotency) is
``trainyard.store.server.ServerStore``, implemented by ``SqlStore`` alone.
"""

from __future__ import annotations

from trainyard.store.components import ComponentStore
from trainyard.store.data import DataStore
from trainyard.store.datastores import DatastoreStore
from trainyard.store.endpoints import EndpointStore
from trainyard.store.pipelines import PipelineStore
from trainyard.store.registry import RegistryStore
from trainyard.store.tracking import TrackingStore


class Store(
    TrackingStore, RegistryStore, EndpointStore, DataStore, DatastoreStore, ComponentStore, PipelineStore
):
    """Metadata of a workspace. See the module docstring for the contract."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
