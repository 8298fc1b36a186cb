"""Command jobs on a Ray target, against a real local Ray head (one per module: it takes a while).

The head runs on 127.0.0.1 with 2 CPUs, started the way ``compute create --local`` starts one;
its jobs run on this machine, so ``Run.get_context()`` in them logs to the test's workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import trainyard as ty
from trainyard.cli.main import app
from trainyard.errors import AlreadyExistsError, InvalidInputError
from trainyard.jobs.spec import make_job
from trainyard.jobs.submit import submit_job
from trainyard.workspace import Workspace

pytest.importorskip("ray.job_submission", reason="Ray is not installed (the ray extra)")

from trainyard.compute.ray_target import (  # noqa: E402 - after the skip
    _group_alive,
    free_ports,
    start_local_head,
    stop_local_head,
)
from trainyard.compute.targets import TargetSpec, load_targets, save_target  # noqa: E402

pytestmark = pytest.mark.timeout(300)

TRAIN = """
import sys
from trainyard import Run
run = Run.get_context()
print("hello from the cluster", sys.argv[1:], flush=True)
run.log("acc", 0.9)
"""
FAIL = "import sys\nprint('bad alpha', flush=True)\nsys.exit(3)\n"
SLEEP = "import time\nprint('started', flush=True)\ntime.sleep(300)\n"


@pytest.fixture(scope="module")
def head() -> Iterator[TargetSpec]:
    spec = start_local_head(num_cpus=2)
    assert spec.local is not None
    yield spec
    stop_local_head(spec.local)
    assert not _group_alive(spec.local.pgid), "Ray processes left running"


@pytest.fixture
def cluster(ws: Workspace, head: TargetSpec) -> str:
    """The module's head as this workspace's target ``cluster`` (without its stop: the module owns it)."""
    save_target(ws, "cluster", TargetSpec(address=head.address))
    return "cluster"


def run_job(ws: Workspace, src, command: str, **fields) -> ty.Run:
    job = make_job(code=str(src), command=command, compute="cluster", **fields)
    return ty.Run(ws, submit_job(ws, job).id)


def test_a_command_job_runs_on_the_cluster_with_its_log_and_metrics(ws, script_dir, cluster):
    src = script_dir({"train.py": TRAIN})
    run = run_job(ws, src, "python train.py --alpha 0.5", resources={"cpu": 1, "memory": "100MiB"})
    details = run.wait_for_completion(show_output=False, timeout_seconds=120)
    assert details["status"] == "completed", (details, run.log_text()[0])
    assert run.get_metrics() == {"acc": 0.9}
    log = run.log_text()[0]
    assert "hello from the cluster ['--alpha', '0.5']" in log
    assert f"Ray job trainyard-{run.id}-1" in log


def test_outputs_come_back_from_a_cluster_on_this_machine(ws, script_dir, cluster):
    write = "import pathlib, sys\npathlib.Path(sys.argv[1], 'f.txt').write_text('x')\n"
    write += "pathlib.Path('outputs/model.txt').write_text('weights')\n"
    outputs = {"train": {"type": "uri_folder", "name": "prepared"}}
    run = run_job(ws, script_dir({"w.py": write}), "python w.py ${{outputs.train}}", outputs=outputs)
    details = run.wait_for_completion(show_output=False, timeout_seconds=120)
    assert details["status"] == "completed", (details, run.log_text()[0])
    assert {"outputs/model.txt", "outputs/train/f.txt"} <= set(run.get_file_names())
    data = ty.Data(ws, "prepared@latest")  # the named output is registered as on local compute
    assert (data.path() / "f.txt").read_text() == "x" and data.record.created_by_run == run.id


def test_a_failing_command_fails_the_run_with_its_last_line(ws, script_dir, cluster):
    run = run_job(ws, script_dir({"fail.py": FAIL}), "python fail.py")
    details = run.wait_for_completion(show_output=False, timeout_seconds=120, raise_on_error=False)
    assert details["status"] == "failed"
    assert ws.store.get_run(run.id).error == "exit code 3: bad alpha"


def test_cancel_stops_the_ray_job(ws, script_dir, cluster, head):
    from ray.job_submission import JobStatus, JobSubmissionClient

    run = run_job(ws, script_dir({"sleep.py": SLEEP}), "python sleep.py")
    wait_for(lambda: "started" in run.log_text()[0])
    run.cancel()
    details = run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "canceled"
    assert JobSubmissionClient(head.address).get_job_status(f"trainyard-{run.id}-1") == JobStatus.STOPPED


def test_the_jobs_timeout_stops_it_and_fails_the_run(ws, script_dir, cluster):
    run = run_job(ws, script_dir({"sleep.py": SLEEP}), "python sleep.py", timeout=2)
    details = run.wait_for_completion(show_output=False, timeout_seconds=120, raise_on_error=False)
    assert details["status"] == "failed"
    assert ws.store.get_run(run.id).error == "timed out after 2s (the job's timeout)"


def test_a_lost_worker_is_retried_and_its_attempts_ray_job_stopped(ws, script_dir, cluster, head, tmp_path):
    """The first attempt's worker is killed; its Ray job runs on until the retry stops it."""
    import os
    import signal

    from ray.job_submission import JobStatus, JobSubmissionClient

    script = """
import os, time
first = not os.path.exists(os.environ["MARKER"])
open(os.environ["MARKER"], "a").close()
print("started", "first" if first else "again", flush=True)
time.sleep(300 if first else 0)
"""
    env = {"env_vars": {"MARKER": str(tmp_path / "marker")}}
    run = run_job(ws, script_dir({"retry.py": script}), "python retry.py", max_retries=1, environment=env)
    wait_for(lambda: "started first" in run.log_text()[0])
    os.kill(int(ws.store.get_run(run.id).worker.rsplit(":", 2)[1]), signal.SIGKILL)
    details = run.wait_for_completion(show_output=False, timeout_seconds=120)
    assert details["status"] == "completed" and details["attempt"] == 2
    assert "started again" in run.log_text()[0]
    client = JobSubmissionClient(head.address)
    wait_for(lambda: client.get_job_status(f"trainyard-{run.id}-1") == JobStatus.STOPPED)


