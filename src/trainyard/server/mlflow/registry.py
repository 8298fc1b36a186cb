"""MLflow's model registry routes over trainyard's registry.

A version created through MLflow is registered with ``Model.register_from_run``: its files are
copied from the run's artifacts into the registry, so it shows in ``trainyard model list`` and
loads with ``trainyard.models.load``; MLflow clients download it from that copy
(``get-download-uri``). Trainyard has no stages: every version is in stage ``None``, archived
ones in ``Archived``. Deleting a model deletes its versions and aliases; a deleted version's
number is never given again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends

from trainyard.artifacts import run_key
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.registry import Model
from trainyard.registry import model as registry
from trainyard.server.mlflow.artifacts import SCHEME, uri_key
from trainyard.server.mlflow.logged_models import LoggedModels
from trainyard.server.mlflow.protocol import (
    Args,
    MlflowRoute,
    NotSupportedError,
    entity_filter,
    ms,
    ordered,
    page,
    pairs_out,
    read_args,
)
from trainyard.store.records import MODEL_ARCHIVED, MODEL_READY, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

SOURCE = "mlflow.source"
MODEL_ID = "mlflow.model_id"


def version_json(v: ModelVersion) -> dict[str, Any]:
    found = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": ms(v.created_at),
        "last_updated_timestamp": ms(v.created_at),
        "current_stage": "Archived" if v.status == MODEL_ARCHIVED else "None",
        "description": v.description or "",
        "source": v.properties.get(SOURCE, v.source),
        "run_id": v.run_id,
        "status": "READY",
        "tags": pairs_out(v.tags),
        "aliases": v.aliases,
        "model_id": v.properties.get(MODEL_ID),
    }
    return {k: value for k, value in found.items() if value is not None}


def download_uri(v: ModelVersion) -> str:
    """The folder of the version's copy in the registry (``models/<name>/<upload id>``)."""
    return SCHEME + "/".join(v.files[0].split("/", 3)[:3])


