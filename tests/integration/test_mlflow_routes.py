"""The MLflow routes over HTTP: error codes, limits, no file outside the artifact root, auth, and no
5xx for any input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS
from tests.integration.mlflow_helpers import API, contributor_client, error, module_workspace, new_run
from tests.integration.server_helpers import token_for_app
from trainyard.workspace import Workspace


@pytest.fixture(scope="module", params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield from module_workspace(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[TestClient]:
    yield from contributor_client(ws)


@pytest.fixture(scope="module")
def run_id(client: TestClient) -> str:
    return new_run(client, "errors")


def test_unknown_run_and_experiment_are_404(client: TestClient) -> None:
    assert "nope" in error(
        client.get(f"{API}/runs/get", params={"run_id": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    reply = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "missing"})
    error(reply, 404, "RESOURCE_DOES_NOT_EXIST")
    reply = client.post(
        f"{API}/runs/log-metric", json={"run_id": "nope", "key": "a", "value": 1, "timestamp": 1}
    )
    error(reply, 404, "RESOURCE_DOES_NOT_EXIST")


def test_experiment_zero_is_default(client: TestClient, ws: Workspace) -> None:
    """A client with no experiment set logs to "0": trainyard's experiment named Default."""
    run = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
    default = ws.store.get_experiment_by_name("Default")
    assert default is not None and run["experiment_id"] == default.id
    exp = client.get(f"{API}/experiments/get", params={"experiment_id": "0"}).json()["experiment"]
    assert (exp["name"], exp["experiment_id"]) == ("Default", default.id)


