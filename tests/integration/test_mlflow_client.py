"""The real ``mlflow`` client against the MLflow routes: what it logs becomes trainyard runs and models.

One server per module (``create_app`` with its auth, in a thread on a free loopback port); every
request the client makes is recorded, so the tests can say which routes a client call uses
(docs/mlflow.md).
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.conftest import BACKENDS
from tests.integration.mlflow_helpers import Recorder, mlflow_server, module_workspace
from trainyard.workspace import Workspace


@pytest.fixture(scope="module", params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield from module_workspace(request, tmp_path_factory)


@pytest.fixture(scope="module")
def server(ws: Workspace) -> Iterator[Recorder]:
    yield from mlflow_server(ws)


@pytest.fixture(scope="module")
def iris():  # type: ignore[no-untyped-def]
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=300).fit(X, y)


@pytest.fixture(scope="module")
def logged(server: Recorder, iris, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[no-untyped-def]
    """One run logged the way a user's script does, with a model registered from it."""
    X, model = iris
    files = tmp_path_factory.mktemp("files")
    (files / "notes.txt").write_text("first run")
    (files / "plots").mkdir()
    (files / "plots" / "a.csv").write_text("x,y\n1,2\n")
    mlflow.set_experiment("iris")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_params({"solver": "lbfgs", "max_iter": 300})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"accuracy": 0.97, "f1": 0.96})
        mlflow.set_tags({"team": "fraud", "stage": "dev"})
        mlflow.log_artifact(str(files / "notes.txt"))
        mlflow.log_artifacts(str(files / "plots"), artifact_path="plots")
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=X.head(2),
            pip_requirements=["scikit-learn"],  # no inference: faster
        )
    version = mlflow.register_model(info.model_uri, "iris-clf")
    return {"run_id": run.info.run_id, "model_uri": info.model_uri, "version": version}


def test_logged_run_is_a_trainyard_run(ws: Workspace, logged: dict) -> None:

    run = ws.store.get_run(logged["run_id"])
    assert ws.store.get_experiment(run.experiment_id).name == "iris"
    assert run.name == "baseline"
    assert run.status == "completed"
    assert run.params == {"C": "1.0", "solver": "lbfgs", "max_iter": "300"}
    assert run.metrics == {"loss": pytest.approx(0.2), "accuracy": 0.97, "f1": 0.96}
    assert run.tags["team"] == "fraud" and run.tags["mlflow.runName"] == "baseline"
    assert [(m.step, m.value) for m in ws.store.get_metric_history(run.id, "loss")] == [
        (s, pytest.approx(1.0 / (s + 1))) for s in range(5)
    ]
    files = ws.artifacts.list(f"runs/{run.id}")
    assert {"notes.txt", "plots/a.csv"} <= set(files)
    assert any(f.endswith("/MLmodel") for f in files)  # the logged model's files are the run's
    assert ws.artifacts.get_bytes(f"runs/{run.id}/notes.txt") == b"first run"


def test_client_reads_back_what_it_logged(server: Recorder, logged: dict, tmp_path: Path) -> None:
    client = MlflowClient()
    run = client.get_run(logged["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == "baseline"
    assert run.data.params["solver"] == "lbfgs" and run.data.metrics["accuracy"] == 0.97
    history = client.get_metric_history(logged["run_id"], "loss")
    assert [m.step for m in history] == list(range(5)) and history[0].timestamp > 1e12  # milliseconds
    listed = {f.path: f.is_dir for f in client.list_artifacts(logged["run_id"])}
    assert listed["notes.txt"] is False and listed["plots"] is True
    assert [f.path for f in client.list_artifacts(logged["run_id"], "plots")] == ["plots/a.csv"]
    target = Path(client.download_artifacts(logged["run_id"], "notes.txt", dst_path=str(tmp_path)))
    assert target.read_text() == "first run"


def test_artifact_over_the_json_body_cap_round_trips(server: Recorder, ws: Workspace, tmp_path: Path) -> None:
    """The proxy streams: a file bigger than the server's 8 MB JSON cap goes up and comes back whole."""
    import hashlib
    import os

    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), artifact_path="blobs")
    back = Path(MlflowClient().download_artifacts(run.info.run_id, "blobs/weights.bin", str(tmp_path / "dl")))
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    assert hashlib.sha256(back.read_bytes()).hexdigest() == digest
    stored = ws.artifacts.local_path(f"runs/{run.info.run_id}/blobs/weights.bin")
    assert stored is not None and hashlib.sha256(stored.read_bytes()).hexdigest() == digest


def test_search_runs_with_filter_and_order(server: Recorder, logged: dict) -> None:
    for c, acc in ((0.1, 0.5), (10.0, 0.99)):
        with mlflow.start_run(run_name=f"C={c}"):
            mlflow.log_param("C", c)
            mlflow.log_metric("accuracy", acc)
    found = mlflow.search_runs(
        experiment_names=["iris"], filter_string="metrics.accuracy > 0.9", order_by=["metrics.accuracy DESC"]
    )
    assert list(found["metrics.accuracy"]) == [0.99, 0.97]
    client = MlflowClient()
    exp = client.get_experiment_by_name("iris")
    page = client.search_runs([exp.experiment_id], "params.C = '0.1'", max_results=10)
    assert [r.info.run_name for r in page] == ["C=0.1"]


