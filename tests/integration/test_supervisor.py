"""The local supervisor: a killed worker's run is failed or re-queued with nobody looking.

After the kill these tests read the run's row with ``sqlite3`` only, never through trainyard (whose
reads of a run list or a wait reap as they look), so only the supervisor's timer can end the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
from collections.abc import Iterator

import pytest
import yaml

import trainyard as ty
from tests.integration.test_jobs import submit, wait_for
from trainyard.compute import reaper, supervisor
from trainyard.compute.slots import try_lock
from trainyard.status import RunStatus
from trainyard.workspace import Workspace

SLEEPER = """
import os, time
from trainyard import Run
run = Run.get_context()
if os.path.exists(os.environ["MARKER"]):
    print("second attempt done", flush=True)
else:
    open(os.environ["MARKER"], "w").close()
    print("started", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def quick(ws: Workspace) -> Iterator[Workspace]:
    """``ws`` with a 2 s heartbeat timeout: the supervisor reaps every half second."""
    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    (ws.root / "config.yaml").write_text(yaml.safe_dump({**cfg, "heartbeat_timeout_seconds": 2}))
    workspace = Workspace(ws.root)
    yield workspace
    workspace.close()


def row(ws: Workspace, run_id: str) -> tuple[str, int, str | None]:
    """(status, attempt, error) straight from the SQLite file."""
    with sqlite3.connect(ws.root / "trainyard.db") as db:
        return db.execute("SELECT status, attempt, error FROM runs WHERE id = ?", (run_id,)).fetchone()


def kill_worker_once_started(run: ty.Run) -> None:
    wait_for(lambda: "started" in run.log_text()[0])
    os.kill(int(run.refresh().worker.rsplit(":", 2)[1]), signal.SIGKILL)


@pytest.mark.parametrize("retries", [0, 1])
def test_a_killed_workers_run_is_ended_by_the_supervisor_with_nobody_looking(
    quick, script_dir, monkeypatch, retries
):
    monkeypatch.setenv("MARKER", str(quick.root / "marker"))
    run = submit(quick, script_dir({"train.py": SLEEPER}), max_retries=retries)
    kill_worker_once_started(run)
    if retries:  # re-queued, given a new worker by the supervisor, and finished by it
        wait_for(lambda: row(quick, run.id)[0] == "completed", timeout=60)
        assert row(quick, run.id)[1] == 2
    else:
        wait_for(lambda: row(quick, run.id)[0] == "failed", timeout=30)
        assert "worker lost" in row(quick, run.id)[2]
    # with no run left to watch, the supervisor lets go of its lock and exits
    wait_for(lambda: try_lock(supervisor.lock_path(quick)) is not None, timeout=30)


def test_a_supervisor_started_while_another_holds_the_lock_exits_at_once(quick):
    held = try_lock(supervisor.lock_path(quick))
    assert held is not None
    exp = quick.store.get_or_create_experiment("held")
    lost = quick.store.create_run(exp.id, compute="local")
    quick.store.heartbeat(lost.id, "host-we-cannot-see:1:1")
    done = threading.Event()
    threading.Thread(target=lambda: (reaper.supervise(quick, threading.Event()), done.set())).start()
    assert done.wait(30)  # it returned although a run is watched: the other one is in charge
    assert row(quick, lost.id)[0] == "queued"
    held.release()


def test_a_supervisor_watches_until_the_last_run_ends(quick):
    exp = quick.store.get_or_create_experiment("watched")
    run = quick.store.create_run(exp.id, compute="local")
    quick.store.heartbeat(run.id, "host-we-cannot-see:1:1")  # alive as far as we know, until the timeout
    stop = threading.Event()
    thread = threading.Thread(target=reaper.supervise, args=(quick, stop))
    thread.start()
    wait_for(lambda: row(quick, run.id)[0] == "failed", timeout=30)  # silent past the timeout
    thread.join(30)
    assert not thread.is_alive()  # nothing left to watch: it returned by itself
    assert try_lock(supervisor.lock_path(quick)) is not None


def test_a_supervisor_whose_store_is_gone_gives_up(quick, monkeypatch):
    """A dropped database (the workspace folder still there) used to keep it reaping forever."""

    def unreachable(ws):
        raise OSError("the database is gone")

    monkeypatch.setattr(reaper, "watched", unreachable)
    monkeypatch.setattr(reaper, "UNREACHABLE_PASSES", 3)
    thread = threading.Thread(target=reaper.supervise, args=(quick, threading.Event()))
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert try_lock(supervisor.lock_path(quick)) is not None


def test_a_supervisor_of_a_removed_workspace_leaves_at_once(tmp_path):
    """A scratch workspace deleted under its supervisor: no pass is left to try (before, it went on
    failing to open the database for UNREACHABLE_PASSES passes, minutes at the default timeout)."""
    ws = Workspace.create(tmp_path / "scratch")
    ws.store.create_run(ws.store.get_or_create_experiment("e").id, status=RunStatus.RUNNING)
    shutil.rmtree(tmp_path / "scratch")
    thread = threading.Thread(target=reaper.supervise, args=(ws, threading.Event()))
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    ws.close()


def test_a_ray_task_run_whose_parent_ended_is_ended_with_its_reason(quick):
    """A many-models driver that died between making a partition's run and its Ray task leaves it
    queued with no worker: the reaper ends it with the parent's reason (it used to wait forever)."""
    exp = quick.store.get_or_create_experiment("orphans")
    parent = quick.store.create_run(exp.id, name="parent")
    task = quick.store.create_run(exp.id, name="task", parent_id=parent.id, tags={reaper.TASK_TAG: "true"})
    other = quick.store.create_run(exp.id, name="not a task", parent_id=parent.id)
    assert reaper.reap(quick) == []  # the parent is active: its driver or worker ends its tasks
    lost = "lost the Ray cluster of target 'doomed'"
    quick.store.set_status(parent.id, RunStatus.FAILED, error=lost, expected=RunStatus.QUEUED)
    assert reaper.reap(quick) == [task.id]
    assert row(quick, task.id)[::2] == ("failed", lost)
    assert quick.store.get_run(other.id).status == RunStatus.QUEUED  # queued for an agent, as before
