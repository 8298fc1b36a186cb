"""Many models on a Ray target: every partition a Ray task of the driver's one Ray job, against a
real local Ray head (2 CPUs on 127.0.0.1, this module's own, stopped after it)."""

from __future__ import annotations

import pandas as pd
import pytest

import trainyard as ty
from trainyard.status import RunStatus

pytest.importorskip("ray.job_submission", reason="Ray is not installed (the ray extra)")

from tests.integration import test_ray_compute as ray_compute  # noqa: E402 - after the skip
from tests.integration.test_many_models import SCRIPT, sales, script_config  # noqa: E402
from trainyard.compute.ray_target import start_local_head, stop_local_head  # noqa: E402
from trainyard.compute.targets import TargetSpec, save_target  # noqa: E402

pytestmark = pytest.mark.timeout(300)
head = ray_compute.head  # this module's own head (a module-scoped fixture)
cluster = ray_compute.cluster
wait_for = ray_compute.wait_for

# store 0 trains; store 1 refuses its rows (exit code 1); store 2 kills its own process: the Ray worker
KILLER = SCRIPT.replace(
    "rows = pd.read_csv(a.data)\n",
    "rows = pd.read_csv(a.data)\nimport os, signal\n"
    "if rows['y'].mean() < 0: os.kill(os.getpid(), signal.SIGKILL)\n",
)
SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(300)\n"
SLEEP_COMMAND = "python sleep.py ${{inputs.data}} ${{outputs.model}}"


def test_partitions_run_as_tasks_of_one_ray_job_and_fail_alone_then_a_retry_trains_one(
    ws, script_dir, cluster, head
):
    from ray.job_submission import JobSubmissionClient

    config = script_config(script_dir({"train.py": KILLER}), sales(bad_store=1), compute=cluster)
    run = ty.submit_many_models(ws, config)
    run.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    info = run.refresh()
    assert info.status == RunStatus.FAILED, run.log_text()
    assert "2 of 3 partition(s) failed: store=1, store=2" in info.error
    children = {c.tags["many_models.partition"]: c for c in ws.store.search_runs(parent_id=run.id)}
    assert {c.tags["ray.task"] for c in children.values()} == {"true"}
    good, refused, killed = children["store=0"], children["store=1"], children["store=2"]
    assert good.status == RunStatus.COMPLETED and good.metrics["r2"] > 0.99
    assert refused.error == "exit code 1: negative x values: refusing this partition"
    assert killed.status == RunStatus.FAILED
    assert killed.error.startswith("its Ray task failed: "), killed.error
    (version,) = ws.store.list_model_versions("sales-many")
    assert version.run_id == good.id and version.tags["partition.store"] == "0"
    assert run.get_leaderboard()["model"][0] == f"sales-many:{version.version}"
    jobs = [j for j in JobSubmissionClient(head.address).list_jobs() if j.metadata.get("trainyard_run")]
    assert [j.metadata["trainyard_run"] for j in jobs] == [run.id]  # one Ray job: the driver's

    # a retry of the refused partition with the fix runs as a Ray job of its own, as any command
    fixed = script_dir({"train.py": SCRIPT.replace('sys.exit("negative', 'print("negative')})
    (child,) = run.retry(
        "store=1", config=script_config(fixed, sales(), compute=cluster), timeout_seconds=120
    )
    assert child.get_status() == "completed" and child.tags["many_models.attempt"] == "2"
    assert sorted(v.tags["partition.store"] for v in ws.store.list_model_versions("sales-many")) == ["0", "1"]


