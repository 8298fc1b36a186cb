"""The whole team-server story in processes: ``trainyard server`` bootstrapped with a token made in
its database, an agent, a job from a client; the server is killed and restarted mid-job, and the
job still completes with every value it logged before and after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.server_helpers import ServerProcess, agent_process, quick_heartbeat_server
from tests.integration.test_jobs import wait_for
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import submit_job
from trainyard.status import RunStatus
from trainyard.store.server import ServerStore, server_part
from trainyard.workspace import Workspace

TRAIN = """
import os, time
from trainyard import Run
run = Run.get_context()
run.log("phase", 1.0)
open("started", "w").close()
while not os.path.exists(os.environ["RESUME_FLAG"]):
    time.sleep(0.1)
run.log("phase", 2.0)
os.makedirs("outputs", exist_ok=True)
open("outputs/after.txt", "w").write("after the restart")
"""


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServerProcess, Workspace, ServerStore]]:
    server, ws = quick_heartbeat_server(tmp_path, monkeypatch)
    yield server, ws, server_part(ws.store)
    server.stop(kill=True)
    ws.close()


def test_job_on_an_agent_survives_a_server_restart(served, script_dir, tmp_path, monkeypatch):
    server, ws, auth = served
    auth.add_user("ada", "contributor")  # straight in the database, as `trainyard user add --store` does
    user_token, _ = auth.create_token("ada")
    agent_token, _ = auth.create_token("ada", kind="agent")
    flag = tmp_path / "resume"
    agent_log = tmp_path / "agent.log"
    agent_env = {"RESUME_FLAG": str(flag), "TRAINYARD_RETRY_SECONDS": "60"}
    with agent_process(server.url, agent_token, agent_log, **agent_env):
        monkeypatch.setenv("TRAINYARD_TOKEN", user_token)
        src = script_dir({"train.py": TRAIN})
        job = CommandJob(code=str(src), command="python train.py", compute="local")
        run_id = submit_job(Workspace.from_config(server.url), job).id
        wait_for(lambda: ws.store.get_metric_history(run_id, "phase") != [], timeout=60)

        server.stop(kill=True)  # mid-job: the job, its worker and the agent keep retrying
        time.sleep(1.0)
        server.start()
        flag.touch()

        wait_for(lambda: ws.store.get_run(run_id).status.is_terminal, timeout=90)
        info = ws.store.get_run(run_id)
        assert info.status == RunStatus.COMPLETED, (info.error, agent_log.read_text()[-2000:])
        assert [m.value for m in ws.store.get_metric_history(run_id, "phase")] == [1.0, 2.0]
        assert ws.artifacts.get_bytes(f"runs/{run_id}/outputs/after.txt") == b"after the restart"
