"""Retraining models that did not come from a plain command job: an AutoML run (its settings
again on the new data), component runs (the chain again, new data at its source), a sweep's
trial (its job with the trial's values); and origins that cannot be retrained, refused first."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_diabetes

import trainyard as ty
from trainyard.automl.data import load_frame
from trainyard.automl.record import AutoMLRecord
from trainyard.components.runner import run_component
from trainyard.errors import InvalidInputError
from trainyard.sdk.retrain import retrain


@pytest.fixture
def data(tmp_path):
    frame = load_diabetes(as_frame=True).frame
    frame.iloc[:60].to_csv(tmp_path / "small.csv", index=False)
    frame.iloc[:300].to_csv(tmp_path / "big.csv", index=False)
    frame.iloc[300:].to_csv(tmp_path / "holdout.csv", index=False)
    return tmp_path


def retrained(ws, model, data, **kw):
    return retrain(ws, model, data / "big.csv", data / "holdout.csv", "target", **kw)


TINY_AUTOML = {
    "allowed_models": ["ElasticNet", "LightGBM"],
    "iterations": 2,
    "enable_ensembling": False,
    "model_explainability": False,
    "experiment_timeout_minutes": 1,
    "model_name": "diabetes-automl",
}


def test_an_automl_model_is_retrained_by_its_automl_job_on_the_new_data(ws, data, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    frame = load_diabetes(as_frame=True).frame
    cfg = ty.AutoMLConfig("regression", frame.iloc[:60], "target", frame.iloc[400:], **TINY_AUTOML)
    first = ty.Experiment(ws, "automl").submit(cfg)
    first.wait_for_completion(timeout_seconds=120)
    with pytest.raises(InvalidInputError, match="training_data; there is no input 'train'"):
        retrained(ws, "diabetes-automl", data, input_name="train")
    result = retrained(ws, "diabetes-automl", data)
    assert (result.previous, result.candidate) == ("diabetes-automl:1", "diabetes-automl:2")
    assert result.promoted == (result.candidate_score > result.previous_score)
    again = ws.store.get_run(result.run_id)
    old, new = AutoMLRecord.of_run(ws.store.get_run(first.id)), AutoMLRecord.of_run(again)
    assert new.automl == old.automl and again.experiment_id == first.info.experiment_id
    assert len(load_frame(ws, new.automl_data.training_data)) == 300
    assert load_frame(ws, new.automl_data.validation_data).equals(frame.iloc[400:].reset_index(drop=True))
    assert (
        again.tags["retrain.from_model"] == "diabetes-automl:1"
        and again.tags["automl.model"] == result.candidate
    )
    candidate = ty.Model(ws, result.candidate)
    assert (
        candidate.lineage()["run_id"] == result.run_id and candidate.tags["retrained_from"] == result.previous
    )
    assert sorted(m.version for m in ty.Model.list(ws, "diabetes-automl")) == [1, 2]  # registered once


def chain(ws, data, learner):
    """Import Data -> Split Data -> Train Model -> Save as Trained Model, as tracked runs."""
    imported = run_component(ws, "import-data", params={"path": str(data / "small.csv")})
    split = run_component(
        ws, "split-data", {"dataset": f"runs:{imported.run_id}/dataset"}, {"fraction": 0.8, "seed": 2}
    )
    trained = run_component(
        ws,
        "train-model",
        {"untrained_model": learner, "dataset": f"runs:{split.run_id}/results1"},
        {"label_column": "target"},
    )
    run_component(
        ws,
        "save-trained-model",
        {"model": f"runs:{trained.run_id}/trained_model"},
        {"model_name": "diabetes-c", "alias": "production"},
    )
    return imported, split, trained


def source_run(ws, run_id, port):
    return ws.store.get_run(ws.store.get_run(run_id).tags[f"component.source.{port}"][5:].split("/")[0])


def test_a_component_model_is_retrained_by_rerunning_the_chain_behind_it(ws, data):
    learner = run_component(ws, "linear-regression")
    imported, split, trained = chain(ws, data, f"runs:{learner.run_id}/untrained_model")
    result = retrained(ws, "diabetes-c@production", data)
    assert (result.previous, result.candidate) == ("diabetes-c:1", "diabetes-c:2")
    new_train = ws.store.get_run(result.run_id)
    assert new_train.tags["component"] == "train-model" and new_train.id != trained.run_id
    assert new_train.tags["component.source.untrained_model"] == f"runs:{learner.run_id}/untrained_model"
    new_split = source_run(ws, new_train.id, "dataset")
    assert new_split.id != split.run_id and new_split.params == ws.store.get_run(split.run_id).params
    new_import = source_run(ws, new_split.id, "dataset")
    assert new_import.params["path"] == str(data / "big.csv") and new_import.metrics["rows"] == 300
    assert new_train.tags["retrain.from_model"] == "diabetes-c:1"
    assert ty.Model(ws, result.candidate).lineage()["run_id"] == new_train.id
    saves = ws.store.search_runs(filter_string="tags.component = 'save-trained-model'")
    assert len(saves) == 1  # the save (which moves aliases) is not rerun: the retrain decides
    assert (ty.Model(ws, "diabetes-c@production").version == 2) is result.promoted


def test_a_chain_that_was_given_a_model_in_memory_cannot_be_rerun_and_says_so(ws, data):
    learner = run_component(ws, "linear-regression").outputs["untrained_model"]
    chain(ws, data, learner)
    before = len(ws.store.search_runs())
    with pytest.raises(InvalidInputError, match="'untrained_model' of the train-model run .* in memory"):
        retrained(ws, "diabetes-c", data)
    with pytest.raises(InvalidInputError, match=r"read data from import-data\.path"):
        retrained(ws, "diabetes-c", data, input_name="dataset")
    assert len(ws.store.search_runs()) == before


TRIAL = """
import argparse
import pandas as pd
from sklearn.linear_model import Ridge
import trainyard as ty
p = argparse.ArgumentParser()
p.add_argument("--data")
p.add_argument("--alpha", type=float)
a = p.parse_args()
frame = pd.read_csv(a.data)
model = Ridge(alpha=a.alpha).fit(frame.drop(columns=["target"]), frame["target"])
ty.models.save(model, "outputs/model", input_example=frame.drop(columns=["target"]).head(3))
ty.Run.get_context().log("score", model.score(frame.drop(columns=["target"]), frame["target"]))
"""


def test_a_sweep_trials_model_is_retrained_with_the_trials_values(ws, data, script_dir):
    job = ty.CommandJob(
        code=str(script_dir({"train.py": TRIAL})),
        command="python train.py --data ${{inputs.data}}",
        inputs={"data": {"type": "uri_file", "path": str(data / "small.csv")}},
    )
    sweep = ty.Experiment(ws, "tune").submit(
        ty.SweepConfig(job, {"alpha": ty.choice(0.25)}, "score", sampling="grid")
    )
    sweep.wait_for_completion()
    sweep.get_best_run().register_model("diabetes-s", "outputs/model")
    result = retrained(ws, "diabetes-s", data)
    argv = ws.store.get_run(result.run_id).job["argv"]
    assert argv[-4:] == ["--data", str(data / "big.csv"), "--alpha", "0.25"]
    assert ws.store.get_run(result.run_id).params["data"] == str(data / "big.csv")
    ty.Model.register_from_run(ws, sweep.id, "the-sweep", "logs")
    with pytest.raises(InvalidInputError, match="a sweep job, which made no model itself"):
        retrained(ws, "the-sweep", data)


def test_a_model_a_notebook_run_logged_is_refused_with_what_would_make_it_retrainable(ws, data, tmp_path):
    run = ty.Experiment(ws, "notebook").start_logging()
    (tmp_path / "model.txt").write_text("weights")
    run.upload_file("outputs/model.txt", tmp_path / "model.txt")
    run.complete()
    run.register_model("by-hand", "outputs/model.txt")
    with pytest.raises(InvalidInputError, match="its own process logged .* as a command job with its data"):
        retrained(ws, "by-hand", data)
