"""Metadata store: the ``Store`` interface and its SQL implementation."""

from trainyard.store.base import (
    DeploymentRecord,
    EndpointRecord,
    EnvironmentRecord,
    Experiment,
    Metric,
    ModelVersion,
    RegisteredModel,
    RunInfo,
    RunPage,
    Store,
)

__all__ = [
    "DeploymentRecord",
    "EndpointRecord",
    "EnvironmentRecord",
    "Experiment",
    "Metric",
    "ModelVersion",
    "RegisteredModel",
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
