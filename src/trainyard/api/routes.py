"""Every route of REST API v1, declared once: the server registers its handlers from this table
and clients call through it, so a path is written in one place.

A ``Route`` is a method and a path template (FastAPI's syntax: ``{name}`` is one segment,
``{name:path}`` may hold ``/``), the status of a success, and whether it is a create that takes an
``Idempotency-Key``. ``route.at(**segments)`` is the request path with each segment quoted, so a
name holding ``/``, ``?`` or ``%`` reaches the server as one segment. Query parameters and bodies
are not part of the path: the handler's signature and ``trainyard.api.schemas`` declare them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

V1 = "/api/v1"
AGENT = f"{V1}/agent"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_SEGMENT = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    status: int = 200
    idempotent: bool = False  # a create: clients send an Idempotency-Key, the server makes it once

    def segments(self) -> list[str]:
        """The names of the template's path segments, in order."""
        return [match.group(1) for match in _SEGMENT.finditer(self.template)]

    def at(self, **segments: object) -> Target:
        """This route at the path its template makes of ``segments``, each quoted."""
        if sorted(segments) != sorted(self.segments()):
            raise TypeError(f"{self.method} {self.template} takes {self.segments()}, not {sorted(segments)}")

        def fill(match: re.Match[str]) -> str:
            return quote(str(segments[match.group(1)]), safe="/" if match.group(2) else "")

        return Target(self, _SEGMENT.sub(fill, self.template))


@dataclass(frozen=True)
class Target:
    """A route and the path of one request to it."""

    route: Route
    path: str

    @property
    def method(self) -> str:
        return self.route.method


ROUTES: list[Route] = []


def _route(method: str, template: str, *, status: int = 200, idempotent: bool = False) -> Route:
    route = Route(method, template, status, idempotent)
    ROUTES.append(route)
    return route


# server ----------------------------------------------------------------------------------------
HEALTH = _route("GET", f"{V1}/health")
OPENAPI = _route("GET", f"{V1}/openapi.json")

# experiments -----------------------------------------------------------------------------------
CREATE_EXPERIMENT = _route("POST", f"{V1}/experiments", idempotent=True)
LIST_EXPERIMENTS = _route("GET", f"{V1}/experiments")
GET_EXPERIMENT_BY_NAME = _route("GET", f"{V1}/experiments/by-name")
GET_EXPERIMENT = _route("GET", f"{V1}/experiments/{{experiment_id}}")
COUNT_RUNS = _route("GET", f"{V1}/experiments/{{experiment_id}}/run-count")
UPDATE_EXPERIMENT = _route("PATCH", f"{V1}/experiments/{{experiment_id}}")

# runs ------------------------------------------------------------------------------------------
CREATE_RUN = _route("POST", f"{V1}/runs", idempotent=True)
SEARCH_RUNS = _route("POST", f"{V1}/runs/search")
FIND_RUN_IDS = _route("GET", f"{V1}/run-ids")
GET_RUN = _route("GET", f"{V1}/runs/{{run_id}}")
SET_STATUS = _route("POST", f"{V1}/runs/{{run_id}}/status")
REQUEUE = _route("POST", f"{V1}/runs/{{run_id}}/requeue")
HEARTBEAT = _route("POST", f"{V1}/runs/{{run_id}}/heartbeat")
REQUEST_CANCEL = _route("POST", f"{V1}/runs/{{run_id}}/cancel")
SET_RUN_ERROR = _route("PUT", f"{V1}/runs/{{run_id}}/error")
TAG_RUNS = _route("POST", f"{V1}/runs/tags")  # bulk: every run named, or none
DELETE_RUNS = _route("POST", f"{V1}/runs/delete")
RESTORE_RUNS = _route("POST", f"{V1}/runs/restore")
# a step's table or report output: first rows and column statistics (the designer's side panel)
GET_OUTPUT_PREVIEW = _route("GET", f"{V1}/runs/{{run_id}}/outputs/{{port}}/preview")

# metrics, params and tags ----------------------------------------------------------------------
LOG_BATCH = _route("POST", f"{V1}/runs/{{run_id}}/batch", idempotent=True)  # once per batch id
GET_METRIC_HISTORY = _route("GET", f"{V1}/runs/{{run_id}}/metrics")
GET_METRIC_SERIES = _route("GET", f"{V1}/runs/{{run_id}}/metric-series")  # one key, cut to a chart's width
GET_METRIC_SERIES_BATCH = _route("GET", f"{V1}/metric-series")  # one key of several runs (compare)
DELETE_TAG = _route("DELETE", f"{V1}/runs/{{run_id}}/tags")

# environments ----------------------------------------------------------------------------------
REGISTER_ENVIRONMENT = _route("POST", f"{V1}/environments")
LIST_ENVIRONMENTS = _route("GET", f"{V1}/environments")
GET_ENVIRONMENT = _route("GET", f"{V1}/environments/{{name}}")

