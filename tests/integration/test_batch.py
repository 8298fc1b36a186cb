"""Batch scoring jobs from the command line: chunked, tracked, all-or-nothing output, columns
outside the model's signature carried through, and Azure-style batch entry scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import trainyard as ty
from trainyard import models
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.serving.batch import check_paths, mini_batches, score_file, score_with_script


@pytest.fixture
def registered(ws, tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["sl", "sw", "pl", "pw"]
    model = LogisticRegression(max_iter=500).fit(X, y)
    ty.Model.register(ws, models.save(model, tmp_path / "m", input_example=X.head()), "iris").set_alias(
        "production"
    )
    big = pd.concat([X] * 17, ignore_index=True)  # 2,550 rows
    big.to_csv(tmp_path / "data.csv", index=False)
    return model, big


def cli(ws, *args):
    env = {**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)}
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_batch_score_job_writes_every_prediction_in_chunks(ws, registered, tmp_path):
    model, big = registered
    result = cli(
        ws,
        "batch",
        "score",
        "-m",
        "iris@production",
        "-i",
        str(tmp_path / "data.csv"),
        "-o",
        str(tmp_path / "preds.parquet"),
        "--chunk-size",
        "1000",
        "--stream",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scored = pd.read_parquet(tmp_path / "preds.parquet")
    assert len(scored) == 2550 and list(scored.columns) == ["sl", "sw", "pl", "pw", "prediction"]
    np.testing.assert_array_equal(scored["prediction"], model.predict(big))
    run = ws.store.search_runs()[0]
    assert [m.value for m in ws.store.get_metric_history(run.id, "rows_scored")] == [1000, 2000, 2550]
    assert run.tags["batch.model"] == "iris@production"


def test_csv_in_jsonl_out(ws, registered, tmp_path):
    result = cli(
        ws,
        "batch",
        "score",
        "-m",
        "iris:1",
        "-i",
        str(tmp_path / "data.csv"),
        "-o",
        str(tmp_path / "preds.jsonl"),
        "--stream",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (tmp_path / "preds.jsonl").read_text().splitlines()
    assert len(lines) == 2550 and "prediction" in json.loads(lines[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "iris@production", "-i", "missing.csv", "-o", "out.parquet"], "does not exist"),
        (["-m", "iris@production", "-i", "data.csv", "-o", "out.xlsx"], "reads and writes"),
        (["-m", "iris@nope", "-i", "data.csv", "-o", "out.parquet"], "no alias 'nope'"),
    ],
)
def test_bad_requests_queue_nothing(ws, registered, tmp_path, args, message):
    args = [str(tmp_path / a) if a.endswith((".csv", ".parquet", ".xlsx")) else a for a in args]
    result = cli(ws, "batch", "score", *args)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert ws.store.search_runs() == []


def test_wrong_columns_fail_the_job_and_leave_no_partial_output(ws, registered, tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "wrong.csv", index=False)
    result = cli(
        ws,
        "batch",
        "score",
        "-m",
        "iris",
        "-i",
        str(tmp_path / "wrong.csv"),
        "-o",
        str(tmp_path / "out.parquet"),
        "--stream",
    )
    assert result.returncode == 1 and "missing column" in result.stdout
    assert not (tmp_path / "out.parquet").exists() and not list(tmp_path.glob(".out.parquet*"))


def test_score_file_refuses_an_empty_input(tmp_path):
    (tmp_path / "empty.csv").write_text("a,b\n")

    class Echo:
        def predict(self, frame):
            return frame["a"]

    with pytest.raises(InvalidInputError, match="no rows"):
        score_file(Echo(), tmp_path / "empty.csv", tmp_path / "o.csv", 10)
    assert not (tmp_path / "o.csv").exists()


def scored_by_job(ws, model: str, source, target, *options: str) -> subprocess.CompletedProcess:
    """``trainyard batch score`` of ``source`` into ``target``, waiting for the job."""
    return cli(ws, "batch", "score", "-m", model, "-i", str(source), "-o", str(target), *options, "--stream")


def test_columns_outside_the_signature_pass_through_in_order(ws, registered, tmp_path):
    model, big = registered
    frame = big.head(250).assign(label=lambda f: model.predict(f[["sl", "sw", "pl", "pw"]]))
    frame.insert(0, "id", [f"row-{i}" for i in range(len(frame))])
    frame.insert(3, "note", "kept as it is")  # between the model's columns
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    result = scored_by_job(
        ws, "iris", tmp_path / "labelled.csv", tmp_path / "scored.csv", "--mini-batch-size", "100"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert list(scored.columns) == [*frame.columns, "prediction"]
    pd.testing.assert_frame_equal(scored.drop(columns=["prediction"]), frame)
    np.testing.assert_array_equal(scored["prediction"], scored["label"])


BATCH_SCRIPT = """\
import os
import pandas as pd
import trainyard as ty

