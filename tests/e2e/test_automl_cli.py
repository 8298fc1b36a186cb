"""``trainyard automl …`` as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

from sklearn.datasets import load_breast_cancer

from tests.e2e.test_cli import ty


def test_submit_with_test_set_then_show_and_bad_input(tmp_path: Path):
    ty(tmp_path, "init")
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    frame["y"] = frame["y"].map({0: "malignant", 1: "benign"})
    frame.iloc[:400].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[400:].to_csv(tmp_path / "test.csv", index=False)

    out = ty(
        tmp_path,
        "automl",
        "submit",
        "--data",
        "train.csv",
        "--label",
        "y",
        "--task",
        "classification",
        "--timeout",
        "20s",
        "--metric",
        "AUC_weighted",
        "--cv",
        "3",
        "--model-name",
        "cancer",
        "--test",
        "test.csv",
    ).stdout
    assert "guardrail" in out and "<< new best" in out  # the live log
    assert "AutoML" in out and "VotingEnsemble" in out and "best model: cancer:1" in out  # the leaderboard
    assert "Test set (test.csv, 169 rows)" in out and "AUC_weighted" in out
    run_id = out.split("automl run ")[1].split()[0]

    shown = json.loads(ty(tmp_path, "automl", "show", run_id[:12], "-o", "json").stdout)
    assert shown["status"] == "completed" and shown["model"] == "cancer:1"
    board = shown["leaderboard"]
    assert board["run_id"][0] == shown["best_run_id"] and board["rank"][0] == 1
    assert "missing feature values imputation" in shown["data_guardrails"]["guardrail"]
    models = json.loads(ty(tmp_path, "model", "list", "-o", "json").stdout)
    assert any(m["name"] == "cancer" for m in models)

    bad = ty(
        tmp_path,
        "automl",
        "submit",
        "--data",
        "train.csv",
        "--label",
        "label",
        "--timeout",
        "1m",
        check=False,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("error: label_column_name 'label' is not a column of training_data")
    wrong_time = ty(
        tmp_path, "automl", "submit", "--data", "train.csv", "--label", "y", "--timeout", "ten", check=False
    )
    assert wrong_time.returncode == 1 and "--timeout 'ten'" in wrong_time.stderr