def test_automl_partitions_run_as_tasks_of_one_ray_job_and_one_with_too_few_rows_fails_alone(
    ws, cluster, head
):
    from ray.job_submission import JobSubmissionClient

    two = sales().query("store < 2")
    tiny = pd.DataFrame({"store": 3, "x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    config = ty.ManyModelsConfig(
        training_data=pd.concat([two, tiny], ignore_index=True),
        partition_column_names=["store"],
        label_column_name="y",
        task="regression",
        experiment_timeout_minutes=1,
        iterations=2,
        max_concurrent_iterations=4,  # each task has one CPU: one trial at a time
        allowed_models=["ElasticNet"],
        enable_ensembling=False,
        model_explainability=False,
        max_concurrent_partitions=3,
        compute=cluster,
        experiment_name="sales-automl",
        model_name="stores",
    )
    run = ty.submit_many_models(ws, config)
    run.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    info = run.refresh()
    assert info.status == RunStatus.FAILED and "1 of 3 partition(s) failed: store=3" in info.error
    children = {c.tags["many_models.partition"]: c for c in ws.store.search_runs(parent_id=run.id)}
    assert {c.tags["ray.task"] for c in children.values()} == {"true"}
    assert {c.compute for c in children.values()} == {cluster}
    assert [children[k].status for k in ("store=0", "store=1")] == [RunStatus.COMPLETED] * 2
    assert {children[k].params["max_concurrent_iterations"] for k in ("store=0", "store=1")} == {"1"}
    assert "training_data has 3 rows, too few" in children["store=3"].error
    versions = ws.store.list_model_versions("stores")
    assert sorted(v.tags["partition.store"] for v in versions) == ["0", "1"]
    board = run.get_leaderboard()
    assert board["status"] == ["completed", "completed", "failed"]
    assert all(v > 0.9 for v in board["spearman_correlation"][:2])
    jobs = {j.metadata.get("trainyard_run") for j in JobSubmissionClient(head.address).list_jobs()}
    assert run.id in jobs and not jobs & {c.id for c in children.values()}  # one Ray job: the driver's


def test_cancel_stops_the_partitions_tasks(ws, script_dir, cluster, head):
    from ray.util.state import list_tasks

    config = script_config(script_dir({"sleep.py": SLEEPER}), sales(), compute=cluster, command=SLEEP_COMMAND)
    run = ty.submit_many_models(ws, config)

    def running() -> list[ty.RunInfo]:
        return [c for c in ws.store.search_runs(parent_id=run.id) if c.status == RunStatus.RUNNING]

    wait_for(lambda: len(running()) == 2, timeout=120)  # two CPUs: the third waits on the cluster
    run.cancel()
    run.wait_for_completion(show_output=False, timeout_seconds=60, raise_on_error=False)
    assert run.refresh().status == RunStatus.CANCELED
    children = ws.store.search_runs(parent_id=run.id)
    assert children and {c.status for c in children} == {RunStatus.CANCELED}
    assert {c.error for c in children} == {"the many-models run was canceled"}

    def tasks_left() -> list[object]:
        return list_tasks(
            address=head.address, filters=[("name", "=", "run_partition"), ("state", "=", "RUNNING")]
        )

    wait_for(lambda: not tasks_left(), timeout=30)


def test_a_head_stopped_mid_run_fails_the_parent_and_its_partitions_with_the_reason(ws, script_dir):
    """A head of its own (the module's must live on), stopped while the partitions sleep."""
    doomed = start_local_head(num_cpus=1)
    assert doomed.local is not None
    try:
        save_target(ws, "doomed", TargetSpec(address=doomed.address))
        config = script_config(
            script_dir({"sleep.py": SLEEPER}), sales(), compute="doomed", command=SLEEP_COMMAND
        )
        run = ty.submit_many_models(ws, config)
        wait_for(
            lambda: any(c.status == RunStatus.RUNNING for c in ws.store.search_runs(parent_id=run.id)), 120
        )
    finally:
        stop_local_head(doomed.local)
    run.wait_for_completion(show_output=False, timeout_seconds=90, raise_on_error=False)
    info = run.refresh()
    assert info.status == RunStatus.FAILED and info.error.startswith(
        "lost the Ray cluster of target 'doomed'"
    )
    children = ws.store.search_runs(parent_id=run.id)
    assert children and {c.status for c in children} == {RunStatus.FAILED}
    # the driver saw its tasks' node die, or died with the head first and the parent's worker ended them
    node_dead = "its Ray task failed: Task failed because the node it was running on is dead"
    assert all(c.error == info.error or c.error.startswith(node_dead) for c in children), children


MM_LOST = "its Ray task was lost with the many-models driver's previous attempt"


def test_a_driver_killed_hard_fails_the_partitions_lost_with_it_and_its_retry_runs_them_again(
    ws, script_dir, cluster, head, tmp_path
):
    """The run's local worker and its Ray job's driver are SIGKILLed while two partitions train:
    the retry's driver fails them, saying so, runs them again (attempt 2) and the third once."""
    import os
    import signal

    from ray.job_submission import JobSubmissionClient

    (tmp_path / "ran").mkdir()
    wait = (
        "import os, time\n"
        f"open(os.path.join({str(tmp_path / 'ran')!r}, str(os.getpid())), 'w').close()\n"
        f"while not os.path.exists({str(tmp_path / 'again')!r}): time.sleep(0.2)\n"
    )
    script = SCRIPT.replace("rows = pd.read_csv(a.data)\n", wait + "rows = pd.read_csv(a.data)\n")
    config = script_config(script_dir({"train.py": script}), sales(), compute=cluster)
    config.settings = config.settings.model_copy(update={"max_concurrent_partitions": 2})
    run = ty.submit_many_models(ws, config)
    wait_for(lambda: len(list((tmp_path / "ran").iterdir())) == 2, 120)  # two in flight, the third not made
    driver = JobSubmissionClient(head.address).get_job_info(f"trainyard-{run.id}-1").driver_info
    os.kill(int(ws.store.get_run(run.id).worker.rsplit(":", 2)[1]), signal.SIGKILL)
    os.kill(int(driver.pid), signal.SIGKILL)
    (tmp_path / "again").touch()
    run.wait_for_completion(show_output=False, timeout_seconds=180, raise_on_error=False)
    info = run.refresh()
    assert info.status == RunStatus.COMPLETED and info.attempt == 2, run.log_text()
    children = ws.store.search_runs(parent_id=run.id)
    lost = [c for c in children if c.status == RunStatus.FAILED]
    assert len(lost) == 2 and {c.error for c in lost} == {MM_LOST}, [(c.status, c.error) for c in children]
    again = {c.tags["many_models.partition"] for c in children if c.tags["many_models.attempt"] == "2"}
    assert again == {c.tags["many_models.partition"] for c in lost}
    assert sorted(v.tags["partition.store"] for v in ws.store.list_model_versions("sales-many")) == [
        "0",
        "1",
        "2",
    ]
