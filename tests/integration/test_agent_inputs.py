"""Local inputs reach remote compute: a job submitted to a server workspace with a ``uri_folder`` and
a ``uri_file`` on the submitter's disk runs on an agent after those files are gone from that disk
(they travelled with the submission), and sending the same data again uploads nothing."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import trainyard as ty
from tests.integration.server_helpers import agent_process, quick_heartbeat_server
from tests.integration.test_jobs import wait_for
from trainyard.jobs.snapshot import blob_key, read_manifest
from trainyard.jobs.spec import CommandJob
from trainyard.jobs.submit import prepare_job, submit_job
from trainyard.jobs.uploads import SCHEME
from trainyard.status import RunStatus
from trainyard.store.server import server_part
from trainyard.sweep.record import SweepRecord
from trainyard.workspace import Workspace

READ = """
import argparse, json, os, pathlib
p = argparse.ArgumentParser()
p.add_argument("--data")
p.add_argument("--labels")
a = p.parse_args()
root = pathlib.Path(a.data)
os.makedirs("outputs", exist_ok=True)
json.dump({
    "data": a.data, "labels": a.labels,
    "files": sorted(q.relative_to(root).as_posix() for q in root.rglob("*") if q.is_file()),
    "rows": (root / "train.csv").read_text(), "label_text": open(a.labels).read(),
}, open("outputs/seen.json", "w"))
"""


def laptop_data(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "laptop" / "data"
    (data / "more").mkdir(parents=True)
    (data / "train.csv").write_text("x\n1\n2\n")
    (data / "more" / "extra.txt").write_text("more rows")
    labels = tmp_path / "laptop" / "labels.csv"
    labels.write_text("y\n0\n1\n")
    return data, labels


def job_reading(src: Path, data: Path, labels: Path, compute: str = "local") -> CommandJob:
    return CommandJob(
        code=str(src),
        command="python read.py --data ${{inputs.data}} --labels=${{inputs.labels}}",
        inputs={
            "data": {"type": "uri_folder", "path": str(data)},
            "labels": {"type": "uri_file", "path": str(labels)},
        },
        compute=compute,
        experiment_name="inputs",
    )


def test_local_inputs_travel_to_an_agent_and_are_uploaded_once(tmp_path, monkeypatch, script_dir):
    server, ws = quick_heartbeat_server(tmp_path, monkeypatch)
    try:
        auth = server_part(ws.store)
        auth.add_user("ada", "contributor")
        monkeypatch.setenv("TRAINYARD_TOKEN", auth.create_token("ada")[0])
        agent_token, _ = auth.create_token("ada", kind="agent")
        client = Workspace.from_config(server.url)
        src = script_dir({"read.py": READ})
        data, labels = laptop_data(tmp_path)

        first = submit_job(client, job_reading(src, data, labels))
        inputs = first.job["inputs"]
        assert inputs["data"]["path"].startswith(SCHEME) and inputs["labels"]["path"].endswith("/labels.csv")
        blobs = [
            ws.artifacts.local_path(blob_key(sha))
            for sha in read_manifest(inputs["data"]["path"].removeprefix(SCHEME), ws.artifacts).values()
        ]
        stored = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in blobs]
        second = submit_job(client, job_reading(src, data, labels))
        assert second.job["inputs"] == inputs  # the same content, the same snapshot
        assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in blobs] == stored  # not sent again

        sweep = ty.SweepConfig(
            job_reading(src, data, labels, compute="nowhere"), {"alpha": ty.choice(1, 2)}, "m"
        )
        parent = ty.Experiment(client, "inputs").submit(sweep)
        assert SweepRecord.of_run(parent.refresh()).sweep.trial.model_dump()["inputs"] == inputs

        shutil.rmtree(tmp_path / "laptop")  # what the agent reads can only have come from the server
        agent_home = tmp_path / "agent-machine"
        with agent_process(
            server.url,
            agent_token,
            tmp_path / "agent.log",
            "--concurrency",
            "2",
            TRAINYARD_CACHE_DIR=str(agent_home),
        ):
            for run in (first, second):
                wait_for(lambda run=run: ws.store.get_run(run.id).status.is_terminal, timeout=60)
        for run in (first, second):
            info = ws.store.get_run(run.id)
            assert info.status == RunStatus.COMPLETED, info.error
            seen = json.loads(ws.artifacts.get_bytes(f"runs/{run.id}/outputs/seen.json"))
            assert seen["data"].startswith(str(agent_home)) and seen["labels"].startswith(str(agent_home))
            assert Path(seen["labels"]).name == "labels.csv"
            assert seen["files"] == ["more/extra.txt", "train.csv"]
            assert (seen["rows"], seen["label_text"]) == ("x\n1\n2\n", "y\n0\n1\n")
            log = ws.artifacts.get_bytes(f"runs/{run.id}/logs/std_log.txt").decode()
            assert f"input data: 2 file(s) from snapshot {inputs['data']['path'][len(SCHEME) :][:12]}" in log
        code = ty.Run(client, first.id).restore_snapshot(path=tmp_path / "restored")  # over HTTP
        assert zipfile.ZipFile(code).namelist() == ["read.py"]
    finally:
        server.stop(kill=True)
        ws.close()


def test_an_embedded_workspace_passes_local_inputs_as_they_are(ws, script_dir, tmp_path):
    data, labels = laptop_data(tmp_path)
    prepared = prepare_job(ws, job_reading(script_dir({"read.py": READ}), data, labels))
    assert prepared.job.inputs["data"].path == str(data)  # type: ignore[union-attr]
    assert prepared.job.inputs["labels"].path == str(labels)  # type: ignore[union-attr]
