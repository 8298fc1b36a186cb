"""Compute agents: a job submitted to a server workspace waits queued until an agent process claims
it, runs with its metrics, outputs and log reaching the server; two claimers never share a run;
a killed agent's run is re-queued (max_retries) or failed by the server's reaper."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.test_jobs import wait_for
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import submit_job
from trainyard.liveness import worker_id
from trainyard.server.agent_routes import JobQueue
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.status import RunStatus
from trainyard.store.queue import TASK_TAG
from trainyard.store.server import ServerStore, server_part
from trainyard.workspace import Workspace

TRAIN = """
import os, time
from trainyard import Run
run = Run.get_context()
for step in range(3):
    run.log("loss", 1.0 / (step + 1), step=step)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write("weights")
print("trained on the agent", flush=True)
time.sleep(float(os.environ.get("SLEEP", "0")))
"""


class Server:
    def __init__(self, ws: Workspace, url: str, auth: ServerStore) -> None:
        self.ws = ws
        self.url = url
        self.auth = auth
        auth.add_user("ada", "contributor")
        self.user_token, _ = auth.create_token("ada")
        self.agent_token, _ = auth.create_token("ada", kind="agent")


@pytest.fixture
def server(
    ws: Workspace, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    """The served workspace: ``ws`` (SQLite), or with ``indirect`` param "postgresql" its PostgreSQL twin."""
    if getattr(request, "param", "sqlite") == "postgresql":
        cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
        ws = Workspace.create(ws.root.parent.parent / "pg", store=request.getfixturevalue("pg_uri"))
        (ws.root / "config.yaml").write_text(yaml.safe_dump({**cfg, "store": ws.config.store}))
        ws = Workspace(ws.root)
    app = create_app(ws)
    queue = app.state.job_queue
    with ThreadedServer(app) as running:
        srv = Server(ws, running.url, app.state.auth)
        monkeypatch.setenv("TRAINYARD_TOKEN", srv.user_token)
        yield srv
        queue.stop()
    ws.close()


@pytest.fixture
def agents(server: Server, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def start_agent(
    server: Server, agents: list, tmp_path: Path, compute: str = "gpu", concurrency: int = 2
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINYARD_TOKEN", "TRAINYARD_WORKSPACE")}
    env["TRAINYARD_CACHE_DIR"] = str(tmp_path / "agent-cache")
    cmd = [sys.executable, "-m", "trainyard.cli.main", "agent", "--server", server.url, "--compute", compute]
    cmd += ["--concurrency", str(concurrency), "--token", server.agent_token]
    log = open(tmp_path / f"agent-{len(agents)}.log", "wb")  # noqa: SIM115 - the agent holds it
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    agents.append(proc)
    return proc


def agent_running_a_long_job(
    server: Server, agents: list, tmp_path: Path, run_id: str
) -> subprocess.Popen[bytes]:
    """Start an agent whose jobs sleep (``SLEEP`` is inherited), and wait until it runs ``run_id``."""
    os.environ["SLEEP"] = "600"
    try:
        agent = start_agent(server, agents, tmp_path)
        wait_for(lambda: server.ws.store.get_run(run_id).status == RunStatus.RUNNING, timeout=60)
    finally:
        del os.environ["SLEEP"]
    return agent


def submit(server: Server, src: Path, compute: str = "gpu", **kw: object) -> str:
    client = Workspace.from_config(server.url)
    job = CommandJob(
        code=str(src), command="python train.py", compute=compute, experiment_name="agents", **kw
    )
    return submit_job(client, job).id


@pytest.mark.parametrize(
    "server", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_job_waits_for_an_agent_then_completes_with_metrics_outputs_and_log(
    server, agents, script_dir, tmp_path
):
    src = script_dir({"train.py": TRAIN})
    run_id = submit(server, src)
    time.sleep(1.5)
    assert server.ws.store.get_run(run_id).status == RunStatus.QUEUED  # no agent yet: it waits
    start_agent(server, agents, tmp_path)
    wait_for(lambda: server.ws.store.get_run(run_id).status.is_terminal, timeout=60)
    info = server.ws.store.get_run(run_id)
    assert info.status == RunStatus.COMPLETED, info.error
    assert [m.value for m in server.ws.store.get_metric_history(run_id, "loss")] == [1.0, 0.5, 1.0 / 3]
    assert server.ws.artifacts.get_bytes(f"runs/{run_id}/outputs/model.txt") == b"weights"
    assert b"trained on the agent" in server.ws.artifacts.get_bytes(f"runs/{run_id}/logs/std_log.txt")
    wait_for(lambda: all(t.state == "revoked" for t in server.auth.list_tokens() if t.kind == "job"))
    wait_for(lambda: not (tmp_path / "agent-cache" / "agent" / "gpu" / run_id).exists())  # scratch cleaned
    assert [t.run_id for t in server.auth.list_tokens() if t.kind == "job"] == [run_id]


STEPS = """
import time
for step in range(6):
    print(f"step {step} \u2713", flush=True)
    time.sleep(0.8)