def registry_router(workspace: Workspace) -> APIRouter:
    router = APIRouter(prefix="/api/2.0/mlflow", route_class=MlflowRoute, tags=["mlflow"])
    store = workspace.store
    logged = LoggedModels(workspace)

    def model_json(m: RegisteredModel) -> dict[str, Any]:
        latest = [store.get_model_version(m.name, m.latest_version)] if m.latest_version else []
        return {
            "name": m.name,
            "creation_timestamp": ms(m.created_at),
            "last_updated_timestamp": ms(max([m.created_at] + [v.created_at for v in latest])),
            "description": m.description or "",
            "latest_versions": [version_json(v) for v in latest],
            "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
            "tags": pairs_out(m.tags),
        }

    def version_of(args: Args) -> ModelVersion:
        return store.get_model_version(args.need("name"), args.int("version") or 0)

    def source_key(source: str, model_id: str | None) -> str:
        """The artifact-store folder an MLflow ``source`` names."""
        if model_id or source.startswith("models:/m-"):
            info = logged.get(model_id or source.removeprefix("models:/").strip("/"))
            return uri_key(info["artifact_uri"])
        if source.startswith("runs:/"):
            run_id, _, rel = source.removeprefix("runs:/").partition("/")
            return run_key(store.get_run(run_id).id, rel)  # a run that exists, not `runs:/..`
        return uri_key(source)

    def register(key: str, name: str, args: Args, properties: dict[str, str]) -> Model:
        """From a run's files with the run as lineage; a model logged outside a run from its folder."""
        extra: dict[str, Any] = {"tags": args.pairs("tags"), "description": args.str("description")}
        parts = key.split("/", 2)
        if parts[0] == "runs" and len(parts) == 3:
            run_id, rel, given_run = parts[1], parts[2], args.str("run_id")
            if given_run and given_run != run_id:
                raise InvalidInputError(f"run_id {given_run!r} is not the run that holds {key!r} ({run_id})")
            return Model.register_from_run(workspace, run_id, name, rel, properties=properties, **extra)
        files = workspace.artifacts.list(key)
        if not files:
            raise NotFoundError(f"no model files under {key!r}")
        with tempfile.TemporaryDirectory(prefix="trainyard-mlflow-") as tmp:
            for rel_file in files:
                workspace.artifacts.download(f"{key}/{rel_file}", Path(tmp) / rel_file)
            return Model.register(workspace, tmp, name, properties=properties, **extra)

    # registered models ---------------------------------------------------------------------
    @router.post("/registered-models/create")
    def create_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        made = store.create_registered_model(
            args.need("name"), description=args.str("description"), tags=args.pairs("tags")
        )
        return {"registered_model": model_json(made)}

    @router.get("/registered-models/get")
    def get_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"registered_model": model_json(store.get_registered_model(args.need("name")))}

    @router.patch("/registered-models/update")
    def update_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        changed = store.update_registered_model(args.need("name"), description=args.str("description") or "")
        return {"registered_model": model_json(changed)}

    @router.post("/registered-models/rename")
    def rename_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        changed = store.update_registered_model(args.need("name"), new_name=args.need("new_name"))
        return {"registered_model": model_json(changed)}

    @router.delete("/registered-models/delete")
    def delete_model(args: Args = Depends(read_args)) -> dict[str, Any]:
        registry.delete_model(workspace, args.need("name"))  # its versions' files too
        return {}

    @router.post("/registered-models/set-tag")
    def set_model_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.update_registered_model(args.need("name"), tags={args.need("key"): args.str("value") or ""})
        return {}

    @router.delete("/registered-models/delete-tag")
    def delete_model_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        model, key = store.get_registered_model(args.need("name")), args.need("key")
        if key not in model.tags:
            raise NotFoundError(f"registered model {model.name!r} has no tag {key!r}")
        store.update_registered_model(model.name, tags={key: None})
        return {}

    @router.get("/registered-models/search")
    def search_models(args: Args = Depends(read_args)) -> dict[str, Any]:
        keep = entity_filter(args.str("filter"))
        rows = ordered(
            [model_json(m) for m in store.list_models() if keep({"name": m.name}, {})],
            args.list("order_by") or ["name ASC"],
            ("name", "creation_timestamp", "last_updated_timestamp"),
        )
        items, token = page(rows, args, default=100)
        return {"registered_models": items, "next_page_token": token}

    @router.get("/registered-models/get-latest-versions")
    @router.post("/registered-models/get-latest-versions")
    def latest_versions(args: Args = Depends(read_args)) -> dict[str, Any]:
        name = store.get_registered_model(args.need("name")).name
        stages = {str(s).lower() for s in args.list("stages")} or {"none", "archived"}
        newest: dict[str, ModelVersion] = {}
        for v in store.list_model_versions(name):  # newest first
            stage = "archived" if v.status == MODEL_ARCHIVED else "none"
            if stage in stages:
                newest.setdefault(stage, v)
        return {"model_versions": [version_json(v) for v in newest.values()]}

    @router.post("/registered-models/alias")
    def set_alias(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.set_model_alias(args.need("name"), args.need("alias"), args.int("version") or 0)
        return {}

    @router.delete("/registered-models/alias")
    def delete_alias(args: Args = Depends(read_args)) -> dict[str, Any]:
        store.delete_model_alias(args.need("name"), args.need("alias"))
        return {}

    @router.get("/registered-models/alias")
    def get_by_alias(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {
            "model_version": version_json(
                store.get_model_version_by_alias(args.need("name"), args.need("alias"))
            )
        }

    # model versions ----------------------------------------------------------------------------
    @router.post("/model-versions/create")
    def create_version(args: Args = Depends(read_args)) -> dict[str, Any]:
        source, model_id = args.need("source"), args.str("model_id")
        properties = {SOURCE: source, **({MODEL_ID: model_id} if model_id else {})}
        model = register(source_key(source, model_id), args.need("name"), args, properties)
        return {"model_version": version_json(store.get_model_version(model.name, model.version))}

    @router.get("/model-versions/get")
    def get_version(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"model_version": version_json(version_of(args))}

    @router.get("/model-versions/get-download-uri")
    def get_download_uri(args: Args = Depends(read_args)) -> dict[str, Any]:
        return {"artifact_uri": download_uri(version_of(args))}

    @router.get("/model-versions/search")
    def search_versions(args: Args = Depends(read_args)) -> dict[str, Any]:
        keep = entity_filter(args.str("filter"), ("name", "run_id"))
        versions = [
            v
            for m in store.list_models()
            for v in store.list_model_versions(m.name)
            if keep({"name": v.name, "run_id": v.run_id}, v.tags)
        ]
        rows = ordered(
            [version_json(v) for v in versions],
            args.list("order_by") or ["name ASC", "version DESC"],
            ("name", "version", "creation_timestamp", "last_updated_timestamp"),
        )
        items, token = page(rows, args, default=200)
        return {"model_versions": items, "next_page_token": token}

    @router.patch("/model-versions/update")
    def update_version(args: Args = Depends(read_args)) -> dict[str, Any]:
        v = version_of(args)
        changed = store.update_model_version(v.name, v.version, description=args.str("description") or "")
        return {"model_version": version_json(changed)}

    @router.delete("/model-versions/delete")
    def delete_version(args: Args = Depends(read_args)) -> dict[str, Any]:
        v = version_of(args)
        registry.delete_version(workspace, v.name, v.version)  # its files too
        return {}

    @router.post("/model-versions/set-tag")
    def set_version_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        v = version_of(args)
        store.update_model_version(v.name, v.version, tags={args.need("key"): args.str("value") or ""})
        return {}

    @router.delete("/model-versions/delete-tag")
    def delete_version_tag(args: Args = Depends(read_args)) -> dict[str, Any]:
        v, key = version_of(args), args.need("key")
        if key not in v.tags:
            raise NotFoundError(f"model {v.name} version {v.version} has no tag {key!r}")
        store.update_model_version(v.name, v.version, tags={key: None})
        return {}

    @router.post("/model-versions/transition-stage")
    def transition_stage(args: Args = Depends(read_args)) -> dict[str, Any]:
        version = version_of(args)
        stage = args.need("stage")
        if stage.lower() not in ("archived", "none"):
            raise NotSupportedError(
                f"stage {stage!r}: trainyard has no stages; use aliases (production, staging…)"
            )
        status = MODEL_ARCHIVED if stage.lower() == "archived" else MODEL_READY
        return {
            "model_version": version_json(
                store.set_model_version_status(version.name, version.version, status)
            )
        }

    return router
