"""A team server killed (SIGKILL) and started again on the same port and database while a sweep and
while an AutoML job run on an agent (RELIABILITY row 20): each finishes, no trial is counted twice,
and no trial that had ended before the kill is changed by the restart.

The server's own database is read directly (``ws.store`` of its folder), so nothing here reaps.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sklearn.datasets import load_iris

import trainyard as ty
from tests.integration.server_helpers import ServerProcess, agent_process, quick_heartbeat_server
from tests.integration.test_jobs import wait_for
from trainyard.automl.trials import TRIAL_TAG
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.store.server import server_part
from trainyard.workspace import Workspace

TRIAL = """
import argparse, time
from trainyard import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
run = Run.get_context()
time.sleep(0.5)
run.log("score", -(p.parse_args().x - 2) ** 2)
"""


@dataclass
class Team:
    server: ServerProcess
    ws: Workspace  # the server's folder: its database, read directly
    client: Workspace  # a user's view through the server

    def children(self, run_id: str) -> list[RunInfo]:
        return self.ws.store.search_runs(parent_id=run_id)

    def kill_and_restart_once(self, parent_id: str, ended: int) -> dict[str, tuple[RunStatus, float | None]]:
        """Once ``ended`` trials ended (and the parent did not), SIGKILL the server and start it
        again; returns the trials that had ended before, as (status, end_time)."""
        wait_for(lambda: sum(k.status.is_terminal for k in self.children(parent_id)) >= ended, timeout=120)
        assert not self.ws.store.get_run(parent_id).status.is_terminal, "finished before the kill"
        self.server.stop(kill=True)
        before = {k.id: (k.status, k.end_time) for k in self.children(parent_id) if k.status.is_terminal}
        time.sleep(1.0)
        self.server.start()
        return before

    def finished(self, parent_id: str) -> RunInfo:
        wait_for(lambda: self.ws.store.get_run(parent_id).status.is_terminal, timeout=180)
        return self.ws.store.get_run(parent_id)


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    server, ws = quick_heartbeat_server(tmp_path, monkeypatch)
    auth = server_part(ws.store)
    auth.add_user("ada", "contributor")
    user_token, _ = auth.create_token("ada")
    agent_token, _ = auth.create_token("ada", kind="agent")
    monkeypatch.setenv("TRAINYARD_TOKEN", user_token)
    agent_env = {"TRAINYARD_RETRY_SECONDS": "60"}
    with agent_process(server.url, agent_token, tmp_path / "agent.log", "--concurrency", "3", **agent_env):
        yield Team(server, ws, Workspace.from_config(server.url))
    server.stop(kill=True)
    ws.close()


def assert_ended_trials_kept(team: Team, parent_id: str, before: dict) -> None:
    after = {k.id: (k.status, k.end_time) for k in team.children(parent_id)}
    assert {run_id: after[run_id] for run_id in before} == before


def test_a_sweep_survives_a_server_restart(team: Team, script_dir):
    src = script_dir({"train.py": TRIAL})
    cfg = ty.ScriptRunConfig(source_directory=src, script="train.py")
    sweep = ty.SweepConfig(
        cfg,
        {"x": ty.uniform(0, 4)},
        primary_metric="score",
        goal="maximize",
        max_total_trials=6,
        max_concurrent_trials=2,
        seed=0,
    )
    parent = ty.Experiment(team.client, "restart").submit(sweep).id
    before = team.kill_and_restart_once(parent, ended=2)

    info = team.finished(parent)
    kids = team.children(parent)
    assert info.status == RunStatus.COMPLETED, info.error
    assert sorted(int(k.tags["sweep.trial"]) for k in kids) == list(range(6))  # each trial once
    assert {k.status for k in kids} == {RunStatus.COMPLETED}
    assert_ended_trials_kept(team, parent, before)


def test_an_automl_job_survives_a_server_restart(team: Team):
    cfg = ty.AutoMLConfig(
        task="classification",
        training_data=load_iris(as_frame=True).frame,
        label_column_name="target",
        n_cross_validations=2,
        experiment_timeout_minutes=0.5,
        iterations=8,
        allowed_models=["LogisticRegression", "RandomForest"],
        enable_ensembling=False,
        model_explainability=False,
    )
    parent = ty.Experiment(team.client, "restart").submit(cfg).id
    before = team.kill_and_restart_once(parent, ended=2)

    info = team.finished(parent)
    kids = team.children(parent)
    assert info.status == RunStatus.COMPLETED, info.error
    numbers = Counter(k.tags[TRIAL_TAG] for k in kids)
    assert numbers and max(numbers.values()) == 1  # no trial recorded twice
    assert all(k.status.is_terminal for k in kids)
    assert "automl.best_run_id" in info.tags and info.tags["automl.best_run_id"] in {k.id for k in kids}
    assert_ended_trials_kept(team, parent, before)


def test_a_pipeline_survives_a_server_restart(team: Team, script_dir):
    from trainyard.pipelines import load_pipeline

    src = script_dir({"step.py": "import sys, time\ntime.sleep(0.5)\nprint(sys.argv[1:])\n"})
    jobs = {
        f"s{i}": {
            "code": "src",
            "command": f"python step.py {i} ${{{{outputs.o}}}}" + (" ${{inputs.i}}" if i else ""),
            "outputs": {"o": {"type": "uri_folder"}},
            **({"inputs": {"i": f"${{{{parent.jobs.s{i - 1}.outputs.o}}}}"}} if i else {}),
        }
        for i in range(5)
    }
    (src.parent / "p.yml").write_text(yaml.safe_dump({"type": "pipeline", "jobs": jobs}))
    parent = ty.Experiment(team.client, "restart").submit(load_pipeline(src.parent / "p.yml")).id
    before = team.kill_and_restart_once(parent, ended=2)

    info = team.finished(parent)
    kids = team.children(parent)
    assert info.status == RunStatus.COMPLETED, info.error
    assert Counter(k.tags["pipeline.step"] for k in kids) == {f"s{i}": 1 for i in range(5)}  # each once
    assert {k.status for k in kids} == {RunStatus.COMPLETED}
    assert_ended_trials_kept(team, parent, before)
