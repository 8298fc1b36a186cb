"""A server workspace's queues: `compute list` shows the agents serving each (seen by their claims),
and a job sent to a queue no agent serves says so when submitted and in `run show`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.server_helpers import agent_process
from tests.integration.test_jobs import wait_for
from trainyard.cli.main import app as cli
from trainyard.compute.queues import NoAgentWarning, fetch
from trainyard.jobs.spec import make_job
from trainyard.jobs.submit import submit_job
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace

NAP = "import time; time.sleep(2)\n"


def _cli(*args: str) -> dict | list:
    result = CliRunner().invoke(cli, [*args, "-o", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_compute_list_shows_the_agents_of_each_queue_and_an_unserved_queue_warns(
    ws: Workspace, script_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = script_dir({"nap.py": NAP})
    app = create_app(ws)
    auth = app.state.auth
    auth.add_user("ada", "contributor")
    token, agent_token = auth.create_token("ada")[0], auth.create_token("ada", kind="agent")[0]
    with ThreadedServer(app) as running:
        monkeypatch.setenv("TRAINYARD_TOKEN", token)
        monkeypatch.setenv("TRAINYARD_WORKSPACE", running.url)
        client = Workspace.from_config(running.url)
        job = make_job(code=str(src), command=["python", "nap.py"], compute="gpu")

        with pytest.warns(NoAgentWarning, match="serving compute 'gpu'; none seen in the last 5 s"):
            waiting = submit_job(client, job)
        shown = _cli("run", "show", waiting.id)
        assert shown["waiting"].startswith(
            "waiting for an agent serving compute 'gpu'; none seen in the last 5 s"
        )
        submitted = subprocess.run(
            [sys.executable, "-m", "trainyard", "job", "submit", "--script", "nap.py", "--source", str(src)]
            + ["--compute", "gpu"],
            env=os.environ,
            capture_output=True,
            text=True,
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "warning: waiting for an agent serving compute 'gpu'" in submitted.stderr

        with agent_process(running.url, agent_token, tmp_path / "agent.log", "--compute", "cpu"):
            wait_for(lambda: fetch(client).serving("cpu"))
            with warnings.catch_warnings():
                warnings.simplefilter("error", NoAgentWarning)
                served = submit_job(
                    client, make_job(code=str(src), command=["python", "nap.py"], compute="cpu")
                )
            wait_for(lambda: fetch(client).serving("cpu")[0].running == 1)
            queues = {q["name"]: q for q in _cli("compute", "list")["queues"]}
            assert set(queues) == {"cpu", "gpu"}
            assert (queues["gpu"]["queued"], queues["gpu"]["agents"]) == (2, [])
            [agent] = queues["cpu"]["agents"]
            assert agent["host"] == socket.gethostname() and agent["id"].startswith(agent["host"] + ":")
            assert queues["cpu"]["running"] == 1 and agent["running"] == 1
            table = CliRunner().invoke(cli, ["compute", "list"])  # the gpu queue's row folds
            assert table.exit_code == 0 and "none seen in the" in table.stdout, table.output
            assert agent["id"].split(":")[1] in table.stdout
            wait_for(lambda: client.store.get_run(served.id).status.is_terminal)
        assert _cli("run", "show", served.id)["waiting"] is None
