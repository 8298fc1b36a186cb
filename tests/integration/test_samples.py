"""The designer's samples: each table as the sample reads it, opening one twice adds nothing, one
runs end to end from its YAML, and the routes and CLI that open them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_cli import ty
from tests.integration.server_helpers import token_for_app
from trainyard.data.assets import Data
from trainyard.errors import NotFoundError
from trainyard.pipelines.spec import parse_pipeline
from trainyard.pipelines.submit import prepare_pipeline, submit_pipeline
from trainyard.samples import SAMPLES, open_sample, sample
from trainyard.sdk.run import Run
from trainyard.status import RunStatus
from trainyard.workspace import Workspace

LEAKS = {"income": {"wage", "logwage"}, "flight-delays": {"arr_delay", "arr_time", "dep_delay", "air_time"}}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_samples_table_has_its_label_and_not_what_gives_it_away(name: str) -> None:
    chosen = sample(name)
    table = chosen.table()
    assert chosen.label in table.columns and len(table) >= 500
    assert not LEAKS.get(name, set()) & set(table.columns)
    labels = table[chosen.label].dropna().unique()
    assert (
        len(labels) == 2 if chosen.learner.startswith("two-class") else table[chosen.label].dtype.kind == "f"
    )
    assert table.equals(chosen.table())  # the same rows every time: the same data asset version


def test_opening_a_sample_twice_makes_one_data_asset_version(ws: Workspace) -> None:
    first = open_sample(ws, "churn")
    assert open_sample(ws, "churn") == first
    assert Data(ws, "sample-churn").version == 1 and "azureml:sample-churn:1" in first
    prepare_pipeline(ws, parse_pipeline(first))  # checked as a submit checks it: DAG, params, data


def test_an_unknown_sample_names_the_samples(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="no sample 'cars'; the samples are automobile-price, income"):
        open_sample(ws, "cars")


def test_the_automobile_price_sample_trains_and_evaluates(ws: Workspace) -> None:
    run = submit_pipeline(ws, parse_pipeline(open_sample(ws, "automobile-price")))
    Run(ws, run.id).wait_for_completion(raise_on_error=False)
    assert ws.store.get_run(run.id).status is RunStatus.COMPLETED, ws.store.get_run(run.id).error
    steps = {r.name: r for r in ws.store.search_runs(parent_id=run.id)}
    # the step shows the data asset it read, not the local path its worker read it into
    assert steps["import_data"].params["path"] == "azureml:sample-automobile-price:1"
    assert steps["evaluate"].metrics["coefficient_of_determination"] > 0.8


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    from trainyard.server.app import create_app

    with TestClient(create_app(ws), base_url="http://localhost") as running:
        yield running


def _auth(client: TestClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for_app(client.app, role, role)}"}  # type: ignore[arg-type]


def test_the_routes_list_the_samples_and_open_one_for_a_contributor(client: TestClient) -> None:
    listed = client.get("/api/v1/pipeline-samples", headers=_auth(client, "reader")).json()["samples"]
    assert [s["name"] for s in listed] == list(SAMPLES) and all(s["title"] for s in listed)
    refused = client.post("/api/v1/pipeline-samples/income", headers=_auth(client, "reader"))
    assert refused.status_code == 403
    opened = client.post("/api/v1/pipeline-samples/income", headers=_auth(client, "contributor"))
    assert opened.status_code == 200 and "label_column: income" in opened.json()["yaml"]
    unknown = client.post("/api/v1/pipeline-samples/cars", headers=_auth(client, "contributor"))
    assert unknown.status_code == 404 and "the samples are" in unknown.json()["message"]


def test_the_cli_lists_the_samples_and_writes_one(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    assert "flight-delays" in ty(tmp_path, "pipeline", "samples").stdout
    out = ty(tmp_path, "pipeline", "sample", "flight-delays", "--out", "flights.yml").stdout
    assert "trainyard pipeline submit -f flights.yml --stream" in out
    assert "label_column: arr_del15" in (tmp_path / "flights.yml").read_text()
    assert "sample-flight-delays" in ty(tmp_path, "data", "list").stdout
