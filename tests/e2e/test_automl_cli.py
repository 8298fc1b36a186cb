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


def test_bad_files_fail_before_anything_is_queued(tmp_path: Path):
    ty(tmp_path, "init")
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    frame.iloc[:200].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[200:].drop(columns=["y"]).to_csv(tmp_path / "nolabel.csv", index=False)
    frame.iloc[200:].drop(columns=["mean radius"]).to_csv(tmp_path / "fewer.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,y\n")
    (tmp_path / "latin1.csv").write_bytes("a,y\ncaf\u00e9,1\n".encode("latin-1"))
    (tmp_path / "fake.parquet").write_text("a,y\n1,2\n")
    cases = [
        (["--data", "empty.csv"], "--data empty.csv is empty"),
        (["--data", "header.csv"], "--data header.csv has no data rows"),
        (["--data", "latin1.csv"], "--data latin1.csv is not UTF-8 text"),
        (["--data", "fake.parquet"], "--data fake.parquet is not a Parquet file"),
        (["--validation", "latin1.csv"], "--validation latin1.csv is not UTF-8 text"),
        (["--validation", "fewer.csv"], "validation_data lacks training_data column(s) 'mean radius'"),
        (["--test", "missing.csv"], "--test missing.csv is not a file"),
        (["--test", "nolabel.csv"], "--test nolabel.csv has no label column 'y'"),
        (["--test", "empty.csv"], "--test empty.csv is empty"),
        (["--test", "header.csv"], "--test header.csv has no data rows"),
    ]
    for extra, message in cases:
        args = {"--data": "train.csv", "--label": "y", "--timeout": "5s"}
        args.update(zip(extra[::2], extra[1::2], strict=True))
        flat = [part for pair in args.items() for part in pair]
        bad = ty(tmp_path, "automl", "submit", *flat, check=False)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr, (extra, bad.stderr)
        assert bad.stderr.strip().startswith(f"error: {message}"), (extra, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1, (extra, bad.stderr)
    assert json.loads(ty(tmp_path, "run", "list", "-o", "json").stdout) == []
