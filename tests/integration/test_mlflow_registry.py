"""MLflow registry and logged-model routes the client test does not reach: MLflow 2's log-model,
models logged outside a run, searches with filters and order, stages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS
from tests.integration.mlflow_helpers import API, contributor_client, error, module_workspace, new_run
from trainyard.workspace import Workspace


@pytest.fixture(scope="module", params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield from module_workspace(request, tmp_path_factory)


@pytest.fixture(scope="module")
def client(ws: Workspace) -> Iterator[TestClient]:
    yield from contributor_client(ws)


@pytest.fixture(scope="module")
def run_id(client: TestClient) -> str:
    return new_run(client, "registry")


@pytest.fixture(scope="module")
def mlflow2_model(client: TestClient, run_id: str) -> str:
    """What an MLflow 2 client's log_model sends: the files under the run, then runs/log-model."""
    base = f"/api/2.0/mlflow-artifacts/artifacts/runs/{run_id}/model"
    assert client.put(f"{base}/MLmodel", content=b"flavors: {}\n").status_code == 200
    assert client.put(f"{base}/model.bin", content=b"weights").status_code == 200
    model_json = json.dumps({"artifact_path": "model", "run_id": run_id, "flavors": {}})
    reply = client.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": model_json})
    assert reply.status_code == 200
    body = {"name": "from-run-path", "source": f"runs:/{run_id}/model", "run_id": run_id}
    version = client.post(f"{API}/model-versions/create", json=body).json()["model_version"]
    assert (version["version"], version["status"], version["source"]) == ("1", "READY", body["source"])
    return body["name"]


def test_mlflow2_log_model_and_registering_from_a_run_path(
    client: TestClient, ws: Workspace, run_id: str, mlflow2_model: str
) -> None:
    """The run keeps MLflow's log-model history; the version is a copy of the run's files."""
    history = json.loads(ws.store.get_run(run_id).tags["mlflow.log-model.history"])
    assert history[0]["artifact_path"] == "model"
    params = {"name": mlflow2_model, "version": 1}
    uri = client.get(f"{API}/model-versions/get-download-uri", params=params).json()["artifact_uri"]
    assert uri.startswith(f"mlflow-artifacts:/models/{mlflow2_model}/")
    files = client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": uri.split(":/", 1)[1]})
    assert sorted(f["path"] for f in files.json()["files"]) == ["MLmodel", "model.bin"]
    wrong_run = {"name": mlflow2_model, "source": f"runs:/{run_id}/model", "run_id": "another"}
    reply = client.post(f"{API}/model-versions/create", json=wrong_run)
    assert "another" in error(reply, 400, "INVALID_PARAMETER_VALUE")
    missing = {"name": mlflow2_model, "source": f"runs:/{run_id}/nothing-here"}
    error(client.post(f"{API}/model-versions/create", json=missing), 404, "RESOURCE_DOES_NOT_EXIST")
    for not_a_run in ("runs:/..", "runs:/.", "runs:/"):  # the whole store is nobody's run
        reply = client.post(f"{API}/model-versions/create", json={"name": mlflow2_model, "source": not_a_run})
        error(reply, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_model_logged_outside_a_run_registers_from_its_folder(client: TestClient, ws: Workspace) -> None:
    """MLflow 3 logs a model without a run under ``mlflow-models/<id>``; registering copies that folder."""
    exp = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "registry"}).json()
    created = client.post(f"{API}/logged-models", json={"experiment_id": exp["experiment"]["experiment_id"]})
    info = created.json()["model"]["info"]
    assert info["artifact_uri"] == f"mlflow-artifacts:/mlflow-models/{info['model_id']}"
    folder = info["artifact_uri"].split(":/", 1)[1]
    for name in ("MLmodel", "data/weights.bin"):
        assert (
            client.put(f"/api/2.0/mlflow-artifacts/artifacts/{folder}/{name}", content=b"x").status_code
            == 200
        )
    body = {"model_id": info["model_id"], "status": "LOGGED_MODEL_READY"}
    assert client.patch(f"{API}/logged-models/{info['model_id']}", json=body).status_code == 200
    version = client.post(
        f"{API}/model-versions/create",
        json={"name": "no-run", "source": f"models:/{info['model_id']}", "model_id": info["model_id"]},
    ).json()["model_version"]
    assert (version["version"], version.get("run_id"), version["model_id"]) == ("1", None, info["model_id"])
    [model] = ws.store.list_model_versions("no-run")
    assert sorted(f.split("/", 3)[3] for f in model.files) == ["MLmodel", "data/weights.bin"]
    empty = client.post(f"{API}/logged-models", json={"experiment_id": exp["experiment"]["experiment_id"]})
    source = f"models:/{empty.json()['model']['info']['model_id']}"
    reply = client.post(f"{API}/model-versions/create", json={"name": "no-run", "source": source})
    error(reply, 404, "RESOURCE_DOES_NOT_EXIST")


def test_searches_by_name_and_tag_and_stages(
    client: TestClient, ws: Workspace, run_id: str, mlflow2_model: str
) -> None:
    for name, team in (("search-a", "risk"), ("search-b", "growth")):
        client.post(
            f"{API}/experiments/create", json={"name": name, "tags": [{"key": "team", "value": team}]}
        )
    found = client.post(
        f"{API}/experiments/search", json={"filter": "name LIKE 'search-%' and tags.team = 'risk'"}
    )
    assert [e["name"] for e in found.json()["experiments"]] == ["search-a"]
    first = client.get(
        f"{API}/experiments/search", params={"filter": "name LIKE 'search-%'", "max_results": 1}
    ).json()
    second = client.get(
        f"{API}/experiments/search",
        params={"filter": "name LIKE 'search-%'", "max_results": 1, "page_token": first["next_page_token"]},
    ).json()
    assert [e["name"] for e in first["experiments"] + second["experiments"]] == ["search-b", "search-a"]
    assert second["next_page_token"] is None
    by_name = client.post(
        f"{API}/experiments/search", json={"filter": "name LIKE 'search-%'", "order_by": ["name DESC"]}
    )
    assert [e["name"] for e in by_name.json()["experiments"]] == ["search-b", "search-a"]
    reply = client.post(f"{API}/experiments/search", json={"order_by": ["metrics.loss"]})
    assert "order by name" in error(reply, 400, "INVALID_PARAMETER_VALUE")
    models = client.get(f"{API}/registered-models/search", params={"order_by": "name DESC"}).json()
    names = [m["name"] for m in models["registered_models"]]
    assert names == sorted(names, reverse=True) and "from-run-path" in names

    for query in ("name = 'from-run-path'", f"run_id = '{run_id}'"):
        versions = client.get(f"{API}/model-versions/search", params={"filter": query}).json()
        assert [(v["name"], v["version"]) for v in versions["model_versions"]] == [("from-run-path", "1")]
    body = {"name": "from-run-path", "version": "1", "stage": "Archived"}
    archived = client.post(f"{API}/model-versions/transition-stage", json=body).json()["model_version"]
    assert archived["current_stage"] == "Archived"
    assert ws.store.get_model_version("from-run-path", 1).status == "archived"
    client.post(f"{API}/model-versions/transition-stage", json={**body, "stage": "None"})
    assert ws.store.get_model_version("from-run-path", 1).status == "ready"
    reply = client.post(f"{API}/model-versions/transition-stage", json={**body, "stage": "Production"})
    assert "aliases" in error(reply, 501, "NOT_IMPLEMENTED")
