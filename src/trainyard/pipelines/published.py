"""Published pipelines: a prepared pipeline (every step's code snapshotted) stored as a numbered
version under an endpoint name, and run from it later by name: over REST, from the CLI or SDK,
or by a schedule. Nothing of the publisher's disk is needed to run it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.errors import InvalidInputError
from trainyard.store.records import PublishedPipeline, RunInfo

if TYPE_CHECKING:
    from trainyard.pipelines.record import PipelineRecord
    from trainyard.workspace import Workspace

TAG_PIPELINE = "trainyard.published_pipeline"
TAG_VERSION = "trainyard.published_version"


def publish(
    ws: Workspace,
    path: str | Path,
    name: str,
    *,
    overrides: dict[str, str] | None = None,
    description: str | None = None,
    make_default: bool = False,
) -> PublishedPipeline:
    """Check and snapshot the pipeline YAML at ``path`` and store it as the next version of ``name``."""
    from trainyard.pipelines.spec import load_pipeline
    from trainyard.pipelines.submit import prepare_pipeline
    from trainyard.store.validation import check_name

    check_name("pipeline", name)  # before any code is snapshotted
    record = prepare_pipeline(ws, load_pipeline(path, overrides))
    return ws.store.publish_pipeline(
        name, record.to_json(), description=description, make_default=make_default
    )


def pipeline_record(data: dict[str, object], what: str) -> PipelineRecord:
    """``data`` read as a prepared pipeline; ``InvalidInputError`` naming ``what`` if it is not one."""
    from pydantic import ValidationError

    from trainyard.jobs.spec import problems
    from trainyard.pipelines.record import PipelineRecord

    try:
        return PipelineRecord.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"{what} is not a prepared pipeline: {problems(exc)}") from None


def trigger_inputs(*given: Mapping[str, object] | None) -> dict[str, str]:
    """Pipeline input overrides from request bodies, merged in order, as ``--set`` gives them:
    strings as they are, numbers and booleans as their JSON (``0.5``, ``true``)."""
    merged: dict[str, str] = {}
    for part in given:
        for key, value in (part or {}).items():
            name = key.removeprefix("inputs.")
            if not name:
                raise InvalidInputError(f"input {key!r}: name the pipeline input")
            merged[name] = value if isinstance(value, str) else json.dumps(value)
    return merged


def trigger_published(
    ws: Workspace,
    name: str,
    *,
    version: int | None = None,
    inputs: dict[str, str] | None = None,
    experiment_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[RunInfo, int]:
    """Queue a run of version ``version`` of ``name`` (else its default); the run and its version."""
    from trainyard.pipelines.submit import start_pipeline

    published = ws.store.get_published_pipeline(name, version)
    record = pipeline_record(published.pipeline, f"version {published.version} of pipeline {name!r}")
    run_tags = {**(tags or {}), TAG_PIPELINE: name, TAG_VERSION: str(published.version)}
    run = start_pipeline(ws, record, inputs=inputs, experiment_name=experiment_name, tags=run_tags)
    return run, published.version


def trigger(
    ws: Workspace,
    name: str,
    *,
    version: int | None = None,
    inputs: dict[str, str] | None = None,
    experiment_name: str | None = None,
) -> str:
    """Run a published pipeline as its endpoint does; the run's id. A server workspace asks its
    server (``POST /api/v1/pipelines/NAME/runs``), which starts the run, as a REST caller's."""
    if ws.is_server:
        from trainyard.api import routes

        body = {"inputs": inputs or {}, "experiment_name": experiment_name, "version": version}
        reply = ws.server.call(routes.TRIGGER_PIPELINE.at(name=name), json=body)
        return str(reply["run_id"])
    run, _ = trigger_published(ws, name, version=version, inputs=inputs, experiment_name=experiment_name)
    return run.id