# data assets -------------------------------------------------------------------------------------
LIST_DATA = _route("GET", f"{V1}/data")
CREATE_DATA_VERSION = _route("POST", f"{V1}/data/{{name}}/versions", idempotent=True)
LIST_DATA_VERSIONS = _route("GET", f"{V1}/data/{{name}}/versions")
GET_DATA_LATEST = _route("GET", f"{V1}/data/{{name}}/latest")
GET_DATA_VERSION = _route("GET", f"{V1}/data/{{name}}/versions/{{version}}")
SET_DATA_VERSION_ARCHIVED = _route("PUT", f"{V1}/data/{{name}}/versions/{{version}}/archived")
RECORD_DATA_LINEAGE = _route("POST", f"{V1}/data-lineage")
LIST_DATA_LINEAGE = _route("GET", f"{V1}/data-lineage")

# registered command components -----------------------------------------------------------------
LIST_COMPONENTS = _route("GET", f"{V1}/components")
COMPONENT_CATALOGUE = _route("GET", f"{V1}/components/catalogue")  # the built-in Studio modules
CREATE_COMPONENT_VERSION = _route("POST", f"{V1}/components/{{name}}/versions")  # same content: same version
LIST_COMPONENT_VERSIONS = _route("GET", f"{V1}/components/{{name}}/versions")
GET_COMPONENT_LATEST = _route("GET", f"{V1}/components/{{name}}/latest")
GET_COMPONENT_VERSION = _route("GET", f"{V1}/components/{{name}}/versions/{{version}}")
SET_COMPONENT_VERSION_ARCHIVED = _route("PUT", f"{V1}/components/{{name}}/versions/{{version}}/archived")
# datastores ------------------------------------------------------------------------------------
LIST_DATASTORES = _route("GET", f"{V1}/datastores")
CREATE_DATASTORE = _route("POST", f"{V1}/datastores", idempotent=True)
GET_DATASTORE = _route("GET", f"{V1}/datastores/{{name}}")
DELETE_DATASTORE = _route("DELETE", f"{V1}/datastores/{{name}}")
# published pipelines, their endpoints and schedules ----------------------------------------------
LIST_PIPELINE_ENDPOINTS = _route("GET", f"{V1}/pipelines")
GET_PIPELINE_ENDPOINT = _route("GET", f"{V1}/pipelines/{{name}}")
PUBLISH_PIPELINE = _route("POST", f"{V1}/pipelines/{{name}}/versions", idempotent=True)
LIST_PUBLISHED_PIPELINES = _route("GET", f"{V1}/pipelines/{{name}}/versions")
GET_PUBLISHED_PIPELINE = _route("GET", f"{V1}/pipelines/{{name}}/versions/{{version}}")
GET_DEFAULT_PIPELINE = _route("GET", f"{V1}/pipelines/{{name}}/default")
SET_PIPELINE_DEFAULT = _route("PUT", f"{V1}/pipelines/{{name}}/default")
TRIGGER_PIPELINE = _route("POST", f"{V1}/pipelines/{{name}}/runs")  # Azure's published-pipeline submit
CREATE_INFERENCE_MODEL = _route("POST", f"{V1}/pipeline-runs/{{run_id}}/inference-model")  # registers it
SUBMIT_PIPELINE = _route("POST", f"{V1}/pipeline-jobs")  # a pipeline's YAML text, as `pipeline submit -f`
LIST_PIPELINE_SAMPLES = _route("GET", f"{V1}/pipeline-samples")  # the designer's samples
OPEN_PIPELINE_SAMPLE = _route("POST", f"{V1}/pipeline-samples/{{name}}")  # its data asset made, its YAML
LIST_SCHEDULES = _route("GET", f"{V1}/schedules")
CREATE_SCHEDULE = _route("POST", f"{V1}/schedules", idempotent=True)
GET_SCHEDULE = _route("GET", f"{V1}/schedules/{{name}}")
DELETE_SCHEDULE = _route("DELETE", f"{V1}/schedules/{{name}}")
SET_SCHEDULE_ENABLED = _route("PUT", f"{V1}/schedules/{{name}}/enabled")
CLAIM_SCHEDULE_FIRE = _route("POST", f"{V1}/schedules/{{name}}/claims")
LIST_SCHEDULE_FIRINGS = _route("GET", f"{V1}/schedules/{{name}}/firings")
FINISH_SCHEDULE_FIRING = _route("PUT", f"{V1}/schedule-firings/{{firing_id}}")

# model registry --------------------------------------------------------------------------------
LIST_MODELS = _route("GET", f"{V1}/models")
CREATE_REGISTERED_MODEL = _route("POST", f"{V1}/models", idempotent=True)
GET_REGISTERED_MODEL = _route("GET", f"{V1}/models/{{name}}")
UPDATE_REGISTERED_MODEL = _route("PATCH", f"{V1}/models/{{name}}")
DELETE_REGISTERED_MODEL = _route("DELETE", f"{V1}/models/{{name}}")
CREATE_MODEL_VERSION = _route("POST", f"{V1}/models/{{name}}/versions", idempotent=True)
LIST_MODEL_VERSIONS = _route("GET", f"{V1}/models/{{name}}/versions")
GET_MODEL_VERSION = _route("GET", f"{V1}/models/{{name}}/versions/{{version}}")
UPDATE_MODEL_VERSION = _route("PATCH", f"{V1}/models/{{name}}/versions/{{version}}")
DELETE_MODEL_VERSION = _route("DELETE", f"{V1}/models/{{name}}/versions/{{version}}")
SET_MODEL_VERSION_STATUS = _route("PUT", f"{V1}/models/{{name}}/versions/{{version}}/status")
GET_MODEL_VERSION_BY_ALIAS = _route("GET", f"{V1}/models/{{name}}/aliases/{{alias}}")
SET_MODEL_ALIAS = _route("PUT", f"{V1}/models/{{name}}/aliases/{{alias}}")
DELETE_MODEL_ALIAS = _route("DELETE", f"{V1}/models/{{name}}/aliases/{{alias}}")

