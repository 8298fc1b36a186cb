"""Register -> deploy -> invoke -> retrain -> swap -> rollback, as a user types it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from sklearn.datasets import load_diabetes

from tests.e2e.test_cli import ty

TRAIN = """
import argparse
import pandas as pd
from sklearn.linear_model import Ridge
import trainyard as ty
p = argparse.ArgumentParser(); p.add_argument("--data"); a = p.parse_args()
frame = pd.read_csv(a.data)
model = Ridge(alpha=0.1).fit(frame.drop(columns=["target"]), frame["target"])
ty.models.save(model, "outputs/model", input_example=frame.drop(columns=["target"]).head(3))
"""


def test_the_whole_path(tmp_path: Path):
    frame = load_diabetes(as_frame=True).frame
    frame.iloc[:25].to_csv(tmp_path / "small.csv", index=False)
    frame.iloc[:340].to_csv(tmp_path / "big.csv", index=False)
    frame.iloc[340:].to_csv(tmp_path / "holdout.csv", index=False)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    (tmp_path / "job.yml").write_text(
        textwrap.dedent("""
        experiment_name: diabetes
        code: ./src
        command: python train.py --data ${{inputs.data}}
        inputs: {data: {type: uri_file, path: ./small.csv}}
    """)
    )
    row = frame.drop(columns=["target"]).iloc[:1]
    (tmp_path / "request.json").write_text(
        json.dumps({"input_data": {"columns": list(row.columns), "data": row.values.tolist()}})
    )
    ty(tmp_path, "init")
    ty(tmp_path, "job", "submit", "-f", "job.yml", "--stream")
    run_id = json.loads(ty(tmp_path, "run", "list", "-o", "json").stdout)[0]["id"]
    ty(
        tmp_path,
        "model",
        "register",
        "-n",
        "diabetes",
        "-r",
        run_id,
        "-p",
        "outputs/model",
        "--alias",
        "production",
    )
    try:
        ty(tmp_path, "endpoint", "create", "diabetes")
        ty(tmp_path, "deployment", "create", "blue", "-e", "diabetes", "-m", "diabetes@production")
        ty(tmp_path, "endpoint", "traffic", "diabetes", "blue=100")
        first = json.loads(ty(tmp_path, "endpoint", "invoke", "diabetes", "--data", "request.json").stdout)
        assert len(first) == 1
        out = ty(
            tmp_path,
            "retrain",
            "-m",
            "diabetes@production",
            "--data",
            "big.csv",
            "--holdout",
            "holdout.csv",
            "--label",
            "target",
            "--endpoint",
            "diabetes",
        ).stdout
        assert "promoted" in out and "yes" in out
        shown = json.loads(ty(tmp_path, "endpoint", "show", "diabetes", "-o", "json").stdout)
        assert shown["traffic"] == {"v2-diabetes": 100} and len(shown["deployments"]) == 2
        second = json.loads(ty(tmp_path, "endpoint", "invoke", "diabetes", "--data", "request.json").stdout)
        assert second != first
        refused = ty(tmp_path, "deployment", "delete", "v2-diabetes", "-e", "diabetes", check=False)
        assert refused.returncode == 1 and "move it first" in refused.stderr
        ty(tmp_path, "endpoint", "rollback", "diabetes")
        assert (
            json.loads(ty(tmp_path, "endpoint", "invoke", "diabetes", "--data", "request.json").stdout)
            == first
        )
        bad = ty(tmp_path, "endpoint", "traffic", "diabetes", "blue=60", check=False)
        assert bad.returncode == 1 and "add up to 100" in bad.stderr
    finally:
        ty(tmp_path, "endpoint", "delete", "diabetes", check=False)
    assert json.loads(ty(tmp_path, "endpoint", "list", "-o", "json").stdout) == []


def test_invoke_with_the_router_down_is_one_line(tmp_path: Path):
    import os
    import signal

    (tmp_path / "request.json").write_text('{"data": [[1, 2]]}')
    ty(tmp_path, "init")
    try:
        ty(tmp_path, "endpoint", "create", "down")
        shown = json.loads(ty(tmp_path, "endpoint", "show", "down", "-o", "json").stdout)
        assert shown["router"] == "up"
        from trainyard.workspace import Workspace

        ws = Workspace.from_config(tmp_path)
        supervisor = int(ws.store.get_endpoint("down").worker.rsplit(":", 2)[1])
        ws.close()
        os.killpg(supervisor, signal.SIGKILL)  # the supervisor and its router at once
        failed = ty(tmp_path, "endpoint", "invoke", "down", "--data", "request.json", check=False)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
        assert failed.stderr.strip().count("\n") == 0, failed.stderr
        assert "did not answer" in failed.stderr and "router is down" in failed.stderr
    finally:
        ty(tmp_path, "endpoint", "delete", "down", check=False)
