"""A parallel job on a Ray target: its workers are Ray actors of the runner's Ray job, against a
real local Ray head (2 CPUs on 127.0.0.1, this module's own, stopped after it)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import trainyard as ty
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job

pytest.importorskip("ray.job_submission", reason="Ray is not installed (the ray extra)")

from tests.integration import test_ray_compute as ray_compute  # noqa: E402 - after the skip
from trainyard.compute.ray_target import _group_alive, cluster_state, free_ports, stop_local_head  # noqa: E402
from trainyard.compute.targets import LocalHead, TargetSpec  # noqa: E402

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


@pytest.fixture
def second_node(head: TargetSpec) -> Iterator[str]:
    """A second Ray node on this machine (1 CPU, a ``node2`` resource), joined to the module's head:
    real processes in a group of their own, stopped after the test. Its node id."""
    from ray.util.state import list_nodes

    assert head.local is not None
    gcs = (Path(head.local.temp_dir) / "ray_current_cluster").read_text().strip()
    temp_dir = tempfile.mkdtemp(prefix="ty-ray-", dir="/tmp")
    ports = ("node-manager", "object-manager", "metrics-export", "dashboard-agent-listen",
             "dashboard-agent-grpc", "runtime-env-agent")  # fmt: skip
    argv = [sys.executable, "-m", "ray.scripts.scripts", "start", "--address", gcs, "--disable-usage-stats",
            "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--resources", json.dumps({"node2": 1}),
            "--temp-dir", temp_dir]  # fmt: skip
    for name, port in zip(ports, free_ports(len(ports)), strict=True):
        argv += [f"--{name}-port", str(port)]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    node = LocalHead(pgid=proc.pid, temp_dir=temp_dir, num_cpus=1)
    try:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode(errors="replace")[-2000:]
        ray_compute.wait_for(lambda: cluster_state(head.address).nodes_alive == 2, 60)
        (joined,) = [n.node_id for n in list_nodes(address=head.address) if n.resources_total.get("node2")]
        yield joined
    finally:
        stop_local_head(node)
        assert not _group_alive(node.pgid), "the second node's processes left running"
        ray_compute.wait_for(lambda: cluster_state(head.address).nodes_alive == 1, 60)


TABLE_SCORE = """
import os, time
import ray

def init():
    global node
    node = ray.get_runtime_context().get_node_id()
    open(os.path.join(READY, node), "w").close()

def run(frame):
    deadline = time.monotonic() + 120
    while len(os.listdir(READY)) < 2 and time.monotonic() < deadline:  # both actors up: both get some
        time.sleep(0.1)
    frame["y"] = frame["x"] * 2
    frame["node"] = node
    return frame[["x", "y", "node"]]
"""
TABLE_PIPELINE = """
type: pipeline
experiment_name: scoring
settings: {default_compute: cluster}
inputs:
  table: {type: uri_file, path: ./rows.csv}
jobs:
  score:
    type: parallel
    inputs: {table: "${{parent.inputs.table}}"}
    outputs: {scores: {type: uri_folder}}
    input_data: ${{inputs.table}}
    mini_batch_size: "10"
    max_concurrency_per_instance: 1
    resources: {instance_count: 2}
    task:
      type: run_function
      code: ./src
      entry_script: score.py
      append_row_to: ${{outputs.scores}}
"""


def test_a_parallel_steps_table_is_scored_in_order_by_actors_spread_over_two_nodes(
    ws, tmp_path, cluster, head, second_node
):
    """A csv's mini-batches (10 rows each) travel as DataFrames to two actors, placed one on each
    node (SPREAD; each mini-batch is held until both are up); the appended rows come back in the
    table's order."""
    from ray.util.state import list_nodes

    from trainyard.artifacts import run_key
    from trainyard.pipelines import load_pipeline
    from trainyard.pipelines.submit import submit_pipeline

    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (tmp_path / "ready").mkdir()
    (root / "src" / "score.py").write_text(TABLE_SCORE.replace("READY", repr(str(tmp_path / "ready"))))
    (root / "rows.csv").write_text("x\n" + "".join(f"{x}\n" for x in range(45)))
    (root / "pipeline.yml").write_text(TABLE_PIPELINE)
    pipeline = ty.Run(ws, submit_pipeline(ws, load_pipeline(root / "pipeline.yml")).id)
    details = pipeline.wait_for_completion(show_output=False, timeout_seconds=240, raise_on_error=False)
    assert details["status"] == "completed", pipeline.log_text()
    (step,) = ws.store.search_runs(parent_id=pipeline.id)
    log = ty.Run(ws, step.id).log_text()[0]
    assert step.compute == "cluster" and "5 mini-batches of" in log, log
    text = ws.artifacts.get_bytes(run_key(step.id, "outputs/scores/parallel_run_step.txt")).decode()
    rows = [line.split(",") for line in text.splitlines()]
    assert [(x, y) for x, y, _ in rows] == [(str(x), str(x * 2)) for x in range(45)]
    nodes = {n.node_id for n in list_nodes(address=head.address) if n.state == "ALIVE"}
    assert len(nodes) == 2 and second_node in nodes
    assert {node for *_, node in rows} == nodes  # each node's actor scored some of them
    assert {a.node_id for a in actors_of(head, ty.Run(ws, step.id)).values()} == nodes
    assert "[parallel] 2 Ray actor(s) started (2 ready), on 2 node(s)" in log
