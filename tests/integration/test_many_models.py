"""Many models end to end: a real driver job, each partition a real child job (a script or an
AutoML driver), models registered per partition, retry of one partition, routed scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trainyard as ty
from trainyard.errors import InvalidInputError
from trainyard.models import load
from trainyard.status import RunStatus

# fits y = slope * x + noise for its partition; refuses rows with a negative x (the "bad value")
SCRIPT = """
import argparse, sys
import pandas as pd
from sklearn.linear_model import LinearRegression
from trainyard import Run
from trainyard.models import save

p = argparse.ArgumentParser()
p.add_argument("--data")
p.add_argument("--model")
a = p.parse_args()
rows = pd.read_csv(a.data)
if (rows["x"] < 0).any():
    sys.exit("negative x values: refusing this partition")
model = LinearRegression().fit(rows[["x"]], rows["y"])
Run.get_context().log("r2", model.score(rows[["x"]], rows["y"]))
save(model, a.model, input_example=rows[["x"]].head(3))
"""


def sales(bad_store: int | None = None) -> pd.DataFrame:
    """3 stores x 60 rows; each store's own slope, so a model routed wrongly predicts wrongly."""
    rng = np.random.default_rng(0)
    frames = []
    for store, slope in ((0, 1.0), (1, 5.0), (2, -3.0)):
        x = rng.uniform(0, 10, 60)
        if store == bad_store:
            x[0] = -1.0
        frames.append(pd.DataFrame({"store": store, "x": x, "y": slope * x + rng.normal(0, 0.1, 60)}))
    return pd.concat(frames, ignore_index=True)


def script_config(code, data, command: str | None = None, **keys) -> ty.ManyModelsConfig:
    return ty.ManyModelsConfig(
        training_data=data,
        partition_column_names=["store"],
        command=command or "python train.py --data ${{inputs.data}} --model ${{outputs.model}}",
        code=str(code),
        primary_metric="r2",
        max_concurrent_partitions=3,
        experiment_timeout_minutes=2,
        experiment_name="sales",
        **keys,
    )


def test_script_per_partition_registers_versions_with_leaderboard_and_scores_routed(ws, script_dir, tmp_path):
    table = tmp_path / "sales.csv"
    sales().to_csv(table, index=False)
    run = ty.submit_many_models(ws, script_config(script_dir({"train.py": SCRIPT}), str(table)))
    assert isinstance(run, ty.ManyModelsRun)
    run.wait_for_completion(timeout_seconds=180)

    versions = ws.store.list_model_versions("sales-many")
    assert sorted(v.tags["partition.store"] for v in versions) == ["0", "1", "2"]
    assert all(v.tags["many_models.run_id"] == run.id for v in versions)
    children = ws.store.search_runs(parent_id=run.id)
    assert len(children) == 3 and all(c.status == RunStatus.COMPLETED for c in children)

    board = run.get_leaderboard()
    assert board["partition"] == ["store=0", "store=1", "store=2"]
    assert board["status"] == ["completed"] * 3 and board["rows"] == [60, 60, 60]
    assert all(r2 > 0.99 for r2 in board["r2"])
    by_store = {v.tags["partition.store"]: v for v in versions}
    assert board["model"] == [f"sales-many:{by_store[s].version}" for s in "012"]
    assert run.tags["many_models.completed"] == "3" and run.tags["many_models.failed"] == "0"

    # scoring routes each row to its store's model: the same predictions as that model's own
    test = sales().sample(frac=1.0, random_state=1).reset_index(drop=True).head(40).drop(columns="y")
    scored = run.score(test)
    assert list(scored.index) == list(test.index) and len(scored) == 40
    for store, rows in scored.groupby("store"):
        own = load(f"models:/sales-many/{by_store[str(store)].version}", workspace=ws)
        np.testing.assert_allclose(rows["prediction"], own.predict(test.loc[rows.index, ["x"]]))
        assert set(rows["model"]) == {f"sales-many:{by_store[str(store)].version}"}
    # and wrong routing would show: the stores' slopes differ
    assert (
        scored.loc[scored["store"] == 1, "prediction"].mean()
        > scored.loc[scored["store"] == 2, "prediction"].mean()
    )

    with pytest.raises(
        InvalidInputError, match=r"no model of 'sales-many' for partition\(s\) store=7 \(1 row"
    ):
        run.score(pd.DataFrame({"store": [0, 7], "x": [1.0, 2.0]}))


