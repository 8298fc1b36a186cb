"""AutoML steps in a pipeline: a real pipeline driver, a real AutoML driver and its trials, and a
step after it that scores with the best model it publishes; on an embedded workspace and on an
agent of the team server."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import trainyard as ty
from tests.integration.test_agent import agents, server, start_agent  # noqa: F401 - fixtures
from tests.integration.test_jobs import wait_for
from trainyard.artifacts import run_key
from trainyard.compute.worker import LOG
from trainyard.errors import InvalidInputError
from trainyard.pipelines import load_pipeline
from trainyard.pipelines.submit import submit_pipeline
from trainyard.pipelines.view import step_views
from trainyard.status import RunStatus
from trainyard.workspace import Workspace

PREP = """
import pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(out / "train.csv").write_text(src.read_text())
"""
SCORE = """
import pathlib, sys
import pandas as pd
from trainyard import Run
from trainyard.models import load
model, data = load(sys.argv[1], trust=True), pd.read_csv(sys.argv[2])
Run.get_context().log("accuracy", float((model.predict(data.drop(columns="y")) == data["y"]).mean()))
"""
PIPELINE = """
type: pipeline
experiment_name: pipes
inputs:
  raw: {type: uri_file, path: ./data.csv}
  holdout: azureml:holdout:1
outputs:
  model: {type: mlflow_model}
jobs:
  prep:
    code: src
    command: python prep.py ${{inputs.raw}} ${{outputs.train}}
    inputs:
      raw: ${{parent.inputs.raw}}
    outputs:
      train: {type: mltable}
  train:
    type: automl
    task: classification
    primary_metric: accuracy
    target_column_name: y
    training_data: ${{parent.jobs.prep.outputs.train}}
    validation_data: ${{parent.inputs.holdout}}
    limits: {timeout_minutes: 1, max_trials: 3}
    training:
      allowed_training_algorithms: [LogisticRegression]
      enable_vote_ensemble: false
      enable_stack_ensemble: false
      enable_model_explainability: false
    outputs:
      best_model: ${{parent.outputs.model}}
  score:
    code: src
    command: python score.py ${{inputs.model}} ${{inputs.data}}
    inputs:
      model: ${{parent.jobs.train.outputs.best_model}}
      data: ${{parent.inputs.raw}}
