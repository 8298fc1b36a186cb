"""Datastores against a real S3-compatible server (moto on 127.0.0.1): data assets on one, read
back, as a job's input, with the credentials from the variables the record names; and a team
server that refuses a datastore endpoint on a private address unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest
import yaml

import trainyard as ty
from tests.integration.object_store import ObjectStore
from tests.integration.server_helpers import token_for_app
from trainyard.data.datastores import open_datastore
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import load_job
from trainyard.jobs.submit import submit_job
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace

CSV = b"age,left\n30,1\n40,0\n"


@pytest.fixture
def lake(s3: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """The S3 server reachable only through a datastore's record: no fsspec default endpoint, and no
    AWS_* variables (botocore would find none), only the variables the datastore names."""
    fs = fsspec.filesystem("s3", endpoint_url=s3.url, key="test", secret="test", skip_instance_cache=True)
    fs.pipe_file(f"{s3.bucket}/lake/raw/churn.csv", CSV)
    monkeypatch.delitem(fsspec.config.conf, "s3")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAKE_KEY", "test")
    monkeypatch.setenv("LAKE_SECRET", "test")
    return s3


def _datastore(ws: Workspace, s3: ObjectStore) -> None:
    ws.store.create_datastore(
        "lake",
        url=f"s3://{s3.bucket}/lake",
        endpoint=s3.url,
        credentials={"key": "LAKE_KEY", "secret": "LAKE_SECRET"},
    )


def test_data_on_an_s3_datastore_is_hashed_in_place_uploaded_and_read_back(
    ws: Workspace, lake: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _datastore(ws, lake)
    churn = ty.Data.create(ws, "churn", "azureml://datastores/lake/paths/raw/churn.csv", type="table")
    assert (churn.record.datastore, churn.record.prefix, churn.record.table["rows"]) == (
        "lake",
        "raw/churn.csv",
        2,
    )
    assert ty.Data(ws, "churn:1").to_pandas()["age"].tolist() == [30, 40]
    assert (ty.Data(ws, "churn:1").download(tmp_path / "dl")).read_bytes() == CSV

    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(b"png")
    imgs = ty.Data.create(ws, "imgs", tmp_path / "imgs", datastore="lake")
    store = open_datastore(ws, "lake")
    assert store.list(str(imgs.record.prefix)) == ["a.png"]  # in the bucket, not the artifact store
    assert ws.artifacts.list("data") == []
    assert (ty.Data(ws, "imgs:1").path() / "a.png").read_bytes() == b"png"

    store.put_bytes("raw/churn.csv", b"age,left\n1,1\n")  # changed under the version
    with pytest.raises(InvalidInputError, match=r"churn:1: .*azureml://datastores/lake/paths/raw/churn.csv"):
        ty.Data(ws, "churn:1").download(tmp_path / "again")
    with pytest.raises(InvalidInputError, match=r"cannot be deleted.*churn:1, imgs:1"):
        ws.store.delete_datastore("lake")
    with pytest.raises(InvalidInputError, match="raw/nope.csv does not exist on datastore 'lake'"):
        ty.Data.create(ws, "nope", "azureml://datastores/lake/paths/raw/nope.csv")

    monkeypatch.delenv("LAKE_SECRET")
    with pytest.raises(InvalidInputError, match="variable LAKE_SECRET .*secret.* is not set"):
        ty.Data(ws, "imgs:1").download(tmp_path / "no-secret")
    assert [v.name for v in ws.store.list_data_versions()] == ["churn", "imgs"]  # the failed create made none


def test_job_inputs_on_a_datastore_are_downloaded_by_the_worker(
    ws: Workspace,
    lake: ObjectStore,
    script_dir,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    _datastore(ws, lake)
    ty.Data.create(ws, "churn", "azureml://datastores/lake/paths/raw/churn.csv")
    copy = "import shutil, sys\nshutil.copytree(sys.argv[2], 'outputs/raw')\n"
    copy += "shutil.copy(sys.argv[1], 'outputs')\n"
    src = script_dir({"read.py": copy})
    spec = {
        "code": str(src),
        "command": "python read.py ${{inputs.churn}} ${{inputs.raw}}",
        "inputs": {
            "churn": {"type": "uri_file", "path": "azureml:churn:1", "mode": "download"},
            "raw": {"type": "uri_folder", "path": "azureml://datastores/lake/paths/raw"},  # a path, no asset
        },
    }
    (tmp_path / "job.yml").write_text(yaml.safe_dump(spec))
    run = submit_job(ws, load_job(tmp_path / "job.yml"))
    assert ty.Run(ws, run.id).wait_for_completion(show_output=False)["status"] == "completed"
    assert ws.artifacts.get_bytes(f"runs/{run.id}/outputs/churn.csv") == CSV  # the asset
    assert ws.artifacts.get_bytes(f"runs/{run.id}/outputs/raw/churn.csv") == CSV  # the datastore's folder
    assert [(r.name, r.direction) for r in ws.store.list_data_lineage(run_id=run.id)] == [("churn", "read")]
    spec["inputs"]["raw"]["path"] = "azureml://datastores/lake/paths/nope"  # type: ignore[index]
    (tmp_path / "job.yml").write_text(yaml.safe_dump(spec))
    with pytest.raises(InvalidInputError, match="'raw': azureml://datastores/lake/paths/nope does not exist"):
        submit_job(ws, load_job(tmp_path / "job.yml"))


def test_a_team_server_refuses_a_private_endpoint_unless_allowed(
    lake: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = Workspace.create(tmp_path / "served")
    with ThreadedServer(create_app(served)) as running:
        monkeypatch.setenv("TRAINYARD_TOKEN", token_for_app(running.app, "contributor"))
        client = Workspace.from_config(running.url)
        with pytest.raises(InvalidInputError, match=r"127\.0\.0\.1, a loopback.*--allow-private-urls"):
            _datastore(client, lake)
        assert client.store.list_datastores() == []
        running.app.state.allow_private_urls = True  # as `trainyard server --allow-private-urls`
        _datastore(client, lake)
        data = ty.Data.create(client, "churn", "azureml://datastores/lake/paths/raw/churn.csv")
        assert data.path().read_bytes() == CSV  # the client reads the bucket, with its own variables
        shown = json.dumps([vars(d) for d in client.store.list_datastores()])
        assert "LAKE_SECRET" in shown and '"test"' not in shown  # the variable's name, never its value
    served.close()
