"""A parallel job on a Ray target: its workers are Ray actors of the runner's Ray job, against a
real local Ray head (2 CPUs on 127.0.0.1, this module's own, stopped after it)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import trainyard as ty
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job

pytest.importorskip("ray.job_submission", reason="Ray is not installed (the ray extra)")

from tests.integration import test_ray_compute as ray_compute  # noqa: E402 - after the skip
from trainyard.compute.targets import TargetSpec  # noqa: E402

pytestmark = pytest.mark.timeout(300)
head = ray_compute.head  # this module's own head (a module-scoped fixture)
cluster = ray_compute.cluster

SCORE = """
import argparse, os, time
from pathlib import Path

import ray

def init():
    global actor, marker
    actor = ray.get_runtime_context().get_actor_id()  # None outside an actor
    parser = argparse.ArgumentParser()
    parser.add_argument("--marker")
    marker = Path(parser.parse_known_args()[0].marker)

def run(paths):
    (marker.parent / f"ran-{os.getpid()}").touch()
    if any(p.endswith("f002.txt") for p in paths) and not marker.exists():  # fails its first try
        marker.write_text("failed once")
        raise RuntimeError("flaky")
    hung = marker.parent / "hung"
    if any(p.endswith("f004.txt") for p in paths) and not hung.exists():  # hangs its first try
        hung.write_text("hung once")
        time.sleep(120)
    if any(p.endswith("f000.txt") for p in paths):  # held until another actor has started one
        deadline = time.monotonic() + 120
        while not [f for f in marker.parent.glob("ran-*") if f.name != f"ran-{os.getpid()}"]:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
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
max_concurrency_per_instance: CONCURRENCY
resources: {instance_count: 2}
mini_batch_error_threshold: 0
retry_settings: {max_retries: 1, timeout: 30}
task:
  code: ./src
  entry_script: score.py
  program_arguments: --marker MARKER
  append_row_to: ${{outputs.scores}}
"""


def write_project(root: Path, marker: Path, concurrency: int = 1) -> Path:
    """The entry script, six files f000.txt..f005.txt (three mini-batches), and the job's file."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "score.py").write_text(textwrap.dedent(SCORE))
    (root / "files").mkdir()
    for i in range(6):
        (root / "files" / f"f{i:03d}.txt").write_text(str(i))
    spec = SPEC.replace("MARKER", str(marker)).replace("CONCURRENCY", str(concurrency))
    (root / "parallel.yml").write_text(spec)
    return root / "parallel.yml"


def actors_of(head: TargetSpec, run: ty.Run) -> dict[str, Any]:
    """The ParallelActors of the run's Ray job, by actor id."""
    from ray.job_submission import JobSubmissionClient
    from ray.util.state import list_actors

    job_id = JobSubmissionClient(head.address).get_job_info(f"trainyard-{run.id}-1").driver_info.id
    found = list_actors(address=head.address, filters=[("class_name", "=", "ParallelActor")])
    return {a.actor_id: a for a in found if a.job_id == job_id}


def test_mini_batches_run_on_ray_actors_with_a_retry_and_rows_in_order(ws, tmp_path, cluster, head):
    (tmp_path / "marks").mkdir()
    marker = tmp_path / "marks" / "flaky"
    run = ty.Run(ws, submit_job(ws, load_job(write_project(tmp_path / "proj", marker))).id)
    details = run.wait_for_completion(show_output=False, timeout_seconds=240, raise_on_error=False)
    log = run.log_text()[0]
    assert details["status"] == "completed", log
    assert "3 mini-batches of" in log and "on 2 Ray actor(s) on the Ray target 'cluster'" in log
    assert marker.exists() and "failed (try 1 of 2): RuntimeError: flaky; trying again" in log
    hung = "#2 (f004.txt..f005.txt) failed (try 1 of 2): timed out after 30s (retry_settings.timeout)"
    assert hung in log
    text = run.download_file("outputs/scores/parallel_run_step.txt", tmp_path / "out.txt").read_text()
    rows = [line.split(",") for line in text.splitlines()]
    assert [(name, value) for name, value, _, _ in rows] == [(f"f{i:03d}.txt", str(i)) for i in range(6)]
    # Ray actors of the job ran them: two started mini-batches (f000's waits until another one has
    # started one), and a third replaced the one killed with the hung mini-batch
    actors = actors_of(head, run)
    pids = {str(a.pid) for a in actors.values()}
    started = {f.name.removeprefix("ran-") for f in (tmp_path / "marks").glob("ran-*")}
    assert len(actors) == 3 and len(started) >= 2 and started <= pids, (started, actors)
    assert {actor for *_, actor in rows} <= set(actors) and {pid for _, _, pid, _ in rows} <= pids
    assert "[parallel] 3 Ray actor(s) started (" in log and "), on 1 node(s)" in log
    assert run.get_metrics()["mini_batches_completed"][-1] == 3


def test_more_actors_than_the_cluster_has_cpus_fail_the_job_before_any_starts(ws, tmp_path, cluster, head):
    spec = write_project(tmp_path / "proj", tmp_path / "flaky", concurrency=2)  # 2 x 2 on 2 CPUs
    run = ty.Run(ws, submit_job(ws, load_job(spec)).id)
    details = run.wait_for_completion(show_output=False, timeout_seconds=240, raise_on_error=False)
    assert details["status"] == "failed", run.log_text()[0]
    assert ws.store.get_run(run.id).error == (  # the runner's last line, as on local compute
        "exit code 1: error: the parallel job asks for more than the Ray target 'cluster' has: "
        "CPU 4 for its 4 actors (instance_count x max_concurrency_per_instance, one CPU each; "
        "the cluster has 2)"
    )
    assert actors_of(head, run) == {}
