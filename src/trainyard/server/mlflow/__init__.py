"""The MLflow REST API on the trainyard server, so an unmodified ``mlflow`` client can use it.

``mlflow_router(workspace)`` serves ``/api/2.0/mlflow/…`` (tracking, logged models, registry)
and ``/api/2.0/mlflow-artifacts/…`` (the artifact proxy) over the workspace's Store and
ArtifactStore; routes MLflow has and trainyard does not serve answer 501 ``NOT_IMPLEMENTED``
with the route's name, never an HTML 404. ``docs/mlflow.md`` lists what maps to what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from trainyard.server.mlflow.artifacts import artifacts_router
from trainyard.server.mlflow.logged_models import logged_models_router
from trainyard.server.mlflow.protocol import error_response
from trainyard.server.mlflow.registry import registry_router
from trainyard.server.mlflow.tracking import tracking_router

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

__all__ = ["mlflow_router"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def mlflow_router(workspace: Workspace) -> APIRouter:
    """Every MLflow route, to ``include_router`` into the server's app."""
    router = APIRouter()
    for part in (tracking_router, logged_models_router, registry_router, artifacts_router):
        router.include_router(part(workspace))

    @router.get("/api/3.0/mlflow/server-info", tags=["mlflow"])
    def server_info() -> dict[str, Any]:
        """What MLflow 3 clients ask before artifact transfers: no multipart, presigned URLs or workspaces."""
        features = ("workspaces", "trace_archival", "multipart_uploads", "multipart_downloads")
        return {
            "store_type": None,
            **{f"{feature}_enabled": False for feature in features},
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
        }

    def not_served(route: str, request: Request) -> JSONResponse:
        message = f"{request.method} {request.url.path} is not served by trainyard (see docs/mlflow.md)"
        return error_response(501, "NOT_IMPLEMENTED", message)

    for api in ("mlflow", "mlflow-artifacts"):
        router.add_api_route(
            f"/api/2.0/{api}/{{route:path}}", not_served, methods=METHODS, include_in_schema=False
        )
    return router
