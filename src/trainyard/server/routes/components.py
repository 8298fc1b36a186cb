"""Registered command components: versions per name, archive; and the built-in catalogue.

The server only records versions: the client snapshots the component's code into the artifact
store first (the artifact routes) and then creates the version naming that snapshot.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from trainyard.api import routes
from trainyard.api.schemas import ComponentVersionCreate, DataArchived, to_json
from trainyard.components.categories import grouped_catalogue
from trainyard.components.command import registered_component
from trainyard.server.routes.deps import StoreDep
from trainyard.server.routing import serve

router = APIRouter(tags=["components"])
VersionText = Annotated[str, Path(min_length=1, max_length=64)]


@serve(router, routes.LIST_COMPONENTS)
def list_components(store: StoreDep) -> Any:
    return {"versions": to_json(store.list_component_versions())}


@serve(router, routes.COMPONENT_CATALOGUE)
def component_catalogue(store: StoreDep) -> Any:
    """The built-in modules (Split Data, Train Model, …), each with its ports and its parameters'
    JSON schema, grouped by Azure ML Studio's categories, then the newest version of each of the
    workspace's registered command components (``kind: command``): the designer's palette. A
    pipeline step names a module as ``component: azureml:NAME``, a registered one as
    ``azureml:NAME:VERSION``."""
    registered = [registered_component(r) for r in store.list_component_versions()]
    return {"categories": grouped_catalogue(registered)}


@serve(router, routes.CREATE_COMPONENT_VERSION)
def create_component_version(name: str, body: ComponentVersionCreate, store: StoreDep) -> Any:
    return to_json(store.create_component_version(name, **body.model_dump()))


@serve(router, routes.LIST_COMPONENT_VERSIONS)
def list_component_versions(name: str, store: StoreDep) -> Any:
    return {"versions": to_json(store.list_component_versions(name))}


@serve(router, routes.GET_COMPONENT_LATEST)
def get_component_latest(name: str, store: StoreDep) -> Any:
    return to_json(store.get_component_version(name))


@serve(router, routes.GET_COMPONENT_VERSION)
def get_component_version(name: str, version: VersionText, store: StoreDep) -> Any:
    return to_json(store.get_component_version(name, version))


@serve(router, routes.SET_COMPONENT_VERSION_ARCHIVED)
def set_component_version_archived(
    name: str, version: VersionText, body: DataArchived, store: StoreDep
) -> Any:
    return to_json(store.set_component_version_archived(name, version, body.archived))
