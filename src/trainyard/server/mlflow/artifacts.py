"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts``) over the workspace's ArtifactStore.

The proxy path *is* the artifact key, checked by ``safe_name`` (so ``..``, absolute paths and
encoded traversal are refused with 400) and confined to three prefixes: ``runs/<run id>/``
(a run's files, where trainyard's own runs keep theirs), ``mlflow-models/`` (MLflow 3 models
logged outside any run) and, read-only, ``models/`` (registered versions, for
``models:/name/1`` downloads). Transfers are the v1 artifact routes' own: uploads streamed to a
temporary file, then stored atomically; downloads streamed in chunks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from trainyard.artifacts import run_key, safe_name
from trainyard.artifacts.paths import join
from trainyard.errors import ArtifactPathError, NotFoundError
from trainyard.server import artifact_access
from trainyard.server.mlflow.protocol import Args, MlflowRoute, read_args, run_id_of
from trainyard.server.routes import artifacts as v1

if TYPE_CHECKING:
    from trainyard.artifacts import ArtifactStore
    from trainyard.workspace import Workspace

WRITABLE = ("runs", "mlflow-models")
READABLE = (*WRITABLE, "models")
SCHEME = "mlflow-artifacts:/"


def run_artifact_uri(run_id: str) -> str:
    return SCHEME + run_key(run_id)


def artifact_key(path: str, *, write: bool) -> str:
    """The store key for a proxy path, or ``ArtifactPathError`` saying what is allowed."""
    key = safe_name(path)
    allowed = WRITABLE if write else READABLE
    top, _, rest = key.partition("/")
    if top not in allowed or not rest:
        where = ", ".join(f"{p}/…" for p in allowed)
        raise ArtifactPathError(
            f"artifact path {path!r}: {'write' if write else 'read'} paths must be under {where}"
        )
    return key


def uri_key(uri: str) -> str:
    """The store key an ``mlflow-artifacts:/…`` URI names."""
    if not uri.startswith(SCHEME):
        raise ArtifactPathError(f"{uri!r} is not an artifact of this server (mlflow-artifacts:/…)")
    return artifact_key(uri[len(SCHEME) :].lstrip("/"), write=False)


def children(artifacts: ArtifactStore, prefix: str) -> list[dict[str, Any]]:
    """The files and folders directly below ``prefix``, as MLflow lists them."""
    found: dict[str, dict[str, Any]] = {}
    if artifacts.is_file(prefix):  # a file has no children: how MLflow tells files from folders
        return []
    for rel in artifacts.list(prefix):
        head, sep, _ = rel.partition("/")
        if sep:
            found.setdefault(head, {"path": head, "is_dir": True})
            continue
        found[head] = {"path": head, "is_dir": False, "file_size": artifacts.size(join(prefix, head))}
    return [found[name] for name in sorted(found)]


def artifacts_router(workspace: Workspace) -> APIRouter:
    """The proxy routes and ``mlflow/artifacts/list``."""
    router = APIRouter(prefix="/api/2.0", route_class=MlflowRoute, tags=["mlflow"])
    artifacts = workspace.artifacts

    def writable(path: str) -> str:
        key = artifact_key(path, write=True)
        parts = key.split("/")
        if parts[0] == "runs":
            workspace.store.get_run(parts[1])  # 404 for files of a run that does not exist
        return key

    @router.put("/mlflow-artifacts/artifacts/{path:path}")
    async def upload(path: str, request: Request) -> dict[str, Any]:
        await v1.upload(await run_in_threadpool(writable, path), request, artifacts, workspace.store)
        return {}

    @router.get("/mlflow-artifacts/artifacts/{path:path}")
    def download(path: str) -> Response:
        key = artifact_key(path, write=False)
        if not artifacts.is_file(key):
            raise NotFoundError(f"no artifact {key!r}")
        return v1.file_response(artifacts, key)

    @router.delete("/mlflow-artifacts/artifacts/{path:path}")
    def delete(path: str, request: Request) -> dict[str, Any]:
        key = writable(path)
        if key.startswith("runs/"):
            artifact_access.check_delete(workspace.store, request.state.principal, key)
        if not artifacts.exists(key):
            raise NotFoundError(f"no artifact {key!r}")
        artifacts.delete(key)
        return {}

    @router.get("/mlflow-artifacts/artifacts")
    def list_files(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"files": children(artifacts, artifact_key(args.need("path"), write=False))}

    @router.get("/mlflow/artifacts/list")
    def list_run_files(args: Args = Depends(read_args)) -> dict[str, Any]:
        run = workspace.store.get_run(run_id_of(args))
        rel = safe_name(args.need("path")) if args.str("path") else ""
        files = children(artifacts, run_key(run.id, rel))
        return {
            "root_uri": run_artifact_uri(run.id),
            "files": [{**f, "path": join(rel, f["path"])} for f in files],
        }

    return router
