"""The retrain-and-swap loop: rerun the production model's job on new data, compare on a
holdout, promote and move the endpoint only when the new model is better (or forced), roll back."""

from __future__ import annotations

import httpx
import pytest
from sklearn.datasets import load_diabetes

import trainyard as ty
from trainyard.errors import InvalidInputError
from trainyard.sdk.retrain import retrain
from trainyard.serving import endpoints

TRAIN = """
import argparse
import pandas as pd
from sklearn.linear_model import Ridge
import trainyard as ty
p = argparse.ArgumentParser(); p.add_argument("--data"); a = p.parse_args()
frame = pd.read_csv(a.data)
model = Ridge(alpha=0.1).fit(frame.drop(columns=["target"]), frame["target"])
ty.models.save(model, "outputs/model", input_example=frame.drop(columns=["target"]).head(3))
ty.Run.get_context().log("rows", len(frame))
"""
SCORE = """
import os
def run(raw_data):
    return {"served_as": os.environ["SERVED_AS"], "model_dir": os.environ["AZUREML_MODEL_DIR"]}
"""


@pytest.fixture
def production(ws, script_dir, tmp_path):
    frame = load_diabetes(as_frame=True).frame
    frame.iloc[:25].to_csv(tmp_path / "small.csv", index=False)
    frame.iloc[:340].to_csv(tmp_path / "big.csv", index=False)
    frame.iloc[340:].to_csv(tmp_path / "holdout.csv", index=False)
    frame.iloc[:12].to_csv(tmp_path / "tiny.csv", index=False)
    src = script_dir({"train.py": TRAIN})
    job = ty.CommandJob(
        code=str(src),
        command="python train.py --data ${{inputs.data}}",
        inputs={"data": {"type": "uri_file", "path": str(tmp_path / "small.csv")}},
    )
    run = ty.Experiment(ws, "diabetes").submit(job)
    run.wait_for_completion()
    run.register_model("diabetes", "outputs/model").set_alias("production")
    endpoints.create_endpoint(ws, "diabetes-ep")
    (tmp_path / "score.py").write_text(SCORE)
    marked = ty.Environment(name="marked", env_vars={"SERVED_AS": "entry script"})
    scoring = ty.InferenceConfig(entry_script=tmp_path / "score.py", environment=marked)
    endpoints.create_deployment(ws, "diabetes-ep", "first", "diabetes@production", inference_config=scoring)
    endpoints.set_traffic(ws, "diabetes-ep", {"first": 100})
    yield tmp_path
    endpoints.delete_endpoint(ws, "diabetes-ep")


def served_by(ws) -> str:
    record = ws.store.get_endpoint("diabetes-ep")
    row = load_diabetes(as_frame=True).frame.drop(columns=["target"]).iloc[:1]
    reply = httpx.post(
        f"http://127.0.0.1:{record.port}/score",
        json={"input_data": {"columns": list(row.columns), "data": row.values.tolist()}},
        headers={"Authorization": f"Bearer {record.primary_key}"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["served_as"] == "entry script"  # every deployment scores as the first did
    return reply.headers["azureml-model-deployment"]


def test_a_better_model_is_promoted_and_swapped_in_then_rolled_back(ws, production):
    data = production
    result = retrain(
        ws,
        "diabetes@production",
        data / "big.csv",
        data / "holdout.csv",
        "target",
        metric="r2",
        endpoint="diabetes-ep",
    )
    assert result.promoted and result.candidate_score > result.previous_score
    assert (result.previous, result.candidate) == ("diabetes:1", "diabetes:2")
    assert ty.Model(ws, "diabetes@production").version == 2
    assert ws.store.get_endpoint("diabetes-ep").traffic == {result.deployment: 100}
    assert served_by(ws) == result.deployment
    assert ws.store.get_deployment("diabetes-ep", result.deployment).environment == "marked:1"
    lineage = ty.Model(ws, "diabetes:2").lineage()
    assert lineage["params"]["data"].endswith("big.csv") and lineage["metrics"]["rows"] == 340
    assert ws.store.get_run(result.run_id).metrics["holdout_r2_candidate"] == pytest.approx(
        result.candidate_score
    )
    endpoints.rollback(ws, "diabetes-ep")
    assert served_by(ws) == "first"


def test_a_worse_model_is_registered_but_not_promoted_unless_forced(ws, production):
    data = production
    worse = retrain(
        ws,
        "diabetes",
        data / "tiny.csv",
        data / "holdout.csv",
        "target",
        metric="rmse",
        endpoint="diabetes-ep",
    )
    assert not worse.promoted and worse.deployment is None
    assert ty.Model(ws, "diabetes@production").version == 1 and served_by(ws) == "first"
    forced = retrain(
        ws,
        "diabetes@production",
        data / "tiny.csv",
        data / "holdout.csv",
        "target",
        metric="rmse",
        force=True,
    )
    assert forced.promoted and ty.Model(ws, "diabetes@production").version == 3


def test_bad_retrain_requests_fail_before_training(ws, production, tmp_path):
    data = production
    with pytest.raises(InvalidInputError, match="no input 'train'"):
        retrain(ws, "diabetes", data / "big.csv", data / "holdout.csv", "target", input_name="train")
    with pytest.raises(InvalidInputError, match="no column 'y'"):
        retrain(ws, "diabetes", data / "big.csv", data / "holdout.csv", "y")
    with pytest.raises(InvalidInputError, match="unknown metric"):
        retrain(ws, "diabetes", data / "big.csv", data / "holdout.csv", "target", metric="auc_pr")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "f.txt").write_text("x")
    ty.Model.register(ws, tmp_path / "m", "files-only")
    with pytest.raises(InvalidInputError, match="no job to rerun"):
        retrain(ws, "files-only", data / "big.csv", data / "holdout.csv", "target")
    assert [m.version for m in ty.Model.list(ws, "diabetes")] == [1]