def test_a_head_stopped_mid_job_fails_the_run_with_the_reason(ws, script_dir):
    """A head of its own (the module's must live on): stopped while the job sleeps."""
    doomed = start_local_head(num_cpus=1)
    assert doomed.local is not None
    try:
        save_target(ws, "doomed", TargetSpec(address=doomed.address))
        job = make_job(code=str(script_dir({"sleep.py": SLEEP})), command="python sleep.py", compute="doomed")
        run = ty.Run(ws, submit_job(ws, job).id)
        wait_for(lambda: "started" in run.log_text()[0])
    finally:
        stop_local_head(doomed.local)
    details = run.wait_for_completion(show_output=False, timeout_seconds=90, raise_on_error=False)
    assert details["status"] == "failed"
    assert ws.store.get_run(run.id).error.startswith("lost the Ray cluster of target 'doomed'")


def test_a_job_asking_for_more_than_the_cluster_has_fails_saying_so(ws, script_dir, cluster):
    run = run_job(ws, script_dir({"train.py": TRAIN}), "python train.py", resources={"cpu": 64})
    details = run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "failed"
    error = ws.store.get_run(run.id).error
    assert error == "the job asks for more than the Ray target 'cluster' has: CPU 64 (the largest node has 2)"


def test_an_unreachable_cluster_fails_the_run_with_the_reason(ws, script_dir):
    address = f"http://127.0.0.1:{free_ports(1)[0]}"
    save_target(ws, "gone", TargetSpec(address=address))
    job = make_job(code=str(script_dir({"train.py": TRAIN})), command="python train.py", compute="gone")
    run = ty.Run(ws, submit_job(ws, job).id)
    details = run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "failed"
    assert ws.store.get_run(run.id).error.startswith(f"cannot reach the Ray cluster at {address}")


