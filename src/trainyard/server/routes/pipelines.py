"""Published pipelines (versions under one endpoint name, a default version), their REST trigger,
and schedules.

``POST /api/v1/pipelines/{name}/runs`` runs the endpoint's default version (or ``version``) as
Azure's published pipelines do: the body is Azure's ``{"ExperimentName", "ParameterAssignments"}``
or trainyard's ``{"inputs": {...}}``, and the reply has the run's id as ``Id`` and ``run_id``.
Like every POST it needs a contributor's token (``server/auth.py``).

``POST /api/v1/pipeline-jobs`` runs a pipeline sent as its YAML text (the studio's designer);
``POST /api/v1/pipeline-runs/{run_id}/inference-model`` registers a training run's inference
pipeline as a model version (``pipelines/inference.py``); ``/api/v1/pipeline-samples`` lists
the designer's samples and opens one (``samples.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from trainyard.api import routes
from trainyard.api.schemas import (
    AliasIn,
    FiringFinish,
    InferenceModelCreate,
    PipelinePublish,
    PipelineSubmit,
    PipelineTrigger,
    ScheduleClaim,
    ScheduleCreate,
    ScheduleEnabled,
    Version,
    to_json,
)
from trainyard.pipelines.inference import make_inference_model
from trainyard.pipelines.published import trigger_inputs, trigger_published
from trainyard.pipelines.spec import parse_pipeline
from trainyard.pipelines.submit import submit_pipeline
from trainyard.samples import SAMPLES, open_sample
from trainyard.server.routes.deps import IdempotencyKey, PrincipalDep, StoreDep, WorkspaceDep, create_once
from trainyard.server.routing import serve
from trainyard.store.records import USER_TAG

router = APIRouter(tags=["pipelines"])


@serve(router, routes.LIST_PIPELINE_ENDPOINTS)
def list_pipeline_endpoints(store: StoreDep) -> Any:
    return {"endpoints": to_json(store.list_pipeline_endpoints())}


@serve(router, routes.GET_PIPELINE_ENDPOINT)
def get_pipeline_endpoint(name: str, store: StoreDep) -> Any:
    return to_json(store.get_pipeline_endpoint(name))


@serve(router, routes.PUBLISH_PIPELINE)
def publish_pipeline(
    name: str, body: PipelinePublish, request: Request, idempotency_key: IdempotencyKey = None
) -> Any:
    """Store a version (``pipeline publish`` prepared it; a trigger reads it as a pipeline record)."""
    return create_once(
        request,
        idempotency_key,
        lambda keyed: keyed.publish_pipeline(
            name, body.pipeline, description=body.description, make_default=body.make_default
        ),
    )


@serve(router, routes.LIST_PUBLISHED_PIPELINES)
def list_published_pipelines(name: str, store: StoreDep) -> Any:
    return {"versions": to_json(store.list_published_pipelines(name))}


@serve(router, routes.GET_PUBLISHED_PIPELINE)
def get_published_pipeline(name: str, version: Version, store: StoreDep) -> Any:
    return to_json(store.get_published_pipeline(name, version))


@serve(router, routes.GET_DEFAULT_PIPELINE)
def get_default_pipeline(name: str, store: StoreDep) -> Any:
    return to_json(store.get_published_pipeline(name))


@serve(router, routes.SET_PIPELINE_DEFAULT)
def set_pipeline_default(name: str, body: AliasIn, store: StoreDep) -> Any:
    return to_json(store.set_pipeline_default(name, body.version))


@serve(router, routes.TRIGGER_PIPELINE)
def trigger_pipeline(name: str, body: PipelineTrigger, ws: WorkspaceDep, principal: PrincipalDep) -> Any:
    """Queue a run of the published pipeline ``name``; the reply names the run."""
    run, version = trigger_published(
        ws,
        name,
        version=body.version,
        inputs=trigger_inputs(body.ParameterAssignments, body.inputs),
        experiment_name=body.ExperimentName or body.experiment_name,
        tags={"trainyard.triggered_by": principal.user, USER_TAG: principal.user},
    )
    return {
        "Id": run.id,
        "run_id": run.id,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "pipeline": name,
        "version": version,
    }


@serve(router, routes.LIST_PIPELINE_SAMPLES)
def list_pipeline_samples() -> Any:
    return {"samples": [s.summary() for s in SAMPLES.values()]}


@serve(router, routes.OPEN_PIPELINE_SAMPLE)
def open_pipeline_sample(name: str, ws: WorkspaceDep) -> Any:
    """The sample's pipeline YAML, for the designer to open; its table becomes (or already is) the
    data asset ``sample-NAME`` that the YAML reads, which is why this is a write."""
    return {"name": name, "yaml": open_sample(ws, name)}


@serve(router, routes.SUBMIT_PIPELINE)
def submit_pipeline_job(body: PipelineSubmit, ws: WorkspaceDep, principal: PrincipalDep) -> Any:
    """Check and queue a pipeline given as the YAML `trainyard pipeline submit -f` reads, with
    the same checks and messages (a bad one is a 400 naming the step and the port, and nothing
    is queued). It has no folder with it, so its steps are catalogue modules or registered
    components and its data inputs are data assets or URLs. The reply names the pipeline run."""
    job = parse_pipeline(body.yaml)
    run = submit_pipeline(ws, job, tags={USER_TAG: principal.user})
    return {
        "run_id": run.id,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "steps": sorted(job.jobs),
    }


@serve(router, routes.CREATE_INFERENCE_MODEL)
def create_inference_model(run_id: str, body: InferenceModelCreate, ws: WorkspaceDep) -> Any:
    """The designer's "Create inference pipeline": the run's inference pipeline registered as
    the next version of ``name``, ready for ``deployment create -m name:version``."""
    version = make_inference_model(ws, run_id, body.name)
    return {"name": version.name, "version": version.version, "run_id": run_id}


@serve(router, routes.LIST_SCHEDULES)
def list_schedules(store: StoreDep) -> Any:
    return {"schedules": to_json(store.list_schedules())}


@serve(router, routes.CREATE_SCHEDULE)
def create_schedule(body: ScheduleCreate, request: Request, idempotency_key: IdempotencyKey = None) -> Any:
    fields = body.model_dump()
    name = fields.pop("name")
    return create_once(request, idempotency_key, lambda keyed: keyed.create_schedule(name, **fields))


@serve(router, routes.GET_SCHEDULE)
def get_schedule(name: str, store: StoreDep) -> Any:
    return to_json(store.get_schedule(name))


@serve(router, routes.DELETE_SCHEDULE)
def delete_schedule(name: str, store: StoreDep) -> Any:
    store.delete_schedule(name)
    return {}


@serve(router, routes.SET_SCHEDULE_ENABLED)
def set_schedule_enabled(name: str, body: ScheduleEnabled, store: StoreDep) -> Any:
    return to_json(store.set_schedule_enabled(name, body.enabled, next_fire=body.next_fire))


@serve(router, routes.CLAIM_SCHEDULE_FIRE)
def claim_schedule_fire(name: str, body: ScheduleClaim, store: StoreDep) -> Any:
    return {"firing": to_json(store.claim_schedule_fire(name, **body.model_dump()))}


@serve(router, routes.LIST_SCHEDULE_FIRINGS)
def list_schedule_firings(
    name: str, store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 20
) -> Any:
    return {"firings": to_json(store.list_schedule_firings(name, limit=limit))}


@serve(router, routes.FINISH_SCHEDULE_FIRING)
def finish_schedule_firing(firing_id: Version, body: FiringFinish, store: StoreDep) -> Any:
    return to_json(store.finish_schedule_firing(firing_id, run_id=body.run_id, error=body.error))
