"""Metadata store: the ``Store`` interface (composed of its parts), its records and its SQL implementation."""

from trainyard.store.base import Store
from trainyard.store.records import (
    UNSET,
    ComponentVersion,
    DataLineage,
    DatastoreRecord,
    DataVersion,
    DeploymentRecord,
    DeploymentUpdate,
    EndpointRecord,
    EndpointUpdate,
    EnvironmentRecord,
    Experiment,
    Metric,
    MetricSeries,
    ModelVersion,
    NewRun,
    RegisteredModel,
    RunInfo,
    RunPage,
)

__all__ = [
    "UNSET",
    "ComponentVersion",
    "DataLineage",
    "DatastoreRecord",
    "DataVersion",
    "DeploymentRecord",
    "DeploymentUpdate",
    "EndpointRecord",
    "EndpointUpdate",
    "EnvironmentRecord",
    "Experiment",
    "Metric",
    "MetricSeries",
    "ModelVersion",
    "RegisteredModel",
    "NewRun",
    "RunInfo",
    "RunPage",
    "Store",
    "open_store",
]


def open_store(uri: str) -> Store:
    """Open the store named by a URI: ``sqlite:///…``, ``postgresql://…`` or a server's ``http(s)://…``."""
    if uri.startswith(("http://", "https://")):
        from trainyard.store.rest import RestStore

        return RestStore(uri)
    from trainyard.store.sql.store import SqlStore

    return SqlStore(uri)
