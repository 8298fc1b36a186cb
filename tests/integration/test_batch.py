"""Batch scoring jobs from the command line: chunked, tracked, all-or-nothing output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import trainyard as ty
from trainyard import models
from trainyard.errors import InvalidInputError
from trainyard.serving.batch import score_file


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
