"""Data asset inputs of jobs: pinned at submit, a local path for the command, lineage recorded;
on a server workspace an agent downloads the version (hash-checked) into the job's folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import trainyard as ty
from tests.integration.server_helpers import agent_process, quick_heartbeat_server
from tests.integration.test_jobs import wait_for
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job
from trainyard.status import RunStatus
from trainyard.store.server import server_part
from trainyard.workspace import Workspace

READ = """
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--data")
p.add_argument("--folder")
a = p.parse_args()
os.makedirs("outputs", exist_ok=True)
json.dump({"data": a.data, "text": open(a.data).read(), "folder": sorted(os.listdir(a.folder))},
          open("outputs/seen.json", "w"))
"""


def _job_file(tmp_path: Path, src: Path, data: object, folder: object) -> Path:
    spec = {
        "code": str(src),
        "command": "python read.py --data ${{inputs.data}} --folder ${{inputs.folder}}",
        "inputs": {"data": data, "folder": folder},
        "experiment_name": "data-inputs",
    }
    path = tmp_path / "job.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _assets(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "churn.csv").write_text("a\n1\n")
    ty.Data.create(ws, "churn", tmp_path / "churn.csv", type="table")
    (tmp_path / "churn.csv").write_text("a\n2\n")
    ty.Data.create(ws, "churn", tmp_path / "churn.csv", type="table")
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "x.png").write_bytes(b"png")
    ty.Data.create(ws, "imgs", tmp_path / "imgs")


def test_an_embedded_job_reads_the_pinned_version_in_place(ws, script_dir, tmp_path):
    _assets(ws, tmp_path)
    folder = {"type": "uri_folder", "path": "azureml:imgs:1", "mode": "download"}
    job = load_job(_job_file(tmp_path, script_dir({"read.py": READ}), "data:churn@latest", folder))
    run = submit_job(ws, job)
    assert ty.Run(ws, run.id).wait_for_completion(show_output=False)["status"] == "completed"
    seen = json.loads(ws.artifacts.get_bytes(f"runs/{run.id}/outputs/seen.json"))
    stored = ty.Data(ws, "churn:2").record.prefix
    assert seen["text"] == "a\n2\n" and seen["data"] == str(ws.artifacts.local_path(f"{stored}/churn.csv"))
    assert seen["folder"] == ["x.png"]
    assert run.job["inputs"]["data"]["asset"] == "churn:2"
    assert run.job["inputs"]["folder"]["path"] == "data://imgs/1"  # mode: download, fetched by the worker
    params = ws.store.get_run(run.id).params
    assert (params["data"], params["folder"]) == ("azureml:churn:2", "azureml:imgs:1")
    reads = ws.store.list_data_lineage(run_id=run.id)
    assert sorted((r.name, r.version, r.direction) for r in reads) == [
        ("churn", 2, "read"),
        ("imgs", 1, "read"),
    ]
    ty.Data.create(ws, "churn", tmp_path / "imgs" / "x.png")  # a newer latest does not move the pinned run
    assert ws.store.get_run(run.id).job["inputs"]["data"]["asset"] == "churn:2"
    ws.store.create_model_version("m", source="s", files=["models/m/u/f"], run_id=run.id)
    assert _cli("model", "show", "m:1", "-o", "json")["data"] == ["churn:2", "imgs:1"]
    used = _cli("data", "show", "churn:2", "-o", "json")
    assert used["models"] == ["m:1"] and [r["run_id"] for r in used["runs"]] == [run.id]


def _cli(*args: str) -> dict:
    """``trainyard ARGS`` in the workspace's folder (the fixture's current directory), as JSON."""
    out = subprocess.run([sys.executable, "-m", "trainyard", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_bad_data_inputs_fail_at_submit(ws, script_dir, tmp_path):
    _assets(ws, tmp_path)
    src = script_dir({"read.py": READ})
    with pytest.raises(NotFoundError, match="version 7 of data asset 'churn'"):
        submit_job(ws, load_job(_job_file(tmp_path, src, "data:churn:7", "data:imgs")))
    stored = ty.Data(ws, "imgs:1").record.prefix
    ws.artifacts.put_bytes(f"{stored}/x.png", b"changed")
    with pytest.raises(InvalidInputError, match="imgs:1.*content hash mismatch"):
        submit_job(ws, load_job(_job_file(tmp_path, src, "data:churn:1", "data:imgs")))
    assert ws.store.search_runs([ws.store.get_or_create_experiment("data-inputs").id]) == []


def test_an_agent_downloads_a_pinned_version(tmp_path, monkeypatch, script_dir):
    server, ws = quick_heartbeat_server(tmp_path, monkeypatch)
    try:
        auth = server_part(ws.store)
        auth.add_user("ada", "contributor")
        monkeypatch.setenv("TRAINYARD_TOKEN", auth.create_token("ada")[0])
        agent_token, _ = auth.create_token("ada", kind="agent")
        client = Workspace.from_config(server.url)
        _assets(client, tmp_path)
        job = load_job(_job_file(tmp_path, script_dir({"read.py": READ}), "azureml:churn:1", "data:imgs"))
        run = submit_job(client, job)
        assert run.job["inputs"]["data"]["path"] == "data://churn/1"
        agent_home = tmp_path / "agent-machine"
        with agent_process(
            server.url, agent_token, tmp_path / "agent.log", TRAINYARD_CACHE_DIR=str(agent_home)
        ):
            wait_for(lambda: ws.store.get_run(run.id).status.is_terminal, timeout=60)
        info = ws.store.get_run(run.id)
        assert info.status == RunStatus.COMPLETED, info.error
        seen = json.loads(ws.artifacts.get_bytes(f"runs/{run.id}/outputs/seen.json"))
        assert seen["data"].startswith(str(agent_home)) and seen["text"] == "a\n1\n"
        assert seen["folder"] == ["x.png"]
        assert [r.version for r in client.store.list_data_lineage(run_id=run.id, name="churn")] == [1]
    finally:
        server.stop(kill=True)
        ws.close()
