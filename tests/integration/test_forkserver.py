"""The fork server: local jobs forked from a warm process, a fallback when it is gone, nothing
of the submitter's inherited, cancel as before, and a second worker that leaves a run alone."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import trainyard as ty
from tests.integration.test_jobs import submit, wait_for
from trainyard.compute import forkserver, supervisor
from trainyard.compute.local import LocalCompute
from trainyard.compute.slots import try_lock
from trainyard.liveness import worker_alive
from trainyard.workspace import Workspace

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc")

SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(120)\n"


def server_pids(root: Path) -> list[int]:
    """The live fork servers of the workspace at ``root``."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"trainyard.compute.forkserver" in argv and os.fsencode(root) in argv:
            pids.append(int(proc.name))
    return pids


def answering(root: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(forkserver.socket_path(root)))  # the server drops a request it cannot read
        except OSError:
            return False
    return True


def start_server(root: Path) -> None:
    supervisor.start_detached(forkserver.lock_path(root), forkserver.__name__, root)
    wait_for(lambda: answering(root))


def worker_pid(run: ty.Run) -> int:
    return int(run.refresh().worker.rsplit(":", 2)[1])


def forked(pid: int) -> bool:
    return b"trainyard.compute.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.fixture
def fws(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """``ws`` with a fork server that waits long enough for a test, stopped after it."""
    monkeypatch.setenv(forkserver.IDLE_VAR, "30")
    start_server(ws.root)
    yield ws
    for pid in server_pids(ws.root):  # and its workers, which have its argv: one may have ended
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not server_pids(ws.root))


def test_a_job_through_the_fork_server_completes_with_its_logs(fws, script_dir):
    parent = "import os\nprint('worker:', open(f'/proc/{os.getppid()}/cmdline').read().split(chr(0)))\n"
    run = submit(fws, script_dir({"train.py": parent}))
    assert run.wait_for_completion()["status"] == "completed"
    assert "'trainyard.compute.forkserver'" in run.log_text()[0]  # the worker runs under the server's argv
    assert "Traceback" not in (fws.jobs_dir / run.id / "worker.log").read_text()
    wait_for(lambda: worker_alive(run.refresh().worker) is False)  # the worker has ended


def test_a_forked_worker_holds_nothing_of_the_submitter_or_server_and_cancel_stops_it(fws, script_dir):
    listening = socket.create_server(("127.0.0.1", 0))
    try:
        run = submit(fws, script_dir({"train.py": SLEEPER}))
        wait_for(lambda: "started" in run.log_text()[0])
        pid = worker_pid(run)
        assert forked(pid)
        fds = Path(f"/proc/{pid}/fd")
        targets = {os.readlink(fd) for fd in fds.iterdir()}
        assert f"socket:[{os.fstat(listening.fileno()).st_ino}]" not in targets
        assert str(forkserver.lock_path(fws.root)) not in targets
        assert os.readlink(fds / "1") == str(fws.jobs_dir / run.id / "worker.log")
        run.cancel()
        assert run.wait_for_completion(raise_on_error=False, timeout_seconds=30)["status"] == "canceled"
        wait_for(lambda: worker_alive(run.refresh().worker) is False)
    finally:
        listening.close()


def test_a_job_gets_the_submitters_environment_not_the_servers(fws, script_dir, monkeypatch):
    monkeypatch.setenv("ONLY_THE_SUBMITTER_HAS_IT", "yes")
    run = submit(
        fws, script_dir({"train.py": "import os\nprint('env', os.environ['ONLY_THE_SUBMITTER_HAS_IT'])\n"})
    )
    assert forked(worker_pid(run))
    assert run.wait_for_completion()["status"] == "completed"
    assert "env yes" in run.log_text()[0]


def test_a_killed_fork_server_is_replaced_and_its_run_started_without_it(fws, script_dir):
    (server,) = server_pids(fws.root)
    os.kill(server, signal.SIGKILL)
    wait_for(lambda: not server_pids(fws.root))
    run = submit(fws, script_dir({"train.py": SLEEPER}))  # its socket is left, and refuses
    wait_for(lambda: "started" in run.log_text()[0])
    assert not forked(worker_pid(run))  # a new interpreter, and a new fork server for the next run
    wait_for(lambda: answering(fws.root))
    again = submit(fws, script_dir({"train.py": "print('forked again')\n"}))
    assert forked(worker_pid(again))
    assert again.wait_for_completion()["status"] == "completed"
    run.cancel()
    assert run.wait_for_completion(raise_on_error=False, timeout_seconds=30)["status"] == "canceled"


def test_a_second_worker_of_a_queued_run_leaves_it_to_the_live_first(fws, script_dir):
    cfg = yaml.safe_load((fws.root / "config.yaml").read_text())
    (fws.root / "config.yaml").write_text(yaml.safe_dump({**cfg, "local": {"concurrency": 1}}))
    ws = Workspace(fws.root)
    slot = try_lock(ws.root / "compute" / "local" / "slot-0.lock")  # the run waits, queued
    assert slot is not None
    try:
        src = script_dir({"train.py": "print('ran once', flush=True)\n"})
        run = submit(ws, src)
        first = run.refresh().worker
        LocalCompute().submit(ws, run.refresh())
        wait_for(lambda: run.log_text()[0].count("waiting for a free local slot") == 2)
        time.sleep(1.0)  # two heartbeats of the waiting pair: the second's must not rename the run either
        assert run.refresh().worker == first and worker_alive(first)
    finally:
        slot.release()
    assert run.wait_for_completion()["status"] == "completed"
    assert run.log_text()[0].count("ran once") == 1
    ws.close()


def test_a_workspace_too_deep_for_a_unix_socket_runs_its_jobs_without_one(tmp_path, script_dir, monkeypatch):
    root = tmp_path / ("d" * 100)
    root.mkdir()
    monkeypatch.chdir(root)
    ws = Workspace.create(root)
    assert len(os.fsencode(forkserver.socket_path(ws.root))) > forkserver.MAX_UNIX_PATH
    run = submit(ws, script_dir({"train.py": "print('ran anyway')\n"}))
    assert run.wait_for_completion()["status"] == "completed"
    assert "ran anyway" in run.log_text()[0]
    assert not forkserver.lock_path(ws.root).exists() and not server_pids(ws.root)
    ws.close()


def test_a_worker_starts_from_the_servers_opened_workspace_while_its_config_is_unchanged(ws, monkeypatch):
    from trainyard.compute import worker
    from trainyard.workspace import CONFIG

    opened = forkserver._opened_workspace(ws.root)
    assert opened is not None
    used: list[Workspace] = []
    monkeypatch.setattr(worker.Worker, "run", lambda self: used.append(self.ws))
    worker.main([str(ws.root), "r1"], opened=opened)
    assert used[-1] is opened
    config = ws.root / CONFIG
    config.write_text(config.read_text() + "# edited\n")
    worker.main([str(ws.root), "r2"], opened=opened)
    assert used[-1] is not opened and used[-1].root == ws.root
