"""REST API v1, one router per concept, all under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    from trainyard.server.routes import (
        artifact_previews,
        artifacts,
        components,
        compute,
        data,
        datastores,
        endpoints,
        environments,
        experiments,
        models,
        online_endpoints,
        pipelines,
        runs,
        tracking,
    )

    return [
        experiments.router,
        runs.router,
        tracking.router,
        environments.router,
        models.router,
        data.router,
        components.router,
        datastores.router,
        pipelines.router,
        endpoints.router,
        online_endpoints.router,
        artifacts.router,
        artifact_previews.router,
        compute.router,
    ]