# endpoints and deployments ---------------------------------------------------------------------
CREATE_ENDPOINT = _route("POST", f"{V1}/endpoints", idempotent=True)
LIST_ENDPOINTS = _route("GET", f"{V1}/endpoints")
GET_ENDPOINT = _route("GET", f"{V1}/endpoints/{{name}}")
UPDATE_ENDPOINT = _route("PATCH", f"{V1}/endpoints/{{name}}")
DELETE_ENDPOINT = _route("DELETE", f"{V1}/endpoints/{{name}}")
CREATE_DEPLOYMENT = _route("POST", f"{V1}/endpoints/{{endpoint}}/deployments", idempotent=True)
LIST_DEPLOYMENTS = _route("GET", f"{V1}/endpoints/{{endpoint}}/deployments")
GET_DEPLOYMENT = _route("GET", f"{V1}/endpoints/{{endpoint}}/deployments/{{name}}")
UPDATE_DEPLOYMENT = _route("PATCH", f"{V1}/endpoints/{{endpoint}}/deployments/{{name}}")
DELETE_DEPLOYMENT = _route("DELETE", f"{V1}/endpoints/{{endpoint}}/deployments/{{name}}")

# online endpoints: their routers and deployments run on the server -------------------------------
START_ENDPOINT = _route("POST", f"{V1}/online-endpoints", idempotent=True)
DESCRIBE_ENDPOINT = _route("GET", f"{V1}/online-endpoints/{{name}}")
STOP_ENDPOINT = _route("DELETE", f"{V1}/online-endpoints/{{name}}")
ENDPOINT_LOG = _route("GET", f"{V1}/online-endpoints/{{name}}/log")
SET_ENDPOINT_TRAFFIC = _route("PUT", f"{V1}/online-endpoints/{{name}}/traffic")  # checked as the CLI checks
TEST_ENDPOINT = _route("POST", f"{V1}/online-endpoints/{{name}}/test")  # one request, sent by the server
START_DEPLOYMENT = _route("POST", f"{V1}/online-endpoints/{{endpoint}}/deployments", idempotent=True)
STOP_DEPLOYMENT = _route("DELETE", f"{V1}/online-endpoints/{{endpoint}}/deployments/{{name}}")

# artifacts -------------------------------------------------------------------------------------
ARTIFACTS = f"{V1}/artifacts/"  # uploads below it are streamed, not held to the JSON body limit
UPLOAD_ARTIFACT = _route("PUT", ARTIFACTS + "{key:path}")
DOWNLOAD_ARTIFACT = _route("GET", ARTIFACTS + "{key:path}")
DELETE_ARTIFACTS = _route("DELETE", ARTIFACTS + "{key:path}")
LIST_ARTIFACTS = _route("GET", f"{V1}/artifact-list")
ARTIFACT_INFO = _route("GET", f"{V1}/artifact-info")
COPY_ARTIFACT = _route("POST", f"{V1}/artifact-copy")
APPEND_ARTIFACT = _route("POST", f"{V1}/artifact-append")  # the raw body, at an offset
ARTIFACT_TABLE = _route("GET", f"{V1}/artifact-table")  # a Parquet file's first rows, as columns
ARTIFACT_MLMODEL = _route("GET", f"{V1}/artifact-mlmodel")  # an MLmodel file's flavors and signature

# compute agents --------------------------------------------------------------------------------
CLAIM = _route("POST", f"{AGENT}/claim")  # 204: nothing queued within the wait
RELEASE = _route("POST", f"{AGENT}/runs/{{run_id}}/release")

# compute queues (every compute name of a server workspace) and the agents serving them ----------
LIST_QUEUES = _route("GET", f"{V1}/compute")
GET_QUEUE = _route("GET", f"{V1}/compute/{{name}}")

# users and tokens ------------------------------------------------------------------------------
WHOAMI = _route("GET", f"{V1}/auth/whoami")
LIST_USERS = _route("GET", f"{V1}/users")
ADD_USER = _route("POST", f"{V1}/users", status=201)
SET_ROLE = _route("PUT", f"{V1}/users/{{name}}/role")
LIST_TOKENS = _route("GET", f"{V1}/tokens")
CREATE_TOKEN = _route("POST", f"{V1}/tokens", status=201)
REVOKE_TOKEN = _route("DELETE", f"{V1}/tokens/{{token_id}}")