def test_a_failing_partition_fails_alone_and_a_retry_after_the_fix_registers_it(ws, script_dir):
    run = ty.submit_many_models(ws, script_config(script_dir({"train.py": SCRIPT}), sales(bad_store=1)))
    run.wait_for_completion(timeout_seconds=180, raise_on_error=False)
    info = run.refresh()
    assert info.status == RunStatus.FAILED
    assert "1 of 3 partition(s) failed: store=1" in info.error
    assert f"many-models retry {run.id} --partition store=1" in info.error
    versions = ws.store.list_model_versions("sales-many")
    assert sorted(v.tags["partition.store"] for v in versions) == ["0", "2"]
    board = run.get_leaderboard()
    assert board["status"] == ["completed", "failed", "completed"]
    assert "negative x values" in board["error"][1]

    with pytest.raises(InvalidInputError, match="store=0 already has its model"):
        run.retry("store=0")
    with pytest.raises(InvalidInputError, match="has no partition store=9"):
        run.retry("store=9")

    # the fix: the script takes negative values; the retry snapshots the code again
    fixed = script_dir({"train.py": SCRIPT.replace('sys.exit("negative', 'print("negative')})
    (child,) = run.retry("store=1", config=script_config(fixed, sales()), timeout_seconds=120)
    assert child.get_status() == "completed" and child.tags["many_models.attempt"] == "2"
    versions = ws.store.list_model_versions("sales-many")
    assert sorted(v.tags["partition.store"] for v in versions) == ["0", "1", "2"]
    board = run.get_leaderboard()
    assert board["status"] == ["completed"] * 3 and board["attempts"] == [1, 2, 1]
    assert run.tags["many_models.failed"] == "0"


def test_automl_per_partition_and_one_with_too_few_rows_fails_alone(ws):
    tiny = pd.DataFrame({"store": 3, "x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    config = ty.ManyModelsConfig(
        training_data=pd.concat([sales(), tiny], ignore_index=True),
        partition_column_names=["store"],
        label_column_name="y",
        task="regression",
        experiment_timeout_minutes=1,
        iterations=2,
        allowed_models=["ElasticNet"],
        enable_ensembling=False,
        model_explainability=False,
        max_concurrent_partitions=3,
        experiment_name="sales-automl",
        model_name="stores",
    )
    run = ty.submit_many_models(ws, config)
    run.wait_for_completion(timeout_seconds=240, raise_on_error=False)
    assert run.refresh().status == RunStatus.FAILED and "store=3" in run.refresh().error
    versions = ws.store.list_model_versions("stores")
    assert sorted(v.tags["partition.store"] for v in versions) == ["0", "1", "2"]
    board = run.get_leaderboard()
    assert board["status"] == ["completed"] * 3 + ["failed"]
    assert "partition store=3: training_data has 3 rows, too few" in board["error"][3]
    assert all(v > 0.9 for v in board["spearman_correlation"][:3])  # AutoML's default for regression
    scored = run.score(sales().drop(columns="y"))
    for store, slope in ((0, 1.0), (1, 5.0), (2, -3.0)):  # each store's rows went to its own model
        rows = scored[scored["store"] == store]
        assert np.sign(np.corrcoef(rows["x"], rows["prediction"])[0, 1]) == np.sign(slope)


def test_a_missing_partition_column_or_bad_spec_errors_before_anything_is_queued(ws, script_dir):
    with pytest.raises(InvalidInputError, match=r"partition column\(s\) 'region' not in training_data"):
        config = ty.ManyModelsConfig(
            training_data=sales(), partition_column_names=["region"], task="regression", label_column_name="y"
        )
        ty.submit_many_models(ws, config)
    with pytest.raises(InvalidInputError, match="either task:"):
        ty.ManyModelsConfig(training_data=sales(), partition_column_names=["store"])
    with pytest.raises(InvalidInputError, match=r"must read the partition's rows from \$\{\{inputs.data\}\}"):
        ty.submit_many_models(
            ws, script_config(script_dir({"train.py": SCRIPT}), sales(), command="python train.py")
        )
    assert ws.store.search_runs() == []