"""


@pytest.fixture
def project(ws, script_dir) -> Path:
    root = script_dir({"prep.py": PREP, "score.py": SCORE}).parent
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    labels = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    rows = [f"{a:.4f},{b:.4f},{y}" for (a, b), y in zip(x, labels, strict=True)]
    (root / "data.csv").write_text("x1,x2,y\n" + "\n".join(rows[:150]) + "\n")
    (root / "holdout.csv").write_text("x1,x2,y\n" + "\n".join(rows[150:]) + "\n")
    ty.Data.create(ws, "holdout", root / "holdout.csv")
    (root / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
    return root


def run_pipeline(ws, root: Path, text: str = PIPELINE) -> ty.Run:
    (root / "p.yml").write_text(textwrap.dedent(text))
    run = ty.Run(ws, submit_pipeline(ws, load_pipeline(root / "p.yml")).id)
    run.wait_for_completion(raise_on_error=False, timeout_seconds=180)
    return run


def steps(ws, run: ty.Run) -> dict:
    return {c.tags["pipeline.step"]: c for c in ws.store.search_runs(parent_id=run.id)}


def test_an_automl_step_trains_on_a_steps_output_and_the_next_step_scores_with_its_model(ws, project):
    run = run_pipeline(ws, project)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    kids = steps(ws, run)
    automl = kids["train"]
    assert automl.tags["automl.task"] == "classification" and automl.tags["automl.best_learner"]
    trials = ws.store.search_runs(parent_id=automl.id)  # the AutoML run's own children
    assert len(trials) == 3 and {t.tags["automl.learner"] for t in trials} == {"LogisticRegression"}
    model_files = ws.artifacts.list(run_key(automl.id, "outputs/best_model"))
    assert "MLmodel" in model_files and automl.tags["outputs.best_model.sha256"]
    assert kids["score"].metrics["accuracy"] > 0.9  # the best model, read by the next step
    assert "MLmodel" in ws.artifacts.list(run_key(run.id, "outputs/model"))  # bound to the pipeline's
    reads = ws.store.list_data_lineage(run_id=automl.id)  # its validation rows are a data asset
    assert [(r.name, r.version, r.direction) for r in reads] == [("holdout", 1, "read")]
    assert "200 rows, 1 fold(s)" in ty.Run(ws, automl.id).log_text()[0]  # validated on those rows

    view = {v.step: v for layer in step_views(ws, run.refresh()).layers for v in layer}
    assert (view["train"].what, view["train"].status, view["train"].run_id) == (
        "automl",
        "completed",
        automl.id,
    )
    assert "step train (automl) started" in run.log_text()[0]

    again = run_pipeline(ws, project)  # the same data and settings: every step is reused
    reused = steps(ws, again)
    assert {k: v.tags.get("pipeline.reused_from") for k, v in reused.items()} == {
        name: kid.id for name, kid in kids.items()
    }
    assert "finished where it was submitted" in again.log_text()[0]


def test_an_automl_step_whose_table_lacks_the_label_fails_the_pipeline_naming_it(ws, project):
    lacking = "import pathlib, sys\n(pathlib.Path(sys.argv[2]) / 't.csv').write_text('a,b\\n1,2\\n')\n"
    (project / "src" / "prep.py").write_text(lacking)
    run = run_pipeline(ws, project)
    info = run.refresh()
    assert info.status is RunStatus.FAILED
    kids = steps(ws, run)
    assert kids["train"].status is RunStatus.FAILED and "score" not in kids
    assert "step 'train': label_column_name 'y' is not a column of training_data" in kids["train"].error
    assert "step(s) failed: train (step 'train': label_column_name 'y'" in info.error
    assert "not run: score" in info.error


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("max_trials: 3", "max_trails: 3", r"step 'train' is not a valid automl step: limits.max_trails"),
        ("max_trials: 3", "trial_timeout_minutes: 3", r"step 'train': limits.trial_timeout_minutes is not"),
        ("primary_metric: accuracy", "primary_metric: r2_score", r"step 'train': primary_metric 'r2_score'"),
        ("[LogisticRegression]", "[LogisticRegresion]", r"step 'train': model 'LogisticRegresion' is not"),
        ("best_model: ${{parent", "model: ${{parent", r"step 'train': an automl step has one output"),
        ("prep.outputs.train}}", "prep.outputs.nope}}", r"step 'train' input 'training_data': .* no output"),
        (
            "prep.outputs.train}}",
            "prep.outputs.train}}\n    n_cross_validations: 3",
            r"step 'train': give only one of",
        ),
        (
            "training_data: ${{parent.jobs.prep.outputs.train}}",
            "training_data: 3",
            r"step 'train': input 'training_data' must be a table",
        ),
        (  # a table known at submit (a pipeline input) is checked then
            "training_data: ${{parent.jobs.prep.outputs.train}}",
            "training_data: ${{parent.inputs.raw}}\n    target_column_name: z",
            r"step 'train': label_column_name 'z' is not a column of training_data; its columns: x1, x2, y",
        ),
    ],
)
def test_a_bad_automl_step_is_one_error_before_anything_is_queued(ws, project, old, new, error):
    text = PIPELINE.replace("    target_column_name: y\n", "") if "target_column_name" in new else PIPELINE
    assert old in text
    (project / "bad.yml").write_text(textwrap.dedent(text.replace(old, new)))
    with pytest.raises(InvalidInputError, match=error):
        submit_pipeline(ws, load_pipeline(project / "bad.yml"))
    assert ws.store.search_runs() == []


AGENT_PIPELINE = """
type: pipeline
settings: {default_compute: gpu}
inputs:
  raw: {type: uri_file, path: ./data.csv}
outputs:
  model: {type: mlflow_model}
jobs:
  train:
    type: automl
    task: classification
    target_column_name: y
    training_data: ${{parent.inputs.raw}}
    limits: {timeout_minutes: 1, max_trials: 2}
    training:
      allowed_training_algorithms: [LogisticRegression]
      enable_vote_ensemble: false
      enable_stack_ensemble: false
      enable_model_explainability: false
    outputs:
      best_model: ${{parent.outputs.model}}
"""


def test_an_automl_step_runs_on_an_agent_of_the_team_server(server, agents, project, tmp_path):  # noqa: F811
    (project / "agent.yml").write_text(textwrap.dedent(AGENT_PIPELINE))
    start_agent(server, agents, tmp_path, concurrency=1)
    client = Workspace.from_config(server.url)
    run = submit_pipeline(client, load_pipeline(project / "agent.yml"))  # the local table is stored
    wait_for(lambda: server.ws.store.get_run(run.id).status.is_terminal, timeout=180)
    info = server.ws.store.get_run(run.id)
    assert info.status is RunStatus.COMPLETED, info.error
    (child,) = server.ws.store.search_runs(parent_id=run.id)
    assert child.compute == "gpu" and child.tags["outputs.best_model.sha256"]
    assert len(server.ws.store.search_runs(parent_id=child.id)) == 2  # its trials
    assert "MLmodel" in server.ws.artifacts.list(run_key(run.id, "outputs/model"))
    log = server.ws.artifacts.get_bytes(run_key(run.id, LOG)).decode()
    assert "input training_data: 1 file(s) from snapshot" in log  # read back on the agent
