"""What a step's orchestration rests on: wake-ups from a run's end to its waiters, the zygote a
driver's command becomes, and a store's kept connections across a fork."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trainyard.compute.wakeup import Waiter, notify_ended
from trainyard.compute.zygote import runs_in_zygote
from trainyard.status import RunStatus
from trainyard.store.sql.store import SqlStore

linux = pytest.mark.skipif(sys.platform != "linux", reason="abstract sockets, fork and pidfds")


@linux
def test_a_runs_end_wakes_its_waiter_and_its_parents(tmp_path: Path) -> None:
    with Waiter(tmp_path, "end", "r1") as end, Waiter(tmp_path, "child", "p1") as child:
        assert end.bound and child.bound
        assert not end.wait(0.0) and not child.wait(0.0)  # nothing sent yet
        notify_ended(tmp_path, "r1", "p1")
        assert end.wait(5.0) and child.wait(5.0)
        assert not end.wait(0.0)  # consumed
        notify_ended(tmp_path / "other", "r1", "p1")  # another workspace's run of the same id
        assert not end.wait(0.0)


@linux
def test_a_second_waiter_on_one_run_polls_instead(tmp_path: Path) -> None:
    with Waiter(tmp_path, "end", "r1") as first, Waiter(tmp_path, "end", "r1") as second:
        assert first.bound and not second.bound
        assert second.poll_seconds(0.1) == 0.1  # it must keep reading the store often
        assert first.poll_seconds(0.05) > 0.05
        notify_ended(tmp_path, "r1", None)
        assert first.wait(5.0)
        assert not second.wait(0.0)
    notify_ended(tmp_path, "r1", None)  # nobody listens: nothing happens


def test_only_trainyards_drivers_run_in_a_zygote() -> None:
    assert runs_in_zygote(["python", "-m", "trainyard.pipelines.driver"], True)
    assert runs_in_zygote([sys.executable, "-m", "trainyard.sweep.driver", "x"], True)
    assert not runs_in_zygote(["python", "-m", "trainyard.pipelines.driver"], False)  # its own python
    assert not runs_in_zygote(["python", "-m", "mymodule"], True)
    assert not runs_in_zygote(["python", "train.py"], True)


ZYGOTE_USER = """
import os, sys
from trainyard.compute.zygote import Zygote
log_path, work, mode = sys.argv[1:4]
with open(log_path, "ab", buffering=0) as log:
    zygote = Zygote(log, lambda: None)
    if mode == "unused":
        zygote.close()
    else:
        zygote.start(["python", "-m", "zmod", "a", "b"], {**os.environ, "ZVAR": "z"}, work)
        zygote.wait(60)
print("exit", zygote.returncode, zygote.poll())
"""


def zygote_in_a_new_process(tmp_path: Path, mode: str) -> str:
    """Run ``ZYGOTE_USER`` in a new interpreter: a zygote is forked only by a single-threaded one."""
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", ZYGOTE_USER, str(tmp_path / "log.txt"), str(work), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@linux
def test_a_zygote_becomes_the_command_in_its_own_session(tmp_path: Path) -> None:
    (tmp_path / "zmod.py").write_text(
        textwrap.dedent(
            """
            import os, sys
            print(f"args {sys.argv[1:]} cwd {os.getcwd()} env {os.environ['ZVAR']}")
            print(f"pgid {os.getpgid(0) == os.getpid()} stdin {sys.stdin.read() == ''}", file=sys.stderr)
            sys.exit(3)
            """
        )
    )
    assert "exit 3 3" in zygote_in_a_new_process(tmp_path, "start")
    text = (tmp_path / "log.txt").read_text()
    assert f"args ['a', 'b'] cwd {tmp_path / 'work'} env z" in text
    assert "pgid True stdin True" in text


@linux
def test_an_unused_zygote_goes_away(tmp_path: Path) -> None:
    assert "exit 0 0" in zygote_in_a_new_process(tmp_path, "unused")
    assert (tmp_path / "log.txt").read_text() == ""


@linux
def test_a_forked_child_uses_its_own_connections(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run = store.create_run(store.get_or_create_experiment("e").id)
    assert store.get_run(run.id).status == RunStatus.QUEUED  # the pool holds a connection now
    pid = os.fork()
    if pid == 0:  # the child writes through connections of its own, then leaves at once
        code = 1
        try:
            store.set_status(run.id, RunStatus.PREPARING)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get_run(run.id).status == RunStatus.PREPARING  # the parent's connections still work
    store.set_status(run.id, RunStatus.RUNNING)
    assert store.get_run(run.id).status == RunStatus.RUNNING
    store.close()