def test_a_run_is_its_authenticated_callers_whatever_the_body_says(client: TestClient, ws: Workspace) -> None:
    """MLflow clients send the machine's login name as ``user_id`` and as the tag ``mlflow.user``;
    the server records the caller its token names instead (the client's token is ``tester``'s)."""
    exp = client.post(f"{API}/experiments/create", json={"name": "whose"}).json()["experiment_id"]
    claimed = {"user_id": "mallory", "tags": [{"key": "mlflow.user", "value": "mallory"}]}
    for body in (claimed, {}, {"user_id": "tester"}):
        reply = client.post(f"{API}/runs/create", json={"experiment_id": exp, **body})
        assert reply.status_code == 200, reply.text
        info = reply.json()["run"]["info"]
        assert info["user_id"] == "tester"
        assert ws.store.get_run(info["run_id"]).tags["mlflow.user"] == "tester"
        fetched = client.get(f"{API}/runs/get", params={"run_id": info["run_id"]}).json()["run"]
        assert fetched["info"]["user_id"] == "tester"
        assert {"key": "mlflow.user", "value": "tester"} in fetched["data"]["tags"]
    error(
        client.post(f"{API}/runs/create", json={"experiment_id": exp, "user_id": {"a": 1}}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_search_compares_start_time_in_milliseconds(client: TestClient, run_id: str) -> None:
    """MLflow clients filter times in milliseconds; trainyard keeps seconds."""
    now_ms = int(time.time() * 1000)
    exp = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"]["experiment_id"]

    def found(filter_string: str) -> list[str]:
        reply = client.post(f"{API}/runs/search", json={"experiment_ids": [exp], "filter": filter_string})
        return [r["info"]["run_id"] for r in reply.json().get("runs", [])]

    assert found(f"attributes.start_time > {now_ms - 3_600_000} and params.missing != 'x'") == []
    assert run_id in found(f"attributes.start_time > {now_ms - 3_600_000} and attributes.status = 'RUNNING'")
    assert found(f"attributes.start_time > {now_ms + 3_600_000}") == []


def test_mlflow_runs_are_not_reaped_while_their_client_is_quiet(client: TestClient, ws: Workspace) -> None:
    """MLflow clients send no heartbeats: a run stays running until its client ends it, as in MLflow."""
    from trainyard.compute.reaper import reap

    run = client.post(f"{API}/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]["run_id"]
    later = time.time() + ws.config.heartbeat_timeout_seconds * 10
    assert run not in reap(ws, now=later)
    assert ws.store.get_run(run).status == "running" and ws.store.get_run(run).compute == "external"


def test_duplicate_experiment(client: TestClient) -> None:
    assert client.post(f"{API}/experiments/create", json={"name": "twice"}).status_code == 200
    error(client.post(f"{API}/experiments/create", json={"name": "twice"}), 400, "RESOURCE_ALREADY_EXISTS")


def test_params_are_write_once(client: TestClient, run_id: str) -> None:
    body = {"run_id": run_id, "key": "alpha", "value": "0.1"}
    assert client.post(f"{API}/runs/log-parameter", json=body).status_code == 200
    assert client.post(f"{API}/runs/log-parameter", json=body).status_code == 200  # same value: fine
    message = error(
        client.post(f"{API}/runs/log-parameter", json={**body, "value": "0.2"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "alpha" in message
    batch = {"run_id": run_id, "params": [{"key": "alpha", "value": "0.3"}]}
    error(client.post(f"{API}/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE")


def test_int64_fields_as_strings(client: TestClient, ws: Workspace, run_id: str) -> None:
    now = int(time.time() * 1000)
    body = {"run_id": run_id, "key": "strings", "value": "2.5", "timestamp": str(now), "step": "7"}
    assert client.post(f"{API}/runs/log-metric", json=body).status_code == 200
    [metric] = ws.store.get_metric_history(run_id, "strings")
    assert (metric.step, metric.value, metric.timestamp) == (7, 2.5, now / 1000)
    reply = client.post(f"{API}/runs/log-metric", json={**body, "step": "seven"})
    assert "step" in error(reply, 400, "INVALID_PARAMETER_VALUE")


def test_nan_and_infinite_metrics_round_trip(client: TestClient, run_id: str) -> None:
    for step, value in enumerate(("NaN", "Infinity", "-Infinity")):
        body = {"run_id": run_id, "key": "odd", "value": value, "timestamp": 1, "step": step}
        assert client.post(f"{API}/runs/log-metric", json=body).status_code == 200
    history = client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "odd"}).json()
    assert [m["value"] for m in history["metrics"]] == ["NaN", "Infinity", "-Infinity"]
    latest = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["metrics"]
    assert {"key": "odd", "value": "-Infinity"} in latest


@pytest.mark.parametrize(
    ("field", "count", "limit"),
    [("metrics", 1001, 1000), ("params", 101, 100), ("tags", 101, 100)],
)
def test_log_batch_limits(
    client: TestClient, ws: Workspace, run_id: str, field: str, count: int, limit: int
) -> None:
    item = (
        (lambda i: {"key": f"m{i}", "value": 1.0, "timestamp": 1, "step": 0})
        if field == "metrics"
        else (lambda i: {"key": f"{field}{i}", "value": "v"})
    )
    reply = client.post(
        f"{API}/runs/log-batch", json={"run_id": run_id, field: [item(i) for i in range(count)]}
    )
    assert f"the limit is {limit}" in error(reply, 400, "INVALID_PARAMETER_VALUE")
    assert "m1000" not in ws.store.get_run(run_id).metrics  # nothing of a refused batch is kept


def test_log_batch_total_size_and_key_length(client: TestClient, run_id: str) -> None:
    items = {
        "metrics": [{"key": f"m{i}", "value": 1.0, "timestamp": 1} for i in range(600)],
        "params": [{"key": f"p{i}", "value": "v"} for i in range(100)],
        "tags": [{"key": f"t{i}", "value": "v"} for i in range(100)],
        "run_id": run_id,
    }
    items["metrics"] += [{"key": f"n{i}", "value": 1.0, "timestamp": 1} for i in range(300)]
    assert "1000" in error(client.post(f"{API}/runs/log-batch", json=items), 400, "INVALID_PARAMETER_VALUE")
    big = {
        "run_id": run_id,
        "tags": [{"key": f"t{i}", "value": "x" * 7000} for i in range(100)],
        "params": [],
    }
    big["params"] = [
        {"key": f"p{i}", "value": "y" * 5000} for i in range(100)
    ]  # each value in limits, 1.2 MB
    assert "bytes" in error(client.post(f"{API}/runs/log-batch", json=big), 400, "INVALID_PARAMETER_VALUE")
    long_key = {"run_id": run_id, "metrics": [{"key": "k" * 251, "value": 1.0, "timestamp": 1}]}
    assert "250" in error(client.post(f"{API}/runs/log-batch", json=long_key), 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    "path",
    [
        "runs/{run}/%2e%2e/%2e%2e/escaped.txt",
        "runs/{run}/%252e%252e/%252e%252e/escaped.txt",
        "runs/{run}/..%2F..%2Fescaped.txt",
        "%2Fetc%2Fescaped.txt",
        "models/stolen/escaped.txt",
        "snapshots/escaped.txt",
    ],
)
def test_artifact_traversal_is_refused(client: TestClient, ws: Workspace, run_id: str, path: str) -> None:
    url = f"/api/2.0/mlflow-artifacts/artifacts/{path.format(run=run_id)}"
    error(client.put(url, content=b"payload"), 400, "INVALID_PARAMETER_VALUE")
    if not path.startswith("models/"):  # registered versions are readable, never writable
        error(client.get(url), 400, "INVALID_PARAMETER_VALUE")
    root = Path(ws.artifacts.root)
    assert not list(root.parent.rglob("escaped.txt"))


def test_symlink_out_of_the_store_is_refused(
    client: TestClient, ws: Workspace, run_id: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    run_dir = Path(ws.artifacts.root) / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "link").symlink_to(outside)
    base = f"/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/link"
    error(client.get(f"{base}/secret.txt"), 400, "INVALID_PARAMETER_VALUE")
    error(client.put(f"{base}/planted.txt", content=b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_artifact_round_trip_and_unknown_run(client: TestClient, run_id: str) -> None:
    url = f"/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/data/x.bin"
    payload = bytes(range(256)) * 1000
    assert client.put(url, content=payload).status_code == 200
    assert client.get(url).content == payload
    listing = client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": f"runs/{run_id}/data"}).json()
    assert listing == {"files": [{"path": "x.bin", "is_dir": False, "file_size": len(payload)}]}
    error(
        client.put("/api/2.0/mlflow-artifacts/artifacts/runs/nope/x.bin", content=b"x"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    error(client.get(f"{url}.missing"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_malformed_requests_and_unserved_routes(client: TestClient, run_id: str) -> None:
    reply = client.post(
        f"{API}/runs/create", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert "JSON" in error(reply, 400, "INVALID_PARAMETER_VALUE")
    error(client.post(f"{API}/runs/create", json={"experiment_id": ["a"]}), 400, "INVALID_PARAMETER_VALUE")
    error(
        client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [1]}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    bad_dataset = {"run_id": run_id, "datasets": [{"dataset": {"name": "train"}}]}
    assert "digest" in error(
        client.post(f"{API}/runs/log-inputs", json=bad_dataset), 400, "INVALID_PARAMETER_VALUE"
    )
    message = error(
        client.post(f"{API}/experiments/set-experiment-tag", json={}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "experiment_id" in message
    assert "webhooks/create" in error(client.post(f"{API}/webhooks/create", json={}), 501, "NOT_IMPLEMENTED")
    reply = client.post(f"{API}/experiments/search", json={"filter": "metrics.x > 1"})
    assert "name and tags" in error(reply, 400, "INVALID_PARAMETER_VALUE")


def test_mlflow_routes_need_a_token_and_readers_only_read(client: TestClient, run_id: str) -> None:
    anonymous = TestClient(client.app, base_url="http://localhost")
    assert anonymous.get(f"{API}/experiments/get-by-name", params={"experiment_name": "x"}).status_code == 401
    reader = TestClient(client.app, base_url="http://localhost")
    reader.headers["Authorization"] = f"Bearer {token_for_app(client.app, role='reader', user='reader')}"
    assert reader.post(f"{API}/runs/search", json={"max_results": 5}).status_code == 200
    assert reader.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 200
    metric = {"run_id": run_id, "key": "blocked", "value": 1, "timestamp": 1}
    assert reader.post(f"{API}/runs/log-metric", json=metric).status_code == 403
    upload = f"/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/blocked.txt"
    assert reader.put(upload, content=b"x").status_code == 403


HOSTILE = [None, "", -1, "1e400", True, ["a", "b"], {"key": 1}, "../../etc"]
FIELDS = [
    "run_id",
    "run_uuid",
    "experiment_id",
    "experiment_ids",
    "experiment_name",
    "name",
    "key",
    "value",
    "timestamp",
    "step",
    "metrics",
    "params",
    "tags",
    "status",
    "filter",
    "max_results",
    "page_token",
    "order_by",
    "source",
    "model_id",
    "version",
    "alias",
    "stage",
    "path",
    "metric_key",
    "models",
    "datasets",
    "model_json",
    "run_name",
    "start_time",
    "end_time",
    "run_view_type",
    "view_type",
    "stages",
    "description",
    "user_id",
]


def test_no_route_answers_5xx_to_hostile_input(client: TestClient, ws: Workspace, run_id: str) -> None:
    """Every MLflow route, every method, each field set to wrong types and values: 4xx, never 5xx."""
    if not ws.config.store.startswith("sqlite"):
        pytest.skip("input checks come before the store; one backend covers them")
    exp_id = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["info"]["experiment_id"]
    document = client.get("/api/v1/openapi.json").json()  # what schemathesis fuzzes
    paths = [(p, [m.upper() for m in ops]) for p, ops in document["paths"].items() if "/mlflow" in p]
    assert len(paths) > 35
    failures = []
    for template, methods in paths:
        path = template.replace("{model_id}", "m-zz").replace("{path}", f"runs/{run_id}/x")
        for method in methods:
            for value in HOSTILE:
                for anchor in ({}, {"run_id": run_id, "experiment_id": exp_id, "name": "iris"}):
                    body = {**{f: value for f in FIELDS}, **anchor}
                    if method == "GET":
                        query = {k: v if isinstance(v, list) else str(v) for k, v in body.items()}
                        reply = client.request(method, path, params=query)
                    else:
                        reply = client.request(method, path, json=body)
                    if reply.status_code >= 500 and reply.status_code != 501:
                        failures.append((method, path, value, reply.status_code, reply.text[:200]))
    assert not failures, failures[:5]