def init():
    global model
    model = ty.models.load(os.environ["AZUREML_MODEL_DIR"])

def run(mini_batch):
    rows = []
    for path in mini_batch:
        frame = pd.read_csv(path)
        if "sl" in frame:  # a file without the model's columns gets no row: it counts as failed
            first = int(model.predict(frame)[0])
            rows.append({"file": os.path.basename(path), "first": first, "mark": os.environ["MARK"]})
    return rows
"""


def test_an_entry_script_scores_a_folder_in_mini_batches_of_file_paths(ws, registered, tmp_path):
    model, big = registered
    folder = tmp_path / "incoming"
    folder.mkdir()
    for i, start in enumerate((0, 50, 100, 140)):
        big.iloc[start : start + 5].to_csv(folder / f"part-{i}.csv", index=False)
    pd.DataFrame({"other": [1]}).to_csv(folder / "part-2b.csv", index=False)
    (folder / ".hidden.csv").write_text("not an input\n")
    (tmp_path / "batch_score.py").write_text(BATCH_SCRIPT)
    ty.Environment(name="marked", env_vars={"MARK": "set by the environment"}).register(ws.store)
    script = ["--entry-script", str(tmp_path / "batch_score.py"), "--environment", "marked"]
    result = scored_by_job(
        ws, "iris@production", folder, tmp_path / "predictions.csv", *script, "--mini-batch-size", "2"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scored = pd.read_csv(tmp_path / "predictions.csv")
    assert scored["file"].tolist() == ["part-0.csv", "part-1.csv", "part-2.csv", "part-3.csv"]
    assert scored["first"].tolist() == model.predict(big.iloc[[0, 50, 100, 140]]).tolist()
    assert set(scored["mark"]) == {"set by the environment"}
    run = ws.store.search_runs()[0]
    assert [m.value for m in ws.store.get_metric_history(run.id, "items_succeeded")] == [2, 3, 4]
    assert run.metrics["items_failed"] == 1 and run.tags["batch.entry_script"] == "batch_score.py"
    assert "wrote 4 rows" in result.stdout and "1 failed" in result.stdout


def _script(run) -> types.ModuleType:
    module = types.ModuleType("score")
    module.run = run
    return module


def test_a_table_reaches_run_as_dataframes_and_the_error_threshold_fails_the_job(tmp_path):
    pd.DataFrame({"id": range(10), "x": range(10)}).to_csv(tmp_path / "t.csv", index=False)

    def run(mini_batch):
        if mini_batch["id"].iloc[0] == 4:
            raise ValueError("this mini-batch is bad")
        return mini_batch[["id"]].assign(double=mini_batch["x"] * 2)

    batches = mini_batches(tmp_path / "t.csv", 4)
    outcome = score_with_script(_script(run), batches, tmp_path / "o.csv")
    assert (outcome.succeeded, outcome.failed, outcome.rows) == (6, 4, 6)
    assert pd.read_csv(tmp_path / "o.csv")["double"].tolist() == [0, 2, 4, 6, 16, 18]
    with pytest.raises(TrainyardError, match="4 items failed, more than the error threshold of 3"):
        score_with_script(_script(run), mini_batches(tmp_path / "t.csv", 4), tmp_path / "e.csv", 3)
    assert not (tmp_path / "e.csv").exists() and not list(tmp_path.glob(".e.csv*"))


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda batch: None, "returned a NoneType; return a list or a pandas DataFrame"),
        (
            lambda batch: [[1, 2]] if batch[0].endswith("a.txt") else [[1]],
            "every mini-batch must give the same columns",
        ),
        (lambda batch: [], r"no rows \(2 items failed\)"),
    ],
)
def test_what_run_returns_must_be_rows(tmp_path, returned, message):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(TrainyardError, match=message):
        score_with_script(_script(returned), mini_batches(tmp_path, 1), tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_a_folder_needs_an_entry_script(tmp_path):
    with pytest.raises(InvalidInputError, match="is a folder: its files are scored by an entry script"):
        check_paths(tmp_path, tmp_path / "out.csv")
    check_paths(tmp_path, tmp_path / "out.csv", scripted=True)