def test_registered_version_is_a_trainyard_model_and_loads_back(
    ws: Workspace, server: Recorder, logged, iris
) -> None:  # type: ignore[no-untyped-def]
    import trainyard as ty
    from trainyard.models import load

    X, model = iris
    assert logged["version"].version == "1"
    versions = ty.Model.list(ws, "iris-clf")
    assert [(m.version, m.run_id) for m in versions] == [(1, logged["run_id"])]
    env = {**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)}
    command = [sys.executable, "-m", "trainyard", "model", "list", "iris-clf", "-o", "json"]
    listed = json.loads(subprocess.run(command, env=env, capture_output=True, check=True, text=True).stdout)
    assert [(m["name"], m["version"], m["properties"]["mlflow.source"]) for m in listed] == [
        ("iris-clf", 1, logged["model_uri"])
    ]
    expected = model.predict(X.head(5))
    assert list(load("models:/iris-clf/1", workspace=ws).predict(X.head(5))) == list(expected)
    since = len(server.requests)
    pyfunc = mlflow.pyfunc.load_model("models:/iris-clf/1")
    assert list(pyfunc.predict(X.head(5))) == list(expected)
    assert "GET /api/2.0/mlflow/model-versions/get-download-uri" in server.routes(since)


def test_registry_search_latest_versions_and_aliases(server: Recorder, logged: dict) -> None:
    client = MlflowClient()
    assert [m.name for m in client.search_registered_models(filter_string="name LIKE 'iris%'")] == [
        "iris-clf"
    ]
    assert [v.version for v in client.get_latest_versions("iris-clf")] == ["1"]
    client.set_registered_model_alias("iris-clf", "production", 1)
    assert client.get_model_version_by_alias("iris-clf", "production").version == "1"
    assert client.get_registered_model("iris-clf").aliases == {"production": "1"}
    client.delete_registered_model_alias("iris-clf", "production")
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version_by_alias("iris-clf", "production")


def test_run_lifecycle_delete_restore_and_update(server: Recorder) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("lifecycle", tags={"owner": "ml"})
    assert client.get_experiment(exp_id).tags == {"owner": "ml"}
    run = client.create_run(exp_id, run_name="short")
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    client.restore_run(run.info.run_id)
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run.info.run_id]
    client.update_run(run.info.run_id, name="renamed")
    client.set_terminated(run.info.run_id, status="KILLED")
    info = client.get_run(run.info.run_id).info
    assert (info.run_name, info.status) == ("renamed", "KILLED")
    client.set_tag(run.info.run_id, "k", "v")
    client.delete_tag(run.info.run_id, "k")
    assert "k" not in client.get_run(run.info.run_id).data.tags


def test_special_values_round_trip_exactly(server: Recorder, ws: Workspace) -> None:
    """NaN, +-Inf and -0.0 through ``log-batch`` come back bit for bit (RELIABILITY row 15)."""
    from mlflow.entities import Metric as MlflowMetric

    specials = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324]
    client = MlflowClient()
    run = client.create_run(client.create_experiment("specials"))
    run_id = run.info.run_id
    client.log_batch(run_id, metrics=[MlflowMetric("v", v, 1000, i) for i, v in enumerate(specials)])
    client.log_batch(run_id, metrics=[MlflowMetric(f"last{i}", v, 1000, 0) for i, v in enumerate(specials)])
    history = [m.value for m in client.get_metric_history(run_id, "v")]
    stored = [m.value for m in ws.store.get_metric_history(run_id, "v")]
    latest = client.get_run(run_id).data.metrics
    for values in (history, stored, [latest[f"last{i}"] for i in range(len(specials))]):
        assert [_bits(v) for v in values] == [_bits(v) for v in specials], values


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def test_autolog_records_params_metrics_datasets_and_model(server: Recorder, ws: Workspace, iris) -> None:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    X, model = iris
    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog(log_models=False)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=300).fit(X, model.predict(X))
    finally:
        mlflow.sklearn.autolog(disable=True)
    stored = ws.store.get_run(run.info.run_id)
    assert stored.params["max_iter"] == "300" and "training_accuracy_score" in stored.metrics
    [dataset] = MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    assert dataset.dataset.digest and {t.key: t.value for t in dataset.tags}["mlflow.data.context"] == "train"


def test_the_client_met_no_unserved_route(server: Recorder, logged: dict) -> None:
    """Every request of the flows above was answered; 404s only where the client expects them."""
    failed = [(m, p, s) for m, p, s in server.requests if s >= 400]
    expected = {
        ("GET", "/api/2.0/mlflow/experiments/get-by-name", 404),  # set_experiment of a new name
        ("GET", "/api/2.0/mlflow/registered-models/alias", 404),  # the alias test's deleted alias
    }
    assert set(failed) <= expected, failed
    assert "POST /api/2.0/mlflow/logged-models" in server.routes()  # MLflow 3's log_model flow
