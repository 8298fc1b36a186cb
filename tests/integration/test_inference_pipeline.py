"""Create inference pipeline end to end: a designer-shaped training pipeline run, its inference
model registered and deployed behind a local endpoint, called with the designer's request."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import trainyard as ty
from tests.integration.server_helpers import token_for_app
from trainyard.errors import InvalidInputError
from trainyard.pipelines import load_pipeline
from trainyard.pipelines.inference import make_inference_model
from trainyard.pipelines.submit import submit_pipeline
from trainyard.server.app import create_app
from trainyard.serving import endpoints
from trainyard.status import RunStatus

PIPELINE = """
type: pipeline
experiment_name: designer
jobs:
  load:
    component: azureml:import-data
    inputs: {{path: {csv}}}
  select:
    component: azureml:select-columns
    inputs: {{dataset: "${{{{parent.jobs.load.outputs.dataset}}}}", columns: noise, mode: exclude}}
  clean:
    component: azureml:clean-missing-data
    inputs:
      dataset: "${{{{parent.jobs.select.outputs.dataset}}}}"
      cleaning_mode: {mode}
      replacement_value: "10"
  split:
    component: azureml:split-data
    inputs: {{dataset: "${{{{parent.jobs.clean.outputs.cleaned_dataset}}}}", fraction: 0.7, seed: 1}}
  learner:
    component: azureml:two-class-logistic-regression
  train:
    component: azureml:train-model
    inputs:
      untrained_model: "${{{{parent.jobs.learner.outputs.untrained_model}}}}"
      dataset: "${{{{parent.jobs.split.outputs.results1}}}}"
      label_column: y
  score:
    component: azureml:score-model
    inputs:
      trained_model: "${{{{parent.jobs.train.outputs.trained_model}}}}"
      dataset: "${{{{parent.jobs.split.outputs.results2}}}}"
  evaluate:
    component: azureml:evaluate-model
    inputs: {{scored_dataset: "${{{{parent.jobs.score.outputs.scored_dataset}}}}"}}
"""


def train(ws, tmp_path, mode: str = "custom_value") -> ty.Run:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    table = pd.DataFrame({"a": a, "b": b, "noise": rng.normal(size=200), "y": (a + b > 0).astype(int)})
    table.loc[::10, "b"] = np.nan
    csv = tmp_path / "rows.csv"
    table.to_csv(csv, index=False)
    (tmp_path / "pipeline.yml").write_text(textwrap.dedent(PIPELINE.format(csv=csv, mode=mode)))
    run = ty.Run(ws, submit_pipeline(ws, load_pipeline(tmp_path / "pipeline.yml")).id)
    run.wait_for_completion(raise_on_error=False, timeout_seconds=240)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    return run


def test_the_inference_pipeline_replays_the_training_steps_behind_an_endpoint(ws, tmp_path):
    run = train(ws, tmp_path)
    version = make_inference_model(ws, run.id, "designer-rt")
    assert version.lineage()["run_id"] == run.id
    steps = json.loads(version.download(tmp_path / "got").joinpath("steps.json").read_text())
    assert [s["component"] for s in steps["steps"]] == ["select-columns", "clean-missing-data"]
    endpoints.create_endpoint(ws, "designer-ep")
    try:
        endpoints.create_deployment(ws, "designer-ep", "blue", f"designer-rt:{version.version}")
        endpoints.set_traffic(ws, "designer-ep", {"blue": 100})
        # "noise" was dropped by Select Columns in training; b's gap is cleaned to 10, as in training
        rows = [{"a": 3.0, "b": None, "noise": 7.0}, {"a": -3.0, "b": -3.0, "noise": 1.0}]
        body = {"Inputs": {"WebServiceInput0": rows}, "GlobalParameters": {}}
        status, reply = endpoints.invoke(ws, "designer-ep", json.dumps(body).encode())
        assert status == 200, reply
        out = reply["Results"]["WebServiceOutput0"]
        assert [r["b"] for r in out] == [10.0, -3.0] and "noise" not in out[0]
        assert [r["Scored Labels"] for r in out] == [1, 0]
        assert 0.5 < out[0]["Scored Probabilities"] <= 1
        status, reply = endpoints.invoke(ws, "designer-ep", b'{"Inputs": {"WebServiceInput0": [{"b": 1}]}}')
        assert status == 400 and "no column 'a'" in reply["message"]
    finally:
        endpoints.delete_endpoint(ws, "designer-ep")


def test_a_step_that_learnt_from_the_whole_table_is_refused_by_name_here_and_over_rest(ws, tmp_path):
    run = train(ws, tmp_path, mode="mean")
    with pytest.raises(InvalidInputError, match=r"step 'clean' \(clean-missing-data, cleaning_mode=mean\)"):
        make_inference_model(ws, run.id, "designer-rt")
    url = f"/api/v1/pipeline-runs/{run.id}/inference-model"
    with TestClient(create_app(ws), base_url="http://localhost") as client:
        auth = {
            r: {"Authorization": f"Bearer {token_for_app(client.app, r, f'ann-{r}')}"}
            for r in ("reader", "contributor")
        }
        assert client.post(url, json={"name": "rt"}, headers=auth["reader"]).status_code == 403
        reply = client.post(url, json={"name": "rt"}, headers=auth["contributor"])
    assert reply.status_code == 400 and "cleaning_mode=mean" in reply.text