def test_an_environment_asking_for_a_python_version_fails_saying_the_cluster_runs_its_own(ws, script_dir):
    save_target(ws, "elsewhere", TargetSpec(address=f"http://127.0.0.1:{free_ports(1)[0]}"))
    env = {"name": "py311", "python": "3.11"}
    src = script_dir({"train.py": TRAIN})
    job = make_job(code=str(src), command="python train.py", compute="elsewhere", environment=env)
    run = ty.Run(ws, submit_job(ws, job).id)
    details = run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "failed"
    assert "asks for python 3.11; on the Ray target 'elsewhere'" in ws.store.get_run(run.id).error


def test_cli_lists_and_shows_a_target_and_refuses_bad_input(ws, cluster):
    runner = CliRunner()
    listed = runner.invoke(app, ["compute", "list", "-o", "json"])
    assert listed.exit_code == 0, listed.output
    assert [t["name"] for t in json.loads(listed.stdout)] == ["local", "cluster"]
    shown = runner.invoke(app, ["compute", "show", "cluster", "-o", "json"])
    assert shown.exit_code == 0, shown.output
    state = json.loads(shown.stdout)
    assert (state["health"], state["nodes_alive"], state["resources"]["CPU"]) == ("healthy", 1, 2.0)

    unreachable = f"http://127.0.0.1:{free_ports(1)[0]}"
    for argv, error, message in [
        (["--type", "k8s", "--address", unreachable], InvalidInputError, "unknown compute type 'k8s'"),
        (["--address", unreachable, "--local"], InvalidInputError, "exactly one of --address"),
        (["--address", unreachable], Exception, f"cannot reach the Ray cluster at {unreachable}"),
    ]:
        result = runner.invoke(app, ["compute", "create", "other", *argv])
        assert isinstance(result.exception, error) and message in str(result.exception), result.output
    assert sorted(load_targets(ws)) == ["cluster"]  # nothing stored by a refused create
    taken = runner.invoke(app, ["compute", "create", "cluster", "--address", unreachable])
    assert isinstance(taken.exception, AlreadyExistsError)
    assert runner.invoke(app, ["compute", "delete", "cluster"]).exit_code == 0
    assert load_targets(ws) == {}


SCORE = """
import os, signal, sys, time
from trainyard import Run
run = Run.get_context()
q = float(sys.argv[1])
if q == 0.5:  # its process (the Ray worker running its task) dies
    os.kill(os.getpid(), signal.SIGKILL)
for step in range(8):
    run.log("score", q * (step + 1))
    run.flush()
    time.sleep(0.2 if q > 0.5 else 2)  # a hopeless trial still runs when the good ones have reported
"""


def test_a_sweeps_trials_run_as_ray_tasks_of_its_driver_and_a_hopeless_one_is_stopped_early(
    ws, script_dir, cluster, head
):
    """Four trials, as many at a time as the head's free CPUs take: one whose task dies fails
    alone, the bandit policy stops the hopeless one mid-run, the best of the two others is picked.
    One Ray job: the driver's (reserving no CPU)."""
    from ray.job_submission import JobSubmissionClient

    src = script_dir({"score.py": SCORE})
    cfg = ty.ScriptRunConfig(
        source_directory=src, script="score.py", arguments=["${{search_space.q}}"], compute_target="cluster"
    )
    policy = ty.BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2)
    space = {"q": ty.choice(1.0, 0.9, 0.5, 0.05)}
    sweep = ty.Experiment(ws, "sweeps").submit(
        ty.SweepConfig(
            cfg,
            space,
            primary_metric="score",
            goal="maximize",
            sampling="grid",
            max_concurrent_trials=4,
            early_termination=policy,
        )
    )
    details = sweep.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    log = sweep.log_text()[0]
    assert details["status"] == "completed", log
    trials = {float(t.params["q"]): t for t in ws.store.search_runs(parent_id=sweep.id)}
    assert sorted(trials) == [0.05, 0.5, 0.9, 1.0]
    assert {(t.compute, t.tags.get("ray.task")) for t in trials.values()} == {("cluster", "true")}
    killed = trials[0.5]
    assert killed.status is ty.RunStatus.FAILED and killed.error.startswith("its Ray task failed: ")
    for q in (1.0, 0.9):
        assert trials[q].status is ty.RunStatus.COMPLETED, (q, trials[q].error)
        assert trials[q].metrics["score"] == pytest.approx(8 * q)
    hopeless = trials[0.05]
    assert hopeless.status is ty.RunStatus.CANCELED, hopeless.error
    assert hopeless.error.startswith("early termination by BanditPolicy(slack_factor=0.2")
    assert hopeless.tags.get("sweep.early_terminated") == "true"
    assert ws.store.get_run(sweep.id).tags["sweep.best_run_id"] == trials[1.0].id
    assert "at a time as Ray tasks" in log and "at most 2 trial(s) at a time" in log, log
    jobs = [j for j in JobSubmissionClient(head.address).list_jobs() if j.metadata.get("trainyard_run")]
    assert sweep.id in {j.metadata["trainyard_run"] for j in jobs}  # the driver is a Ray job
    assert not {t.id for t in trials.values()} & {j.metadata["trainyard_run"] for j in jobs}


