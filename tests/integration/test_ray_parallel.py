"""A parallel job on a Ray target: its workers are Ray actors of the runner's Ray job, against a
real local Ray head (2 CPUs on 127.0.0.1, this module's own, stopped after it)."""

from __future__ import annotations

import textwrap

import pytest

import trainyard as ty
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job

pytest.importorskip("ray.job_submission", reason="Ray is not installed (the ray extra)")

from tests.integration import test_ray_compute as ray_compute  # noqa: E402 - after the skip

pytestmark = pytest.mark.timeout(300)
head = ray_compute.head  # this module's own head (a module-scoped fixture)
cluster = ray_compute.cluster

SCORE = """
import argparse, os
from pathlib import Path

import ray

def init():
    global actor, marker
    actor = ray.get_runtime_context().get_actor_id()  # None outside an actor
    parser = argparse.ArgumentParser()
    parser.add_argument("--marker")
    marker = Path(parser.parse_known_args()[0].marker)

def run(paths):
    if any(p.endswith("f002.txt") for p in paths) and not marker.exists():  # fails its first try
        marker.write_text("failed once")
        raise RuntimeError("flaky")
    return [f"{Path(p).name},{Path(p).read_text()},{os.getpid()},{actor}" for p in paths]
"""

SPEC = """
type: parallel
experiment_name: scoring
compute: cluster
inputs:
  files: {type: uri_folder, path: ./files}
outputs:
  scores: {type: uri_folder}
input_data: ${{inputs.files}}
mini_batch_size: 2
max_concurrency_per_instance: 1
resources: {instance_count: 2}
mini_batch_error_threshold: 0
retry_settings: {max_retries: 1, timeout: 60}
task:
  code: ./src
  entry_script: score.py
  program_arguments: --marker MARKER
  append_row_to: ${{outputs.scores}}
"""


def test_mini_batches_run_on_ray_actors_with_a_retry_and_rows_in_order(ws, tmp_path, cluster, head):
    from ray.util.state import list_actors

    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "score.py").write_text(textwrap.dedent(SCORE))
    (root / "files").mkdir()
    for i in range(6):
        (root / "files" / f"f{i:03d}.txt").write_text(str(i))
    marker = tmp_path / "marker"
    (root / "parallel.yml").write_text(SPEC.replace("MARKER", str(marker)))
    run = ty.Run(ws, submit_job(ws, load_job(root / "parallel.yml")).id)
    details = run.wait_for_completion(show_output=False, timeout_seconds=240, raise_on_error=False)
    log = run.log_text()[0]
    assert details["status"] == "completed", log
    assert "3 mini-batches of" in log and "on 2 Ray actor(s) on the Ray target 'cluster'" in log
    assert marker.exists() and "failed (try 1 of 2): RuntimeError: flaky; trying again" in log
    text = run.download_file("outputs/scores/parallel_run_step.txt", tmp_path / "out.txt").read_text()
    rows = [line.split(",") for line in text.splitlines()]
    assert [(name, value) for name, value, _, _ in rows] == [(f"f{i:03d}.txt", str(i)) for i in range(6)]
    ran = {(pid, actor) for _, _, pid, actor in rows}
    # Ray actors of the runner's job ran them (one CPU each), spread over the two CPUs: every
    # actor id in the rows is a ParallelActor's, and both actors ran mini-batches
    actors = {
        a.actor_id: a
        for a in list_actors(address=head.address, filters=[("class_name", "=", "ParallelActor")])
    }
    assert {actor for _, actor in ran} <= set(actors), (ran, actors)
    assert len(ran) == 2 and len({pid for pid, _ in ran}) == 2, rows
    assert run.get_metrics()["mini_batches_completed"] == 3
