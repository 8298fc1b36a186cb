"""Published pipelines end to end: publish snapshots the code, a trigger runs a version with new
inputs (SDK, REST with Azure's body and with a plain one, a schedule), tokens and roles apply."""

from __future__ import annotations

import contextlib
import shutil
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import trainyard as ty
from tests.integration.server_helpers import token_for_app
from tests.integration.test_pipeline_runs import PIPELINE, PREP, TRAIN
from trainyard.artifacts import run_key
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.pipelines.published import TAG_PIPELINE, TAG_VERSION, publish, trigger
from trainyard.pipelines.schedules import TAG_SCHEDULE, Scheduler
from trainyard.status import RunStatus
from trainyard.workspace import Workspace


@pytest.fixture
def project(ws: Workspace, script_dir) -> Path:  # noqa: ANN001 - the conftest's factory
    src = script_dir({"prep.py": PREP, "train.py": TRAIN})
    root = src.parent
    (root / "data.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    (root / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
    return root


def _model(ws: Workspace, run_id: str) -> str:
    run = ty.Run(ws, run_id)
    run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    return ws.artifacts.get_bytes(run_key(run_id, "outputs/model/model.txt")).decode()


def test_a_published_pipeline_runs_from_its_snapshot_with_new_inputs(ws: Workspace, project: Path) -> None:
    first = publish(ws, project / "pipeline.yml", "retrain", description="nightly retrain")
    assert (first.version, ws.store.get_pipeline_endpoint("retrain").default_version) == (1, 1)
    shutil.rmtree(project / "src")  # the steps' code was snapshotted when published
    run_id = trigger(ws, "retrain", inputs={"alpha": "0.9"})
    assert _model(ws, run_id) == "3 rows, alpha 0.9\n"
    tags = ws.store.get_run(run_id).tags
    assert (tags[TAG_PIPELINE], tags[TAG_VERSION]) == ("retrain", "1")
    with pytest.raises(InvalidInputError, match="no input 'beta'"):
        trigger(ws, "retrain", inputs={"beta": "1"})
    with pytest.raises(NotFoundError, match="no published pipeline 'nope'"):
        trigger(ws, "nope")


def test_a_schedule_queues_the_default_version(ws: Workspace, project: Path) -> None:
    publish(ws, project / "pipeline.yml", "retrain")
    publish(ws, project / "pipeline.yml", "retrain", overrides={"inputs.alpha": "0.3"}, make_default=True)
    ws.store.create_schedule(
        "hourly", pipeline="retrain", trigger="every", spec="3600", next_fire=time.time() - 1
    )
    (firing,) = Scheduler(ws).tick()
    assert firing.run_id is not None and firing.error is None
    assert _model(ws, firing.run_id) == "3 rows, alpha 0.3\n"  # version 2, the default
    tags = ws.store.get_run(firing.run_id).tags
    assert (tags[TAG_SCHEDULE], tags[TAG_VERSION]) == ("hourly", "2")


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    from trainyard.server.app import create_app

    with TestClient(create_app(ws), base_url="http://localhost") as running:
        yield running


def test_rest_trigger_takes_azures_body_and_a_plain_one_and_refuses_a_reader(
    ws: Workspace, project: Path, client: TestClient
) -> None:
    publish(ws, project / "pipeline.yml", "retrain")
    app = client.app
    writer = {"Authorization": f"Bearer {token_for_app(app, 'contributor', 'ada')}"}  # type: ignore[arg-type]
    reader = {"Authorization": f"Bearer {token_for_app(app, 'reader', 'rita')}"}  # type: ignore[arg-type]
    url = "/api/v1/pipelines/retrain/runs"

    azure = {"ExperimentName": "from-rest", "ParameterAssignments": {"alpha": 0.7}}
    reply = client.post(url, json=azure, headers=writer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["Id"] == body["run_id"] and (body["pipeline"], body["version"]) == ("retrain", 1)
    run = ws.store.get_run(body["Id"])
    assert ws.store.get_experiment(run.experiment_id).name == "from-rest"
    assert run.tags["trainyard.triggered_by"] == "ada"
    # the server starts nothing itself: the run waits in its queue for an agent
    assert run.status is RunStatus.QUEUED and run.worker is None and run.params["alpha"] == "0.7"

    plain = client.post(url, json={"inputs": {"alpha": "0.8"}}, headers=writer)
    assert plain.status_code == 200, plain.text
    assert ws.store.get_run(plain.json()["run_id"]).params["alpha"] == "0.8"

    runs_before = len(ws.store.search_runs())
    refused = client.post(url, json=azure, headers=reader)
    assert refused.status_code == 403 and "reader" in refused.json()["message"]
    assert client.post(url, json=azure).status_code == 401
    assert len(ws.store.search_runs()) == runs_before  # nothing was queued
    assert client.get("/api/v1/pipelines/retrain", headers=reader).json()["default_version"] == 1

    unknown = client.post("/api/v1/pipelines/nope/runs", json={}, headers=writer)
    assert unknown.status_code == 404 and "no published pipeline 'nope'" in unknown.json()["message"]
    bad_input = client.post(url, json={"ParameterAssignments": {"beta": 1}}, headers=writer)
    assert bad_input.status_code == 400 and "no input 'beta'" in bad_input.json()["message"]
    ws.store.publish_pipeline("junk", {"steps": "none"})  # a raw REST publish of something else
    junk = client.post("/api/v1/pipelines/junk/runs", json={}, headers=writer)
    assert junk.status_code == 400 and "version 1 of pipeline 'junk' is not a prepared pipeline" in junk.text
    typo = client.post(url, json={"Inputs": {"alpha": 1}}, headers=writer)
    assert typo.status_code == 400 and "Inputs" in typo.json()["message"]


def test_on_a_team_server_publish_trigger_and_schedules_run_on_its_agents(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    script_dir,  # noqa: ANN001
) -> None:
    from tests.integration.server_helpers import agent_process, quick_heartbeat_server
    from trainyard.store.server import server_part

    server, served = quick_heartbeat_server(tmp_path, monkeypatch)
    stack = contextlib.ExitStack()
    try:
        auth = server_part(served.store)
        auth.add_user("ada", "contributor")
        monkeypatch.setenv("TRAINYARD_TOKEN", auth.create_token("ada")[0])
        agent_token, _ = auth.create_token("ada", kind="agent")
        stack.enter_context(agent_process(server.url, agent_token, tmp_path / "agent.log"))
        client = Workspace.from_config(server.url)
        src = script_dir({"prep.py": PREP, "train.py": TRAIN})
        (src.parent / "data.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
        (src.parent / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
        assert publish(client, src.parent / "pipeline.yml", "retrain").version == 1
        shutil.rmtree(src)  # the code went to the server's artifact store
        (src.parent / "data.csv").unlink()  # and so did the local data input
        run_id = trigger(client, "retrain", inputs={"alpha": "0.4"})  # the server starts it
        assert _model(client, run_id) == "3 rows, alpha 0.4\n"
        assert client.store.get_run(run_id).tags["trainyard.triggered_by"] == "ada"

        # the server's own scheduler thread fires a schedule made from the client
        client.store.create_schedule(
            "soon", pipeline="retrain", trigger="every", spec="3600", next_fire=time.time() + 1
        )
        deadline = time.time() + 60
        while not client.store.list_schedule_firings("soon") and time.time() < deadline:
            time.sleep(0.2)
        (firing,) = client.store.list_schedule_firings("soon")
        while firing.run_id is None and firing.error is None and time.time() < deadline:
            time.sleep(0.2)
            (firing,) = client.store.list_schedule_firings("soon")
        assert firing.error is None and firing.run_id is not None
        assert _model(client, firing.run_id) == "3 rows, alpha 0.5\n"
        client.close()
    finally:
        stack.close()  # the agent first: its runs are done
        server.stop()
        served.close()