SLOW_TRIAL = """
import sys, time
from trainyard import Run
print("trial started", flush=True)
time.sleep(3)
Run.get_context().log("y", float(sys.argv[1]))
"""


def test_a_sweep_whose_worker_is_killed_goes_on_in_its_retry_without_running_a_trial_twice(
    ws, script_dir, cluster
):
    """The sweep's local worker is killed while trials run as tasks of its Ray job; the retry
    stops that job, its driver rebuilds from the store, ends the trials the lost job had taken,
    and runs the rest: four trials in all, each number once."""
    import os
    import signal

    src = script_dir({"slow.py": SLOW_TRIAL})
    cfg = ty.ScriptRunConfig(
        source_directory=src, script="slow.py", arguments=["${{search_space.x}}"], compute_target="cluster"
    )
    space = {"x": ty.choice(1.0, 2.0, 3.0, 4.0)}
    sweep = ty.Experiment(ws, "sweeps").submit(
        ty.SweepConfig(
            cfg, space, primary_metric="y", goal="maximize", sampling="grid", max_concurrent_trials=2
        )
    )

    def trial_running() -> bool:
        return any(t.status is ty.RunStatus.RUNNING for t in ws.store.search_runs(parent_id=sweep.id))

    wait_for(trial_running, 120)
    os.kill(int(ws.store.get_run(sweep.id).worker.rsplit(":", 2)[1]), signal.SIGKILL)
    details = sweep.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    assert details["status"] == "completed" and details["attempt"] == 2, sweep.log_text()[0]
    trials = ws.store.search_runs(parent_id=sweep.id)
    assert sorted(int(t.tags["sweep.trial"]) for t in trials) == [0, 1, 2, 3]
    assert all(t.status.is_terminal and t.tags["ray.task"] == "true" for t in trials)
    completed = [t for t in trials if t.status is ty.RunStatus.COMPLETED]
    assert completed and all(t.error for t in trials if t.status is not ty.RunStatus.COMPLETED)
    best = max(completed, key=lambda t: t.metrics["y"])
    assert ws.store.get_run(sweep.id).tags["sweep.best_run_id"] == best.id


PIPELINE = """
type: pipeline
experiment_name: pipes
settings: {default_compute: cluster}
outputs:
  model: {type: uri_folder}
jobs:
  prep:
    code: src
    command: python prep.py ${{outputs.train}}
    outputs:
      train: {type: uri_folder}
  train:
    code: src
    command: python fit.py ${{inputs.data}} ${{outputs.model}}
    inputs:
      data: ${{parent.jobs.prep.outputs.train}}
    outputs:
      model: ${{parent.outputs.model}}
"""
PREP = "import pathlib, sys\npathlib.Path(sys.argv[1], 'rows.txt').write_text('1\\n2\\n3\\n')\n"
FIT = """
import pathlib, sys
from trainyard import Run
rows = len(pathlib.Path(sys.argv[1], "rows.txt").read_text().splitlines())
Run.get_context().log("rows", rows)
pathlib.Path(sys.argv[2], "model.txt").write_text(f"{rows} rows")
"""


