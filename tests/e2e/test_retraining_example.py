"""examples/retraining as its README walks through it: data, a first run that puts a model in
production, a second run that reuses the data steps, then a published pipeline triggered with a
new month of data, whose promote step decides on the holdout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import trainyard
from tests.e2e.test_cli import ty
from trainyard.status import RunStatus

ROOT = Path(__file__).resolve().parents[2] / "examples" / "retraining"


def _promote(work: Path, pipeline_run: str) -> trainyard.Run:
    ws = trainyard.Workspace(work / ".trainyard")
    run = trainyard.Run(ws, pipeline_run)
    run.wait_for_completion(timeout_seconds=300)
    (promote,) = [c for c in ws.store.search_runs(parent_id=pipeline_run) if c.name == "promote"]
    return trainyard.Run(ws, promote.id)


def test_the_retraining_example_runs_as_its_readme_says(tmp_path: Path):
    work = tmp_path / "retraining"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns("data", ".trainyard"))
    make_data = [sys.executable, "make_data.py", "--rows", "600"]
    subprocess.run(make_data, cwd=work, check=True, capture_output=True)
    ty(work, "init", ".")
    first = ty(work, "pipeline", "submit", "-f", "pipeline.yml", "--stream").stdout
    assert "pipeline completed: 3 step(s), 0 reused" in first
    assert "churn:1 as production" in _promote(work, first.split("pipeline run ")[1].split()[0]).log_text()[0]

    again = ty(work, "pipeline", "submit", "-f", "pipeline.yml", "--stream").stdout
    assert "step prep reused run" in again and "step train reused run" in again
    assert "step promote (command) started" in again  # is_deterministic: false: never reused
    kept = _promote(work, again.split("pipeline run ")[1].split()[0]).refresh()
    assert kept.tags["promoted"] == "False"  # the same model does not beat itself

    next_month = ["--seed", "7", "--drift", "1", "--out", "data/next.csv", "--holdout", "data/holdout.csv"]
    subprocess.run(make_data + next_month, cwd=work, check=True, capture_output=True)
    assert "version 1" in ty(work, "pipeline", "publish", "-f", "pipeline.yml", "--name", "retrain").stdout
    queued = ty(work, "pipeline", "trigger", "retrain", "--set", "inputs.raw=data/next.csv").stdout
    promote = _promote(work, queued.split("queued run ")[1].split()[0]).refresh()
    assert promote.status is RunStatus.COMPLETED
    auc = promote.metrics
    assert promote.tags["promoted"] == str(auc["holdout_auc_candidate"] > auc["holdout_auc_production"])
    ws = trainyard.Workspace(work / ".trainyard")
    production = trainyard.Model(ws, "churn@production")
    assert production.version == (2 if promote.tags["promoted"] == "True" else 1)
