"""The designer's routes: the module catalogue grouped by Studio's categories, a pipeline
submitted as its YAML text, checked with the CLI's code and messages, refused to a reader, and a
step's output table (or report) previewed as its first rows and column statistics."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.integration.server_helpers import token_for_app
from tests.unit.test_command_component import component, write
from trainyard.api import routes
from trainyard.components import catalogue
from trainyard.components.categories import REGISTERED, STUDIO_CATEGORIES
from trainyard.components.command import register_command_component
from trainyard.components.runner import run_component
from trainyard.errors import InvalidInputError
from trainyard.pipelines.record import REUSED_TAG
from trainyard.pipelines.spec import load_pipeline
from trainyard.pipelines.submit import prepare_pipeline
from trainyard.workspace import Workspace

SUBMIT = "/api/v1/pipeline-jobs"


def pipeline(csv: Path, fraction: float = 0.7, learner_port: str = "learner") -> str:
    """Import, split, a learner, Train Model: what the designer makes of four modules."""
    wire = {
        "learner": "${{parent.jobs.learner.outputs.untrained_model}}",
        "split": "${{parent.jobs.split.outputs.results1}}",
    }[learner_port]
    return textwrap.dedent(
        f"""\
        type: pipeline
        experiment_name: designer
        jobs:
          load:
            component: azureml:import-data
            inputs: {{path: {csv}}}
          split:
            component: azureml:split-data
            inputs:
              dataset: ${{{{parent.jobs.load.outputs.dataset}}}}
              fraction: {fraction}
          learner:
            component: azureml:two-class-logistic-regression
          train:
            component: azureml:train-model
            inputs:
              untrained_model: {wire}
              dataset: ${{{{parent.jobs.split.outputs.results1}}}}
              label_column: y
        """
    )


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    from trainyard.server.app import create_app

    with TestClient(create_app(ws), base_url="http://localhost") as running:
        yield running


def _auth(client: TestClient, role: str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for_app(client.app, role, user)}"}  # type: ignore[arg-type]


def test_the_catalogue_lists_every_module_once_under_studios_categories(client: TestClient) -> None:
    reply = client.get("/api/v1/components/catalogue", headers=_auth(client, "reader", "rita"))
    assert reply.status_code == 200, reply.text
    groups = reply.json()["categories"]
    names = [g["name"] for g in groups]
    assert names == [c for c in STUDIO_CATEGORIES if c in names]  # Studio's order, empty ones left out
    by_group = {g["name"]: {c["name"] for c in g["components"]} for g in groups}
    assert "import-data" in by_group["Data Input and Output"]
    assert {"split-data", "clean-missing-data"} <= by_group["Data Transformation"]
    assert "two-class-logistic-regression" in by_group["Machine Learning Algorithms"]
    assert "train-model" in by_group["Model Training"]
    assert {"score-model", "evaluate-model", "cross-validate-model"} <= by_group[
        "Model Scoring and Evaluation"
    ]
    listed = [c["name"] for g in groups for c in g["components"]]
    assert sorted(listed) == sorted(catalogue())
    split = next(c for g in groups for c in g["components"] if c["name"] == "split-data")
    assert split == catalogue()["split-data"].schema()
    fraction = split["params"]["properties"]["fraction"]
    assert (fraction["exclusiveMinimum"], fraction["exclusiveMaximum"]) == (0, 1)
    assert client.get("/api/v1/components/catalogue").status_code == 401


def test_registered_components_are_listed_after_the_modules_and_submit_by_version(
    ws: Workspace, client: TestClient, tmp_path: Path
) -> None:
    folder = tmp_path / "comp"
    folder.mkdir()
    register_command_component(ws, write(folder, component()))
    writer = _auth(client, "contributor", "ada")
    groups = client.get("/api/v1/components/catalogue", headers=writer).json()["categories"]
    assert groups[-1]["name"] == REGISTERED
    (listed,) = groups[-1]["components"]
    assert (listed["name"], listed["version"], listed["kind"]) == ("train_churn", "1", "command")
    assert listed["inputs"]["data"]["kind"] == "uri_folder" and "alpha" in listed["params"]["properties"]
    step = "  t:\n    component: azureml:train_churn:1\n    inputs: {data: s3://b/x, alpha: 2}\n"
    text = f"type: pipeline\njobs:\n{step}"
    refused = client.post(SUBMIT, json={"yaml": text}, headers=writer)
    assert refused.status_code == 400 and "alpha" in refused.json()["message"], refused.text
    reply = client.post(SUBMIT, json={"yaml": text.replace("alpha: 2", "alpha: 0.5")}, headers=writer)
    assert reply.status_code == 200, reply.text
    assert ws.store.get_run(reply.json()["run_id"]).job["steps"]["t"]["command"]


def test_a_pipeline_submitted_as_yaml_is_queued_and_names_its_run(
    ws: Workspace, client: TestClient, tmp_path: Path
) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    reply = client.post(SUBMIT, json={"yaml": pipeline(csv)}, headers=_auth(client, "contributor", "ada"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["steps"] == ["learner", "load", "split", "train"]
    run = ws.store.get_run(body["run_id"])
    assert (
        ws.store.get_experiment(run.experiment_id).name
        == "designer"
        == ws.store.get_experiment(body["experiment_id"]).name
    )
    assert run.tags["mlflow.user"] == "ada"
    assert run.job["steps"]["split"]["params"] == {"fraction": 0.7}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fraction": 1.5}, "step 'split': fraction must be between 0 and 1 (exclusive), got 1.5"),
        (
            {"learner_port": "split"},
            "step 'train' input 'untrained_model' takes a untrained_model but is wired to a table",
        ),
    ],
)
def test_a_bad_pipeline_is_refused_with_the_clis_message(
    ws: Workspace, client: TestClient, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text("x,y\n1,0\n")
    text = pipeline(csv, **change)  # type: ignore[arg-type]
    file = tmp_path / "pipeline.yml"
    file.write_text(text)
    with pytest.raises(InvalidInputError) as cli:
        prepare_pipeline(ws, load_pipeline(file))
    assert str(cli.value) == message
    runs = len(ws.store.search_runs())
    reply = client.post(SUBMIT, json={"yaml": text}, headers=_auth(client, "contributor", "ada"))
    assert (reply.status_code, reply.json()["message"]) == (400, message)
    assert len(ws.store.search_runs()) == runs  # nothing queued


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("type: pipeline\njobs: [", "the pipeline is not valid YAML"),
        ("a: &a [x, x]\nb: &b [*a, *a]\ntype: pipeline", "line 2: aliases (*a) are not taken here"),
        ("- a list", "the pipeline must hold a mapping"),
        ("type: pipeline\njobs: {}", "the pipeline is not a valid pipeline spec: jobs"),
        ("type: pipeline\njobs: {a: {component: trian-model}}", "did you mean train-model?"),
        (
            "type: pipeline\njobs: {a: {command: ls}}",
            "step 'a' is a command step: its code is on your machine",
        ),
        ("type: pipeline\njobs: {a: {component: ./train.yml}}", "component './train.yml' is a file"),
        (
            "type: pipeline\ninputs: {d: {type: uri_file, path: /etc/passwd}}\n"
            "jobs: {a: {component: import-data, inputs: {path: '${{parent.inputs.d}}'}}}",
            "pipeline input 'd': '/etc/passwd' is a local path",
        ),
    ],
)
def test_what_the_route_cannot_take_is_a_400_naming_it(client: TestClient, text: str, message: str) -> None:
    reply = client.post(SUBMIT, json={"yaml": text}, headers=_auth(client, "contributor", "ada"))
    assert reply.status_code == 400 and message in reply.json()["message"], reply.text


def test_a_reader_cannot_submit(ws: Workspace, client: TestClient, tmp_path: Path) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text("x,y\n1,0\n")
    reply = client.post(SUBMIT, json={"yaml": pipeline(csv)}, headers=_auth(client, "reader", "rita"))
    assert reply.status_code == 403 and "reader" in reply.json()["message"]
    assert client.post(SUBMIT, json={"yaml": pipeline(csv)}).status_code == 401
    assert ws.store.search_runs() == []


def _preview(run_id: str, port: str) -> str:
    return routes.GET_OUTPUT_PREVIEW.at(run_id=run_id, port=port).path


def test_a_steps_output_table_previews_its_first_rows_and_column_statistics(
    ws: Workspace, client: TestClient
) -> None:
    rows = pd.DataFrame(
        {
            "x": [1.5, None, 3.0, 4.5, 6.0, 7.5, 9.0, 10.5],
            "city": ["a", "b", None, "a", "c", "a", "b", "a"],
            "y": [0, 1, 0, 1, 1, 0, 1, 0],
        }
    )
    split = run_component(ws, "split-data", {"dataset": rows}, {"fraction": 0.5, "randomize": False})
    reader = _auth(client, "reader", "rita")
    reply = client.get(_preview(split.run_id, "results2"), params={"rows": 3}, headers=reader)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    kept = rows.iloc[4:]
    assert (body["kind"], body["run_id"], body["rows"], body["columns"]) == ("table", split.run_id, 4, 3)
    assert body["column_names"] == ["x", "city", "y"]
    assert body["head"] == [[6.0, "c", 1], [7.5, "a", 0], [9.0, "b", 1]]
    x, city, y = body["stats"]
    assert x == {
        "name": "x",
        "dtype": "float64",
        "count": 4,
        "missing": 0,
        "unique": 4,
        "mean": kept["x"].mean(),
        "min": 6.0,
        "max": 10.5,
    }
    assert (city["count"], city["missing"], city["unique"], city["mean"]) == (4, 0, 3, None)
    assert (y["min"], y["max"], y["mean"]) == (0, 1, 0.5)
    first = client.get(_preview(split.run_id, "results1"), headers=reader).json()
    assert first["stats"][0]["missing"] == 1 and first["head"][1] == [None, "b", 1]  # NaN is null
    assert client.get(_preview(split.run_id, "results1")).status_code == 401

    # a reused step shows the outputs of the run it took them from
    reused = ws.store.create_run(
        ws.store.get_run(split.run_id).experiment_id, tags={REUSED_TAG: split.run_id}
    )
    again = client.get(_preview(reused.id, "results2"), params={"rows": 3}, headers=reader).json()
    assert (again["run_id"], again["head"]) == (split.run_id, body["head"])

    missing = client.get(_preview(split.run_id, "scored"), headers=reader)
    assert missing.status_code == 404
    assert missing.json()["message"].endswith(
        "has no table or report output 'scored'; its outputs: results1, results2"
    )
    assert (
        client.get(_preview(split.run_id, "results1"), params={"rows": 101}, headers=reader).status_code
        == 400
    )


def test_evaluate_models_report_names_its_tables_and_previews_the_confusion_matrix(
    ws: Workspace, client: TestClient
) -> None:
    scored = pd.DataFrame(
        {
            "y": [0, 1, 0, 1, 1, 0],
            "Scored Labels": [0, 1, 1, 1, 0, 0],
            "Scored Probabilities": [0.1, 0.9, 0.6, 0.8, 0.4, 0.2],
        }
    )
    evaluated = run_component(ws, "evaluate-model", {"scored_dataset": scored}, {"label_column": "y"})
    reader = _auth(client, "reader", "rita")
    path = _preview(evaluated.run_id, "evaluation_results")
    body = client.get(path, headers=reader).json()
    assert body["kind"] == "report" and {"confusion_matrix", "metrics"} <= set(body["tables"])
    matrix = client.get(path, params={"table": "confusion_matrix"}, headers=reader).json()
    assert matrix["table"] == "confusion_matrix" and matrix["column_names"] == ["actual", "0", "1"]
    assert matrix["head"] == [["0", 2, 1], ["1", 1, 2]]
    unknown = client.get(path, params={"table": "roc"}, headers=reader)
    assert unknown.status_code == 404 and "has no table 'roc'; it has: " in unknown.json()["message"]
    # what the side panel draws as the curves and the confusion matrix: the run's logged images
    images = ws.artifacts.list(f"runs/{evaluated.run_id}/images")
    assert {"roc_curve.png", "precision_recall_curve.png", "confusion_matrix.png"} <= set(images)