def test_a_pipelines_steps_run_on_the_cluster_passing_an_output_along(ws, script_dir, cluster, head):
    from ray.job_submission import JobStatus, JobSubmissionClient

    from trainyard.artifacts import run_key
    from trainyard.pipelines import load_pipeline
    from trainyard.pipelines.submit import submit_pipeline

    root = script_dir({"prep.py": PREP, "fit.py": FIT}).parent
    (root / "pipeline.yml").write_text(PIPELINE)
    pipeline = ty.Run(ws, submit_pipeline(ws, load_pipeline(root / "pipeline.yml")).id)
    details = pipeline.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    assert details["status"] == "completed", pipeline.log_text()
    steps = {s.tags["pipeline.step"]: s for s in ws.store.search_runs(parent_id=pipeline.id)}
    assert sorted(steps) == ["prep", "train"] and {s.compute for s in steps.values()} == {"cluster"}
    client = JobSubmissionClient(head.address)
    for step in steps.values():
        assert client.get_job_status(f"trainyard-{step.id}-1") == JobStatus.SUCCEEDED
    assert not_on_ray(client, pipeline.id)
    assert steps["train"].metrics["rows"] == 3  # prep's output, read on the cluster
    assert ws.artifacts.get_bytes(run_key(pipeline.id, "outputs/model/model.txt")) == b"3 rows"


SWEEP_PIPELINE = """
type: pipeline
experiment_name: pipes
settings: {default_compute: cluster}
jobs:
  tune:
    type: sweep
    code: src
    command: python tune.py ${{outputs.model}} ${{search_space.x}}
    outputs: {model: {type: uri_folder}}
    search_space: {x: {type: choice, values: [1, 2]}}
    sampling_algorithm: grid
    objective: {primary_metric: score, goal: maximize}
    limits: {max_total_trials: 2, max_concurrent_trials: 2}
  show:
    code: src
    command: python show.py ${{inputs.m}}
    inputs: {m: "${{parent.jobs.tune.outputs.model}}"}
"""
TUNE = """
import pathlib, sys
from trainyard import Run
x = float(sys.argv[2])
Run.get_context().log("score", x)
pathlib.Path(sys.argv[1], "model.txt").write_text(f"x={x:g}")
"""
SHOW = "import pathlib, sys\nprint('best', pathlib.Path(sys.argv[1], 'model.txt').read_text(), flush=True)\n"


def test_a_sweep_step_runs_its_trials_as_ray_tasks_and_its_best_trials_output_feeds_the_next_step(
    ws, script_dir, cluster, head
):
    from ray.job_submission import JobStatus, JobSubmissionClient

    from trainyard.pipelines import load_pipeline
    from trainyard.pipelines.submit import submit_pipeline

    root = script_dir({"tune.py": TUNE, "show.py": SHOW}).parent
    (root / "pipeline.yml").write_text(SWEEP_PIPELINE)
    pipeline = ty.Run(ws, submit_pipeline(ws, load_pipeline(root / "pipeline.yml")).id)
    details = pipeline.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    assert details["status"] == "completed", pipeline.log_text()
    steps = {s.tags["pipeline.step"]: s for s in ws.store.search_runs(parent_id=pipeline.id)}
    assert sorted(steps) == ["show", "tune"] and {s.compute for s in steps.values()} == {"cluster"}
    trials = {t.params["x"]: t for t in ws.store.search_runs(parent_id=steps["tune"].id)}
    assert sorted(trials) == ["1", "2"]
    assert {(t.compute, t.tags.get("ray.task"), t.status) for t in trials.values()} == {
        ("cluster", "true", ty.RunStatus.COMPLETED)
    }
    assert steps["tune"].tags["sweep.best_run_id"] == trials["2"].id
    assert "best x=2" in ty.Run(ws, steps["show"].id).log_text()[0]  # the best trial's output, read there
    client = JobSubmissionClient(head.address)
    for step in steps.values():  # the sweep's driver is a Ray job, its trials are tasks of it
        assert client.get_job_status(f"trainyard-{step.id}-1") == JobStatus.SUCCEEDED
    assert all(not_on_ray(client, t.id) for t in trials.values())


