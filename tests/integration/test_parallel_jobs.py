"""Parallel jobs submitted as a ``type: parallel`` file: a real worker, workspace and runner."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pandas as pd

import trainyard as ty
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job

SCORE = """
import argparse, os
from pathlib import Path

def init():
    global scale, marker
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float)
    parser.add_argument("--marker")
    args, _ = parser.parse_known_args()
    scale, marker = args.scale, Path(args.marker)

def run(frame):
    if frame["x"].iloc[0] == 20 and not marker.exists():  # mini-batch 2 fails its first try
        marker.write_text("failed once")
        raise RuntimeError("flaky")
    frame["y"] = frame["x"] * scale
    return frame[["x", "y"]]
"""

SPEC = """
type: parallel
experiment_name: scoring
inputs:
  table: {type: uri_file, path: ./data/rows.csv}
  scale: 2
outputs:
  scores: {type: uri_folder}
input_data: ${{inputs.table}}
mini_batch_size: "10"
max_concurrency_per_instance: 2
mini_batch_error_threshold: 0
retry_settings:
  max_retries: 1
  timeout: 30
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --scale ${{inputs.scale}} --marker MARKER
  append_row_to: ${{outputs.scores}}
"""


def write_project(root: Path, body: str, spec: str) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "score.py").write_text(textwrap.dedent(body))
    (root / "data").mkdir(exist_ok=True)
    pd.DataFrame({"x": range(45)}).to_csv(root / "data" / "rows.csv", index=False)
    (root / "parallel.yml").write_text(textwrap.dedent(spec))
    return root / "parallel.yml"


def test_a_parallel_job_scores_a_table_in_order_with_a_retry_and_logs_progress(ws, tmp_path):
    marker = tmp_path / "marker"
    spec = write_project(tmp_path / "proj", SCORE, SPEC.replace("MARKER", str(marker)))
    run = ty.Run(ws, submit_job(ws, load_job(spec)).id)
    details = run.wait_for_completion(show_output=False, raise_on_error=False)
    log = run.log_text()[0]
    assert details["status"] == "completed", log
    assert marker.exists() and "failed (try 1 of 2): RuntimeError: flaky; trying again" in log
    text = run.download_file("outputs/scores/parallel_run_step.txt", tmp_path / "out.txt").read_text()
    assert text == "".join(f"{x},{x * 2.0}\n" for x in range(45))
    assert [n for n in run.get_file_names() if n.startswith("outputs/")] == [
        "outputs/scores/parallel_run_step.txt"
    ]
    metrics = run.get_metrics()
    assert metrics["mini_batches_completed"][-1] == 5 and metrics["rows_processed"][-1] == 45
    assert metrics["mini_batches_failed"][-1] == 0
    assert "[parallel] 100%: 5/5 mini-batches done" in log


HANG = """
import os, time
def init():
    open(os.path.join(os.environ["PIDS"], str(os.getpid())), "w").close()
def run(frame):
    time.sleep(120)
"""


def test_canceling_a_parallel_job_stops_its_workers_and_uploads_no_output(ws, tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("PIDS", str(pids))
    spec = write_project(tmp_path / "proj", HANG, SPEC.replace("MARKER", "m"))
    run = ty.Run(ws, submit_job(ws, load_job(spec)).id)
    deadline = time.monotonic() + 60
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    run.cancel()
    assert run.wait_for_completion(raise_on_error=False, timeout_seconds=60)["status"] == "canceled"
    assert not [n for n in run.get_file_names() if n.startswith("outputs/")]
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
