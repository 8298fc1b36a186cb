"""``RestStore``: the Store of a server workspace, over REST API v1.

Each method is one HTTP call to its route in ``trainyard.api.routes`` (``ServerClient``: retried
through restarts, creates idempotent), so the conformance suite checks it unchanged against a real
server. Records travel as ``trainyard.api.schemas`` encodes them; the server's errors come back as
the same classes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from trainyard.api import routes
from trainyard.api.client import ServerClient
from trainyard.api.routes import Route, Target
from trainyard.api.schemas import MAX_BATCH_METRICS, from_json, to_json
from trainyard.deletion import RunView
from trainyard.errors import NotFoundError
from trainyard.limits import MAX_PARAM_VALUE_LENGTH, MAX_SERIES_RUNS, MAX_TAG_VALUE_LENGTH
from trainyard.status import RunStatus
from trainyard.store.base import Store
from trainyard.store.datastores import check_datastore, check_datastore_name
from trainyard.store.records import (
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
    PipelineEndpoint,
    PublishedPipeline,
    RegisteredModel,
    RunInfo,
    RunPage,
    Schedule,
    ScheduleFiring,
)
from trainyard.store.validation import (
    check_alias,
    check_batch_id,
    check_component_ref,
    check_endpoint_name,
    check_labels,
    check_model_name,
    check_name,
    check_run_ids,
    tag_changes,
    validate_key,
)


class RestStore(Store):
    def __init__(self, url: str, *, token: str | None = None, retry_seconds: float | None = None) -> None:
        self.client = ServerClient(url, token=token, retry_seconds=retry_seconds)
        self.uri = self.client.url

    def __repr__(self) -> str:
        return f"RestStore({self.uri!r})"

    def close(self) -> None:
        self.client.close()

    def _get(self, target: Route | Target, **params: Any) -> Any:
        return self.client.call(target, params=params)

    def _send(self, target: Route | Target, body: Any = None) -> Any:
        return self.client.call(target, json=body)

    # experiments -------------------------------------------------------------------------------
    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        return from_json(Experiment, self._send(routes.CREATE_EXPERIMENT, {"name": name, "tags": tags}))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return from_json(Experiment, self._get(routes.GET_EXPERIMENT.at(experiment_id=experiment_id)))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            return from_json(Experiment, self._get(routes.GET_EXPERIMENT_BY_NAME, name=name))
        except NotFoundError:
            return None

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        found = self._get(routes.LIST_EXPERIMENTS, include_deleted=include_deleted)["experiments"]
        return [from_json(Experiment, e) for e in found]

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        deleted: bool | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> Experiment:
        if name is not None:
            validate_key("experiment", name)
        body = {"name": name, "deleted": deleted, "tags": tag_changes(tags)}
        return from_json(
            Experiment, self._send(routes.UPDATE_EXPERIMENT.at(experiment_id=experiment_id), body)
        )

    # runs ----------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        status: RunStatus = RunStatus.QUEUED,
        compute: str | None = None,
        job: dict[str, Any] | None = None,
        snapshot_id: str | None = None,
        environment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RunInfo:
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "parent_id": parent_id,
            "status": RunStatus(status).value,
            "compute": compute,
            "job": job,
            "snapshot_id": snapshot_id,
            "environment": environment,
            "tags": tags,
        }
        return from_json(RunInfo, self._send(routes.CREATE_RUN, body))

    def get_run(self, run_id: str) -> RunInfo:
        return from_json(RunInfo, self._get(routes.GET_RUN.at(run_id=run_id)))

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None = None,
        *,
        statuses: Iterable[RunStatus] | None = None,
        parent_id: str | None = None,
        max_results: int | None = None,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        view: RunView = RunView.ALL,
    ) -> RunPage:
        body = {
            "experiment_ids": list(experiment_ids) if experiment_ids is not None else None,
            "statuses": [RunStatus(s).value for s in statuses] if statuses is not None else None,
            "parent_id": parent_id,
            "max_results": max_results,
            "filter_string": filter_string,
            "order_by": list(order_by) if order_by is not None else None,
            "page_token": page_token,
            "view": RunView(view).value,
        }
        found = self._send(routes.SEARCH_RUNS, body)
        return RunPage([from_json(RunInfo, r) for r in found["runs"]], found["next_page_token"])

    def find_run_ids(self, prefix: str, limit: int = 2) -> list[str]:
        return list(self._get(routes.FIND_RUN_IDS, prefix=prefix, limit=limit)["ids"])

    def count_runs(self, experiment_id: str, *, view: RunView = RunView.ALL) -> int:
        found = self._get(routes.COUNT_RUNS.at(experiment_id=experiment_id), view=RunView(view).value)
        return int(found["count"])

    def set_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        exit_code: int | None = None,
        worker: str | None = None,
        expected: RunStatus | None = None,
    ) -> bool:
        body = {
            "status": RunStatus(status).value,
            "error": error,
            "exit_code": exit_code,
            "worker": worker,
            "expected": RunStatus(expected).value if expected is not None else None,
        }
        return bool(self._send(routes.SET_STATUS.at(run_id=run_id), body)["changed"])

    def requeue(self, run_id: str, expected: RunStatus, error: str) -> bool:
        body = {"expected": RunStatus(expected).value, "error": error}
        return bool(self._send(routes.REQUEUE.at(run_id=run_id), body)["requeued"])

    def heartbeat(self, run_id: str, worker: str | None = None) -> bool:
        return bool(self._send(routes.HEARTBEAT.at(run_id=run_id), {"worker": worker})["cancel_requested"])

    def request_cancel(self, run_id: str, reason: str | None = None) -> RunInfo:
        return from_json(RunInfo, self._send(routes.REQUEST_CANCEL.at(run_id=run_id), {"reason": reason}))

    def set_run_error(self, run_id: str, error: str | None) -> None:
        self._send(routes.SET_RUN_ERROR.at(run_id=run_id), {"error": error})

    # metrics, params, tags -------------------------------------------------------------------------
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        *,
        batch_id: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """A request per ``MAX_BATCH_METRICS`` metrics; names are checked first: a bad one writes nothing.

        Each request carries its chunk's batch id as its idempotency key (one made here when the
        caller gives none), kept across the client's retries: a reply lost in a crash does not
        store the chunk twice.
        """
        metrics = list(metrics)
        for m in metrics:
            validate_key("metric", m.key)
        labels = {
            "params": check_labels("param", params, MAX_PARAM_VALUE_LENGTH),
            "tags": check_labels("tag", tags, MAX_TAG_VALUE_LENGTH),
        }
        batch_id = uuid.uuid4().hex if batch_id is None else check_batch_id(batch_id)
        chunks = [metrics[i : i + MAX_BATCH_METRICS] for i in range(0, len(metrics), MAX_BATCH_METRICS)]
        for n, chunk in enumerate(chunks or [[]]):
            body = {"metrics": to_json(chunk), "attempt": attempt, **(labels if n == 0 else {})}
            # the first chunk is the batch id itself; later ones a fixed-length id derived from it
            key = batch_id if n == 0 else hashlib.sha256(f"{batch_id}\x00{n}".encode()).hexdigest()
            self.client.call(routes.LOG_BATCH.at(run_id=run_id), json=body, idempotency_key=key)

    def get_metric_history(
        self, run_id: str, key: str | None = None, *, attempt: int | None = None
    ) -> list[Metric]:
        found = self._get(routes.GET_METRIC_HISTORY.at(run_id=run_id), key=key, attempt=attempt)["metrics"]
        return [from_json(Metric, m) for m in found]

    def get_metric_series(
        self,
        run_id: str,
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        attempt: int | None = None,
    ) -> MetricSeries:
        target = routes.GET_METRIC_SERIES.at(run_id=run_id)
        found = self._get(
            target, key=key, points=points, min_step=min_step, max_step=max_step, attempt=attempt
        )
        return from_json(MetricSeries, found)

    def get_metric_series_of_runs(
        self,
        run_ids: Sequence[str],
        key: str,
        points: int,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> list[MetricSeries]:
        asked = list(dict.fromkeys(run_ids))
        found: dict[str, MetricSeries] = {}
        for first in range(0, len(asked), MAX_SERIES_RUNS):  # the route's limit per request
            reply = self._get(
                routes.GET_METRIC_SERIES_BATCH,
                run_id=asked[first : first + MAX_SERIES_RUNS],
                key=key,
                points=points,
                min_step=min_step,
                max_step=max_step,
            )
            for series in reply["series"]:
                run_id = series.pop("run_id")
                found[run_id] = from_json(MetricSeries, series)
        return [found[r] for r in run_ids]

    def delete_tag(self, run_id: str, key: str) -> None:
        self.client.call(routes.DELETE_TAG.at(run_id=run_id), params={"key": key})

    def update_run_tags(self, run_ids: Sequence[str], tags: dict[str, str | None]) -> None:
        changes = tag_changes(tags)
        body = {
            "run_ids": check_run_ids(run_ids),
            "set": {k: v for k, v in changes.items() if v is not None},
            "remove": [k for k, v in changes.items() if v is None],
        }
        self._send(routes.TAG_RUNS, body)

    # environments ----------------------------------------------------------------------------------
    def register_environment(self, name: str, spec: dict[str, Any], spec_hash: str) -> EnvironmentRecord:
        body = {"name": name, "spec": spec, "spec_hash": spec_hash}
        return from_json(EnvironmentRecord, self._send(routes.REGISTER_ENVIRONMENT, body))

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        return from_json(EnvironmentRecord, self._get(routes.GET_ENVIRONMENT.at(name=name), version=version))

    def list_environments(self) -> list[EnvironmentRecord]:
        return [from_json(EnvironmentRecord, e) for e in self._get(routes.LIST_ENVIRONMENTS)["environments"]]

    # model registry --------------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        files: list[str],
        run_id: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersion:
        check_model_name(name)  # checked here too: a bad name would not even make a valid URL
        body = {
            "source": source,
            "files": list(files),
            "run_id": run_id,
            "description": description,
            "tags": tags,
            "properties": properties,
        }
        return from_json(ModelVersion, self._send(routes.CREATE_MODEL_VERSION.at(name=name), body))

    def create_registered_model(
        self, name: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        check_model_name(name)
        tags = check_labels("tag", tags, MAX_TAG_VALUE_LENGTH)
        body = {"name": name, "description": description, "tags": tags}
        return from_json(RegisteredModel, self._send(routes.CREATE_REGISTERED_MODEL, body))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return from_json(RegisteredModel, self._get(routes.GET_REGISTERED_MODEL.at(name=name)))

    def update_registered_model(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModel:
        if new_name is not None:
            check_model_name(new_name)
        body = {"new_name": new_name, "description": description, "tags": tag_changes(tags)}
        return from_json(RegisteredModel, self._send(routes.UPDATE_REGISTERED_MODEL.at(name=name), body))

    def delete_registered_model(self, name: str) -> None:
        self._send(routes.DELETE_REGISTERED_MODEL.at(name=name))

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> ModelVersion:
        body = {"description": description, "tags": tag_changes(tags)}
        target = routes.UPDATE_MODEL_VERSION.at(name=name, version=int(version))
        return from_json(ModelVersion, self._send(target, body))

    def delete_model_version(self, name: str, version: int) -> None:
        self._send(routes.DELETE_MODEL_VERSION.at(name=name, version=int(version)))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return from_json(
            ModelVersion, self._get(routes.GET_MODEL_VERSION.at(name=name, version=int(version)))
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return from_json(
            ModelVersion, self._get(routes.GET_MODEL_VERSION_BY_ALIAS.at(name=name, alias=alias))
        )

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        return [
            from_json(ModelVersion, v)
            for v in self._get(routes.LIST_MODEL_VERSIONS.at(name=name))["versions"]
        ]

    def list_models(self) -> list[RegisteredModel]:
        return [from_json(RegisteredModel, m) for m in self._get(routes.LIST_MODELS)["models"]]

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        check_alias(alias)
        self._send(routes.SET_MODEL_ALIAS.at(name=name, alias=alias), {"version": version})

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._send(routes.DELETE_MODEL_ALIAS.at(name=name, alias=alias))

    def set_model_version_status(self, name: str, version: int, status: str) -> ModelVersion:
        target = routes.SET_MODEL_VERSION_STATUS.at(name=name, version=int(version))
        return from_json(ModelVersion, self._send(target, {"status": status}))

    # data assets -----------------------------------------------------------------------------------
    def create_data_version(
        self,
        name: str,
        *,
        type: str,
        content_hash: str,
        size_bytes: int,
        file_count: int,
        prefix: str | None = None,
        uri: str | None = None,
        datastore: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        table: dict[str, Any] | None = None,
        created_by_run: str | None = None,
    ) -> DataVersion:
        check_model_name(name)  # a bad name would not even make a valid URL
        body = {
            "type": type,
            "content_hash": content_hash,
            "size_bytes": size_bytes,
            "file_count": file_count,
            "prefix": prefix,
            "uri": uri,
            "datastore": datastore,
            "description": description,
            "tags": tags,
            "table": table,
            "created_by_run": created_by_run,
        }
        return from_json(DataVersion, self._send(routes.CREATE_DATA_VERSION.at(name=name), body))

    def get_data_version(self, name: str, version: int | None = None) -> DataVersion:
        if version is None:
            return from_json(DataVersion, self._get(routes.GET_DATA_LATEST.at(name=name)))
        return from_json(DataVersion, self._get(routes.GET_DATA_VERSION.at(name=name, version=int(version))))

    def list_data_versions(self, name: str | None = None) -> list[DataVersion]:
        target = routes.LIST_DATA if name is None else routes.LIST_DATA_VERSIONS.at(name=name)
        return [from_json(DataVersion, v) for v in self._get(target)["versions"]]

    def set_data_version_archived(self, name: str, version: int, archived: bool) -> DataVersion:
        target = routes.SET_DATA_VERSION_ARCHIVED.at(name=name, version=int(version))
        return from_json(DataVersion, self._send(target, {"archived": archived}))

    def record_data_lineage(self, run_id: str, name: str, version: int, direction: str) -> None:
        body = {"run_id": run_id, "name": name, "version": int(version), "direction": direction}
        self._send(routes.RECORD_DATA_LINEAGE, body)

    def list_data_lineage(
        self, *, run_id: str | None = None, name: str | None = None, version: int | None = None
    ) -> list[DataLineage]:
        params = {
            k: v for k, v in (("run_id", run_id), ("name", name), ("version", version)) if v is not None
        }
        return [from_json(DataLineage, r) for r in self._get(routes.LIST_DATA_LINEAGE, **params)["lineage"]]

    # registered command components ---------------------------------------------------------------
    def create_component_version(
        self,
        name: str,
        *,
        version: str | None,
        spec: dict[str, Any],
        content_hash: str,
        snapshot_id: str | None = None,
    ) -> ComponentVersion:
        check_component_ref(name, version)  # a bad name would not even make a valid URL
        body = {"version": version, "spec": spec, "content_hash": content_hash, "snapshot_id": snapshot_id}
        return from_json(ComponentVersion, self._send(routes.CREATE_COMPONENT_VERSION.at(name=name), body))

    def get_component_version(self, name: str, version: str | None = None) -> ComponentVersion:
        if version is None:
            return from_json(ComponentVersion, self._get(routes.GET_COMPONENT_LATEST.at(name=name)))
        target = routes.GET_COMPONENT_VERSION.at(name=name, version=version)
        return from_json(ComponentVersion, self._get(target))

    def list_component_versions(self, name: str | None = None) -> list[ComponentVersion]:
        target = routes.LIST_COMPONENTS if name is None else routes.LIST_COMPONENT_VERSIONS.at(name=name)
        return [from_json(ComponentVersion, v) for v in self._get(target)["versions"]]

    def set_component_version_archived(self, name: str, version: str, archived: bool) -> ComponentVersion:
        target = routes.SET_COMPONENT_VERSION_ARCHIVED.at(name=name, version=version)
        return from_json(ComponentVersion, self._send(target, {"archived": archived}))

    # datastores ------------------------------------------------------------------------------------
    def create_datastore(
        self,
        name: str,
        *,
        url: str,
        endpoint: str | None = None,
        credentials: dict[str, str] | None = None,
        description: str | None = None,
    ) -> DatastoreRecord:
        check_datastore(name, url, endpoint, credentials)  # fails here as it would on the server
        body = {
            "name": name,
            "url": url,
            "endpoint": endpoint,
            "credentials": credentials,
            "description": description,
        }
        return from_json(DatastoreRecord, self._send(routes.CREATE_DATASTORE, body))

    def get_datastore(self, name: str) -> DatastoreRecord:
        check_datastore_name(name)  # a bad name would not even make a valid URL
        return from_json(DatastoreRecord, self._get(routes.GET_DATASTORE.at(name=name)))

    def list_datastores(self) -> list[DatastoreRecord]:
        return [from_json(DatastoreRecord, d) for d in self._get(routes.LIST_DATASTORES)["datastores"]]

    def delete_datastore(self, name: str) -> None:
        check_datastore_name(name)
        self._send(routes.DELETE_DATASTORE.at(name=name))

    # published pipelines and schedules -----------------------------------------------------------
    def publish_pipeline(
        self,
        name: str,
        pipeline: dict[str, Any],
        *,
        description: str | None = None,
        make_default: bool = False,
    ) -> PublishedPipeline:
        check_name("pipeline", name)
        body = {"pipeline": pipeline, "description": description, "make_default": make_default}
        return from_json(PublishedPipeline, self._send(routes.PUBLISH_PIPELINE.at(name=name), body))

    def get_published_pipeline(self, name: str, version: int | None = None) -> PublishedPipeline:
        if version is None:
            return from_json(PublishedPipeline, self._get(routes.GET_DEFAULT_PIPELINE.at(name=name)))
        target = routes.GET_PUBLISHED_PIPELINE.at(name=name, version=int(version))
        return from_json(PublishedPipeline, self._get(target))

    def list_published_pipelines(self, name: str) -> list[PublishedPipeline]:
        found = self._get(routes.LIST_PUBLISHED_PIPELINES.at(name=name))["versions"]
        return [from_json(PublishedPipeline, v) for v in found]

    def get_pipeline_endpoint(self, name: str) -> PipelineEndpoint:
        return from_json(PipelineEndpoint, self._get(routes.GET_PIPELINE_ENDPOINT.at(name=name)))

    def list_pipeline_endpoints(self) -> list[PipelineEndpoint]:
        return [
            from_json(PipelineEndpoint, e) for e in self._get(routes.LIST_PIPELINE_ENDPOINTS)["endpoints"]
        ]

    def set_pipeline_default(self, name: str, version: int) -> PipelineEndpoint:
        target = routes.SET_PIPELINE_DEFAULT.at(name=name)
        return from_json(PipelineEndpoint, self._send(target, {"version": int(version)}))

    def create_schedule(
        self,
        name: str,
        *,
        pipeline: str,
        trigger: str,
        spec: str,
        next_fire: float,
        inputs: dict[str, str] | None = None,
        missed: str = "run-once",
        watermark: str | None = None,
        poll_seconds: float | None = None,
    ) -> Schedule:
        check_name("schedule", name)
        body = {
            "name": name,
            "pipeline": pipeline,
            "trigger": trigger,
            "spec": spec,
            "next_fire": next_fire,
            "inputs": inputs,
            "missed": missed,
            "watermark": watermark,
            "poll_seconds": poll_seconds,
        }
        return from_json(Schedule, self._send(routes.CREATE_SCHEDULE, body))

    def get_schedule(self, name: str) -> Schedule:
        return from_json(Schedule, self._get(routes.GET_SCHEDULE.at(name=name)))

    def list_schedules(self) -> list[Schedule]:
        return [from_json(Schedule, s) for s in self._get(routes.LIST_SCHEDULES)["schedules"]]

    def set_schedule_enabled(self, name: str, enabled: bool, *, next_fire: float | None = None) -> Schedule:
        body = {"enabled": enabled, "next_fire": next_fire}
        return from_json(Schedule, self._send(routes.SET_SCHEDULE_ENABLED.at(name=name), body))

    def delete_schedule(self, name: str) -> None:
        self._send(routes.DELETE_SCHEDULE.at(name=name))

    def claim_schedule_fire(
        self,
        name: str,
        *,
        due: float,
        next_fire: float,
        action: str,
        missed: int = 0,
        watermark: str | None = None,
    ) -> ScheduleFiring | None:
        body = {
            "due": due,
            "next_fire": next_fire,
            "action": action,
            "missed": missed,
            "watermark": watermark,
        }
        found = self._send(routes.CLAIM_SCHEDULE_FIRE.at(name=name), body)["firing"]
        return None if found is None else from_json(ScheduleFiring, found)

    def finish_schedule_firing(
        self, firing_id: int, *, run_id: str | None = None, error: str | None = None
    ) -> ScheduleFiring:
        target = routes.FINISH_SCHEDULE_FIRING.at(firing_id=int(firing_id))
        return from_json(ScheduleFiring, self._send(target, {"run_id": run_id, "error": error}))

    def list_schedule_firings(self, name: str, *, limit: int = 20) -> list[ScheduleFiring]:
        found = self._get(routes.LIST_SCHEDULE_FIRINGS.at(name=name), limit=max(1, min(int(limit), 1000)))
        return [from_json(ScheduleFiring, f) for f in found["firings"]]

    # endpoints ---------------------------------------------------------------------------------------
    def create_endpoint(self, name: str, port: int, primary_key: str, secondary_key: str) -> EndpointRecord:
        check_endpoint_name(name)
        body = {"name": name, "port": port, "primary_key": primary_key, "secondary_key": secondary_key}
        return from_json(EndpointRecord, self._send(routes.CREATE_ENDPOINT, body))

    def get_endpoint(self, name: str) -> EndpointRecord:
        return from_json(EndpointRecord, self._get(routes.GET_ENDPOINT.at(name=name)))

    def list_endpoints(self) -> list[EndpointRecord]:
        return [from_json(EndpointRecord, e) for e in self._get(routes.LIST_ENDPOINTS)["endpoints"]]

    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointRecord:
        if not update.changes():  # the route takes at least one field; nothing to change is a read
            return self.get_endpoint(name)
        body = {"fields": to_json(update.changes())}
        return from_json(EndpointRecord, self._send(routes.UPDATE_ENDPOINT.at(name=name), body))

    def delete_endpoint(self, name: str) -> None:
        self._send(routes.DELETE_ENDPOINT.at(name=name))

    def create_deployment(
        self, endpoint: str, name: str, model_name: str, model_version: int, workers: int
    ) -> DeploymentRecord:
        check_endpoint_name(name, "deployment")
        body = {"name": name, "model_name": model_name, "model_version": model_version, "workers": workers}
        target = routes.CREATE_DEPLOYMENT.at(endpoint=endpoint)
        return from_json(DeploymentRecord, self._send(target, body))

    def get_deployment(self, endpoint: str, name: str) -> DeploymentRecord:
        return from_json(DeploymentRecord, self._get(routes.GET_DEPLOYMENT.at(endpoint=endpoint, name=name)))

    def list_deployments(self, endpoint: str) -> list[DeploymentRecord]:
        found = self._get(routes.LIST_DEPLOYMENTS.at(endpoint=endpoint))["deployments"]
        return [from_json(DeploymentRecord, d) for d in found]

    def update_deployment(self, endpoint: str, name: str, update: DeploymentUpdate) -> DeploymentRecord:
        if not update.changes():
            return self.get_deployment(endpoint, name)
        target = routes.UPDATE_DEPLOYMENT.at(endpoint=endpoint, name=name)
        return from_json(DeploymentRecord, self._send(target, {"fields": to_json(update.changes())}))

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self._send(routes.DELETE_DEPLOYMENT.at(endpoint=endpoint, name=name))