LOST_TRIAL = """
import os, sys, time
from trainyard import Run
from trainyard.liveness import worker_id
x, folder = sys.argv[1], sys.argv[2]
open(os.path.join(folder, "ran", f"{x}-{os.getpid()}"), "w").write(worker_id())  # this process
time.sleep(0 if os.path.exists(os.path.join(folder, "again")) else 120)
Run.get_context().log("y", float(x))
"""
LOST = "its Ray task was lost with the sweep driver's previous attempt"


def test_a_sweep_whose_ray_driver_is_killed_hard_ends_the_trials_lost_with_it_and_its_retry_runs_the_rest(
    ws, script_dir, cluster, head, tmp_path
):
    """The sweep's local worker and its Ray job's driver are both SIGKILLed while two trials run,
    so nothing cancels them: Ray ends their tasks with the job; the retry's driver fails them,
    saying so, and runs the third trial. Each trial number once; no trial's process left."""
    import os
    import signal

    from ray.job_submission import JobSubmissionClient

    from trainyard.liveness import worker_alive

    (tmp_path / "ran").mkdir()
    src = script_dir({"lost.py": LOST_TRIAL})
    cfg = ty.ScriptRunConfig(
        source_directory=src,
        script="lost.py",
        arguments=["${{search_space.x}}", str(tmp_path)],
        compute_target="cluster",
    )
    space = {"x": ty.choice(1.0, 2.0, 3.0)}
    sweep = ty.Experiment(ws, "sweeps").submit(
        ty.SweepConfig(
            cfg, space, primary_metric="y", goal="maximize", sampling="grid", max_concurrent_trials=2
        )
    )
    wait_for(lambda: len(list((tmp_path / "ran").iterdir())) == 2, 120)
    first = {p.name.split("-")[0] for p in (tmp_path / "ran").iterdir()}  # the grid's order is seeded
    driver = JobSubmissionClient(head.address).get_job_info(f"trainyard-{sweep.id}-1").driver_info
    os.kill(int(ws.store.get_run(sweep.id).worker.rsplit(":", 2)[1]), signal.SIGKILL)
    os.kill(int(driver.pid), signal.SIGKILL)
    (tmp_path / "again").touch()
    details = sweep.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    assert details["status"] == "completed" and details["attempt"] == 2, sweep.log_text()[0]
    trials = {t.params["x"]: t for t in ws.store.search_runs(parent_id=sweep.id)}
    assert sorted(int(t.tags["sweep.trial"]) for t in trials.values()) == [0, 1, 2]
    lost = {x for x, t in trials.items() if t.status is ty.RunStatus.FAILED and t.error == LOST}
    assert lost == first, {x: (t.status, t.error) for x, t in trials.items()}
    (rest,) = set(trials) - first
    assert trials[rest].status is ty.RunStatus.COMPLETED
    assert ws.store.get_run(sweep.id).tags["sweep.best_run_id"] == trials[rest].id
    ran = {p.name.split("-")[0]: p.read_text() for p in (tmp_path / "ran").iterdir()}
    assert sorted(ran) == ["1.0", "2.0", "3.0"] and len(list((tmp_path / "ran").iterdir())) == 3
    wait_for(lambda: not any(worker_alive(ran[x]) for x in lost), 30)  # Ray ended their processes


def not_on_ray(client, run_id: str) -> bool:
    return all(job.metadata.get("trainyard_run") != run_id for job in client.list_jobs())