"""


def _steps(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("step ")]


def test_logs_stream_on_a_server_workspace_as_the_agent_appends_them(server, agents, script_dir, tmp_path):
    """``run logs --follow``, ``wait_for_completion(show_output=True)`` and ``run logs`` through the
    server print the log an agent's job writes, each line once; the agent appends to the server's
    log file (same inode all along) instead of replacing it with a new upload every pass."""
    from trainyard.sdk.run import Run

    run_id = submit(server, script_dir({"train.py": STEPS}))
    client = {"TRAINYARD_WORKSPACE": server.url, "TRAINYARD_TOKEN": server.user_token}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}, **client}
    follow = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "run", "logs", run_id, "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    shown = io.StringIO()
    waiter = threading.Thread(
        target=lambda: Run(Workspace.from_config(server.url), run_id).wait_for_completion(
            show_output=True, stream=shown
        )
    )
    waiter.start()
    start_agent(server, agents, tmp_path)
    log = server.ws.artifacts.local_path(f"runs/{run_id}/logs/std_log.txt")
    wait_for(lambda: log.exists() and b"step 0" in log.read_bytes(), timeout=60)
    inode = log.stat().st_ino
    out, err = follow.communicate(timeout=120)
    waiter.join(120)
    assert follow.returncode == 0, err
    expected = [f"step {i} \u2713" for i in range(6)]
    assert _steps(out) == expected, out
    assert _steps(shown.getvalue()) == expected, shown.getvalue()
    wait_for(lambda: b"[trainyard] run completed" in log.read_bytes())  # the worker's last pass
    final = log.read_text()
    assert final.startswith(out) and final.startswith(shown.getvalue())  # the log as it was written
    assert log.stat().st_ino == inode, "the log was replaced, not appended to"
    after = subprocess.run(
        [sys.executable, "-m", "trainyard", "run", "logs", run_id], env=env, capture_output=True, text=True
    )
    assert after.stdout == final and _steps(final) == expected


def test_two_claimers_never_get_the_same_run(store_uri: str, tmp_path: Path):
    ws = Workspace.create(tmp_path / "race", store=store_uri)
    auth = server_part(ws.store)
    auth.add_user("ada", "contributor")
    queue = JobQueue(ws, auth)
    experiment = ws.store.get_or_create_experiment("race")
    created = {ws.store.create_run(experiment.id, compute="gpu").id for _ in range(16)}
    ws.store.create_run(experiment.id, compute="cpu")  # another target's queue: not taken
    ws.store.create_run(experiment.id, compute="gpu", tags={TASK_TAG: "true"})  # a driver's Ray task's
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(index: int) -> None:
        while (got := queue.try_claim("gpu", f"host:{index}:0", "ada")) is not None:
            with lock:
                claimed.append(got.run_id)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(created)
    assert queue.try_claim("gpu", "late", "ada") is None
    assert {t.run_id for t in auth.list_tokens("ada") if t.kind == "job"} == created
    auth.add_user("eve", "contributor")
    with pytest.raises(InvalidInputError, match="not held"):  # another host's agent cannot release it
        queue.release(claimed[1], "elsewhere:1:1", "ada")
    with pytest.raises(InvalidInputError, match="not held"):  # nor another user's agent on its host
        queue.release(claimed[1], "host:9:9", "eve")
    released = queue.release(claimed[1], "host:9:9", "ada")  # its worker ended without an outcome
    assert released.status == "failed" and claimed[1] not in auth.runs_with_job_tokens()
    back = claimed[0]  # its agent vanished while the claim was answered
    queue.unclaim(back)
    info = ws.store.get_run(back)
    assert (info.status, info.attempt, info.worker) == (RunStatus.QUEUED, 2, None)
    assert back not in auth.runs_with_job_tokens()
    assert queue.try_claim("gpu", "late", "ada").run_id == back
    ws.close()


def test_claims_an_agent_does_not_hold_go_back_to_the_queue(tmp_path: Path):
    """The answer to a claim was lost (the agent lives on): its next claim puts the run back."""
    ws = Workspace.create(tmp_path / "lost")
    auth = server_part(ws.store)
    auth.add_user("ada", "contributor")
    queue = JobQueue(ws, auth)
    experiment = ws.store.get_or_create_experiment("lost")
    lost, held, taken_over, other = (ws.store.create_run(experiment.id, compute="gpu").id for _ in range(4))
    agent = "host:1:1"
    for run_id in (lost, held, taken_over):
        assert queue.try_claim("gpu", agent, "ada").run_id == run_id
    ws.store.heartbeat(taken_over, "host:2:2")  # its worker took it over: no longer the agent's
    assert queue.try_claim("gpu", "host:3:3", "ada").run_id == other  # another agent's claim

    assert queue.take_back_lost_claims(agent, {held}) == [lost]
    info = ws.store.get_run(lost)
    assert (info.status, info.worker) == (RunStatus.QUEUED, None)
    assert "never reached the agent" in (info.error or "")
    assert lost not in auth.runs_with_job_tokens()
    assert {ws.store.get_run(r).status for r in (held, taken_over, other)} == {RunStatus.PREPARING}
    assert queue.try_claim("gpu", agent, "ada").run_id == lost
    ws.close()


def test_a_run_whose_claim_answer_was_lost_still_runs_on_its_agent(server, agents, script_dir, tmp_path):
    src = script_dir({"train.py": TRAIN})
    lost = submit(server, src)
    agent = start_agent(server, agents, tmp_path)
    # claimed for the agent before it asks (its Python is still starting): the answer never reached it
    claim = JobQueue(server.ws, server.auth).try_claim("gpu", worker_id(agent.pid), "ada")
    assert claim is not None and claim.run_id == lost
    wait_for(lambda: server.ws.store.get_run(lost).status.is_terminal, timeout=60)
    assert server.ws.store.get_run(lost).status == RunStatus.COMPLETED


def test_killed_agent_run_is_requeued_then_finished_by_another_agent(server, agents, script_dir, tmp_path):
    src = script_dir({"train.py": TRAIN})
    first = submit(server, src, max_retries=1, tags={"kind": "retry"})
    agent = agent_running_a_long_job(server, agents, tmp_path, first)
    agent.send_signal(signal.SIGKILL)
    agent.wait(10)
    wait_for(lambda: server.ws.store.get_run(first).attempt == 2, timeout=30)
    assert "worker lost" in (server.ws.store.get_run(first).error or "")
    start_agent(server, agents, tmp_path)
    wait_for(lambda: server.ws.store.get_run(first).status.is_terminal, timeout=60)
    assert server.ws.store.get_run(first).status == RunStatus.COMPLETED


def test_killed_agent_run_without_retries_is_failed(server, agents, script_dir, tmp_path):
    src = script_dir({"train.py": TRAIN})
    run_id = submit(server, src)
    agent = agent_running_a_long_job(server, agents, tmp_path, run_id)
    agent.send_signal(signal.SIGKILL)
    agent.wait(10)
    wait_for(lambda: server.ws.store.get_run(run_id).status.is_terminal, timeout=30)
    info = server.ws.store.get_run(run_id)
    assert info.status == RunStatus.FAILED and "worker lost" in (info.error or "")


def test_silent_remote_agent_is_reaped_after_the_heartbeat_timeout(tmp_path: Path):
    ws = Workspace.create(tmp_path / "remote")
    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    (ws.root / "config.yaml").write_text(yaml.safe_dump({**cfg, "heartbeat_timeout_seconds": 1.0}))
    ws = Workspace(ws.root)
    auth = server_part(ws.store)
    auth.add_user("ada", "contributor")
    queue = JobQueue(ws, auth)
    experiment = ws.store.get_or_create_experiment("silent")
    job = {"command": "python x.py", "argv": ["python", "x.py"], "max_retries": 1}
    retried = ws.store.create_run(experiment.id, compute="gpu", job=job).id
    failed = ws.store.create_run(experiment.id, compute="gpu").id
    waiting = ws.store.create_run(experiment.id, compute="gpu").id
    for run_id in (retried, failed):
        assert queue.try_claim("gpu", "elsewhere:4242:1", "ada").run_id == run_id  # a host we cannot see
    queue.reap_once()
    assert ws.store.get_run(failed).status == RunStatus.PREPARING  # within the timeout: left alone
    time.sleep(1.3)
    queue.reap_once()
    assert ws.store.get_run(failed).status == RunStatus.FAILED
    assert "no heartbeat" in (ws.store.get_run(failed).error or "")
    again = ws.store.get_run(retried)
    assert (again.status, again.attempt, again.worker) == (RunStatus.QUEUED, 2, None)  # back for an agent
    assert ws.store.get_run(waiting).status == RunStatus.QUEUED  # never claimed: still waiting, not reaped
    assert auth.runs_with_job_tokens() == []
    assert queue.try_claim("gpu", "another:1:1", "ada").run_id == retried
    ws.close()


def test_cancel_from_a_client_stops_the_job_on_its_agent(server, agents, script_dir, tmp_path):
    from trainyard.sdk.run import Run

    src = script_dir({"train.py": TRAIN})
    run_id = submit(server, src)
    agent_running_a_long_job(server, agents, tmp_path, run_id)
    Run(Workspace.from_config(server.url), run_id).cancel("the data was wrong")
    wait_for(lambda: server.ws.store.get_run(run_id).status.is_terminal, timeout=30)
    done = server.ws.store.get_run(run_id)
    assert done.status == RunStatus.CANCELED and done.error == done.cancel_reason == "the data was wrong"
    queued = submit(server, src, compute="nobody-serves-this")  # a queued run is canceled at once
    Run(Workspace.from_config(server.url), queued).cancel()
    done = server.ws.store.get_run(queued)
    assert done.status == RunStatus.CANCELED and done.error == done.cancel_reason == "canceled by the user"


def test_a_sweep_runs_on_one_single_slot_agent(server, agents, script_dir, tmp_path):
    """The sweep's driver takes no slot, so its trials get the agent's only one."""
    import trainyard as ty

    src = script_dir({"train.py": TRAIN})
    client = Workspace.from_config(server.url)
    cfg = ty.ScriptRunConfig(source_directory=src, script="train.py", compute_target="gpu")
    space = {"lr": ty.choice(0.1, 0.2)}
    sweep = ty.SweepConfig(cfg, space, primary_metric="loss", goal="minimize", max_total_trials=2)
    parent = ty.Experiment(client, "sweeps").submit(sweep).id
    start_agent(server, agents, tmp_path, concurrency=1)
    wait_for(lambda: server.ws.store.get_run(parent).status.is_terminal, timeout=120)
    assert server.ws.store.get_run(parent).status == RunStatus.COMPLETED, server.ws.store.get_run(
        parent
    ).error
    trials = server.ws.store.search_runs(parent_id=parent)
    assert sorted(t.status for t in trials) == [RunStatus.COMPLETED] * 2
    assert {t.compute for t in trials} == {"gpu"}