def wait_for(predicate, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_a_ddp_script_trains_unchanged_on_ray_train_workers(ws, script_dir, cluster, head):
    """test_distributed's DDP script, as written for Azure ML, on 2 Ray Train workers."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    from tests.integration.test_distributed import DDP

    distribution = {"type": "pytorch", "process_count_per_instance": 2}
    run = run_job(ws, script_dir({"train.py": DDP}), "python train.py", distribution=distribution)
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=240)
    log = run.log_text()[0]
    assert details["status"] == "completed", (details, log)
    assert [m.step for m in run.get_metric_history("loss")] == [0, 1, 2]  # rank 0's, once a step
    assert "[rank 0] rank 0 world 2 local 0" in log and "[rank 1] rank 1 world 2 local 1" in log
    assert "[rank 0] weights in sync" in log and "[rank 1] weights in sync" in log
    assert JobSubmissionClient(head.address).get_job_status(f"trainyard-{run.id}-1") == JobStatus.SUCCEEDED


RANKS = """
import os, sys, time
keys = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK", "MASTER_PORT")
print(" ".join(f"{k}={os.environ[k]}" for k in keys), flush=True)
open(f"{os.environ['PIDS']}/{os.environ['RANK']}.pid", "w").write(str(os.getpid()))
if os.environ["RANK"] == "1" and os.environ["FAIL"] == "1":
    for _ in range(1200):  # rank 0 is up (printed, its pid written): its stop is what is checked
        if os.path.exists(f"{os.environ['PIDS']}/0.pid"):
            break
        time.sleep(0.1)
    print("rank 1 gives up", flush=True)
    sys.exit(4)
time.sleep(300)
"""


def test_a_failing_rank_fails_the_run_and_ray_train_stops_the_others(ws, script_dir, cluster, tmp_path):
    """Two instances of one process: two ranks. Rank 1 exits 4; rank 0, asleep, is stopped."""
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {"env_vars": {"PIDS": str(pids), "FAIL": "1"}}
    run = run_job(
        ws, script_dir({"r.py": RANKS}), "python r.py", environment=env,
        distribution={"type": "pytorch"}, resources={"instance_count": 2},
    )  # fmt: skip
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=240)
    log = run.log_text()[0]
    assert details["status"] == "failed", log
    assert details["error"] == "rank 1: exit code 4: rank 1 gives up"
    assert "[rank 0] RANK=0 LOCAL_RANK=0 WORLD_SIZE=2 NODE_RANK=0 MASTER_PORT=" in log
    assert "[trainyard] rank 1 exited with code 4: stopping the other ranks" in log
    assert_ended(pids, 2)


def test_a_cancel_stops_every_rank_on_the_cluster(ws, script_dir, cluster, head, tmp_path):
    from ray.job_submission import JobStatus, JobSubmissionClient

    pids = tmp_path / "pids"
    pids.mkdir()
    env = {"env_vars": {"PIDS": str(pids), "FAIL": "0"}}
    distribution = {"type": "pytorch", "process_count_per_instance": 2}
    run = run_job(ws, script_dir({"r.py": RANKS}), "python r.py", environment=env, distribution=distribution)
    wait_for(lambda: "[rank 1] RANK=1" in run.log_text()[0] and "[rank 0] RANK=0" in run.log_text()[0], 240)
    run.cancel()
    details = run.wait_for_completion(show_output=False, raise_on_error=False, timeout_seconds=60)
    assert details["status"] == "canceled"
    assert JobSubmissionClient(head.address).get_job_status(f"trainyard-{run.id}-1") == JobStatus.STOPPED
    assert_ended(pids, 2)


def test_more_ranks_than_the_cluster_has_cpus_fails_the_run_before_submitting(ws, script_dir, cluster, head):
    from ray.job_submission import JobSubmissionClient

    distribution = {"type": "pytorch", "process_count_per_instance": 3}
    run = run_job(ws, script_dir({"train.py": TRAIN}), "python train.py", distribution=distribution)
    details = run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert details["status"] == "failed"
    assert details["error"] == (
        "the job asks for more than the Ray target 'cluster' has: CPU 3 for its 3 ranks (the cluster has 2)"
    )
    assert not_on_ray(JobSubmissionClient(head.address), run.id)  # nothing was left waiting there


def test_instances_without_distribution_on_a_ray_target_are_refused_at_submit(ws, script_dir):
    save_target(ws, "elsewhere", TargetSpec(address=f"http://127.0.0.1:{free_ports(1)[0]}"))
    src = script_dir({"train.py": TRAIN})
    job = make_job(
        code=str(src), command="python train.py", compute="elsewhere", resources={"instance_count": 2}
    )
    with pytest.raises(InvalidInputError, match="instance_count is 2 without distribution"):
        submit_job(ws, job)


def assert_ended(pids, ranks: int) -> None:
    """Every rank wrote its pid, and nothing of those processes' groups is left running."""
    assert sorted(p.name for p in pids.iterdir()) == [f"{k}.pid" for k in range(ranks)]
    for pid_file in pids.iterdir():  # each rank leads a process group of its own
        wait_for(lambda pid=int(pid_file.read_text()): not _group_alive(pid), timeout=30)


SWEEP_TRIAL = """
import sys
from trainyard import Run
Run.get_context().log("y", float(sys.argv[1]))
"""


def test_an_agent_with_an_unreachable_ray_cluster_refuses_to_start():
    unreachable = f"http://127.0.0.1:{free_ports(1)[0]}"
    argv = ["agent", "--server", "http://127.0.0.1:9", "--token", "ty_x", "--ray", unreachable]
    result = CliRunner().invoke(app, argv)
    assert f"cannot reach the Ray cluster at {unreachable}" in str(result.exception), result.output


def test_an_agent_runs_a_server_workspaces_jobs_and_sweep_trials_on_the_cluster(
    ws, script_dir, head, tmp_path, monkeypatch
):
    """The team server: ``trainyard agent --ray`` claims the runs of compute ``cluster`` and runs
    each as a Ray job (a sweep's trials as Ray tasks of its driver's job), which log to the server
    by its URL and the run's job token."""
    from tests.integration.server_helpers import agent_process
    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer

    src = script_dir({"train.py": TRAIN, "trial.py": SWEEP_TRIAL})
    app = create_app(ws)
    with ThreadedServer(app) as server:
        auth = app.state.auth
        auth.add_user("ada", "contributor")
        user_token, _ = auth.create_token("ada")
        agent_token, _ = auth.create_token("ada", kind="agent")
        monkeypatch.setenv("TRAINYARD_TOKEN", user_token)
        try:
            client = Workspace.from_config(server.url)
            job = ty.Run(
                client,
                submit_job(
                    client, make_job(code=str(src), command="python train.py a", compute="cluster")
                ).id,
            )
            trials = ty.ScriptRunConfig(
                source_directory=src,
                script="trial.py",
                arguments=["${{search_space.q}}"],
                compute_target="cluster",
            )
            sweep = ty.Experiment(client, "sweeps").submit(
                ty.SweepConfig(
                    trials, {"q": ty.choice(1.0, 2.0)}, primary_metric="y", goal="maximize", sampling="grid"
                )
            )
            agent = ("--compute", "cluster", "--ray", head.address, "--concurrency", "2")
            with agent_process(
                server.url,
                agent_token,
                tmp_path / "agent.log",
                *agent,
                TRAINYARD_CACHE_DIR=str(tmp_path / "agent-cache"),
            ):
                details = job.wait_for_completion(
                    show_output=False, timeout_seconds=120, raise_on_error=False
                )
                swept = sweep.wait_for_completion(
                    show_output=False, timeout_seconds=120, raise_on_error=False
                )
        finally:
            app.state.job_queue.stop()
    agent_log = (tmp_path / "agent.log").read_text()
    assert details["status"] == "completed", (job.log_text(), agent_log)
    assert ws.store.get_run(job.id).metrics == {"acc": 0.9}
    log = ws.artifacts.get_bytes(f"runs/{job.id}/logs/std_log.txt").decode()
    assert "hello from the cluster ['a']" in log and f"Ray job trainyard-{job.id}-1" in log, log
    assert swept["status"] == "completed", (sweep.log_text(), agent_log)
    ran = {float(t.params["q"]): t for t in ws.store.search_runs(parent_id=sweep.id)}
    assert {q: (t.status, t.tags.get("ray.task"), t.metrics.get("y")) for q, t in ran.items()} == {
        1.0: (ty.RunStatus.COMPLETED, "true", 1.0),
        2.0: (ty.RunStatus.COMPLETED, "true", 2.0),
    }
