"""``trainyard datastore …`` and data assets on a datastore, as a user types them; each mistake one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import ty


def _one_line_error(result, says: str) -> None:  # noqa: ANN001
    assert result.returncode == 1, result.stdout + result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_folder_datastore_from_create_to_delete(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "lake" / "raw").mkdir(parents=True)
    (tmp_path / "lake" / "raw" / "churn.csv").write_text("age\n30\n")
    ty(
        tmp_path,
        "datastore",
        "create",
        "--name",
        "lake",
        "--url",
        str(tmp_path / "lake"),
        "--description",
        "d",
    )
    (tmp_path / "ds.yml").write_text(
        "name: lake2\ntype: s3\nurl: s3://bucket/p\ncredentials: {key: LAKE_KEY}\n"
    )
    assert "LAKE_KEY (its key) is not set here" in ty(tmp_path, "datastore", "create", "-f", "ds.yml").stdout
    listed = json.loads(ty(tmp_path, "datastore", "list", "-o", "json").stdout)
    assert [(d["name"], d["type"]) for d in listed] == [
        ("workspaceblobstore", "artifacts"),
        ("lake", "file"),
        ("lake2", "s3"),
    ]
    assert json.loads(ty(tmp_path, "datastore", "show", "lake2", "-o", "json").stdout)["credentials"] == {
        "key": "LAKE_KEY"
    }
    ty(tmp_path, "data", "create", "-n", "churn", "-p", "azureml://datastores/lake/paths/raw/churn.csv")
    assert "azureml://datastores/lake/paths/raw/churn.csv" in ty(tmp_path, "data", "show", "churn:1").stdout
    (tmp_path / "local.csv").write_text("age\n40\n")
    ty(tmp_path, "data", "create", "-n", "up", "-p", "local.csv", "--datastore", "lake")
    prefix = json.loads(ty(tmp_path, "data", "show", "up:1", "-o", "json").stdout)["prefix"]
    assert (tmp_path / "lake" / prefix / "local.csv").read_text() == "age\n40\n"
    ty(tmp_path, "data", "download", "churn:1", "--to", "dl")
    assert (tmp_path / "dl" / "churn.csv").read_text() == "age\n30\n"
    _one_line_error(
        ty(tmp_path, "datastore", "delete", "lake", check=False), "versions are on it (churn:1, up:1)"
    )
    ty(tmp_path, "datastore", "delete", "lake2")
    assert "lake2" not in ty(tmp_path, "datastore", "list").stdout


def test_datastore_mistakes_are_one_line(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "x.csv").write_text("a\n1\n")
    ty(tmp_path, "datastore", "create", "s3ds", "--url", "s3://bucket/p", "-c", "key=NOT_SET_KEY_VAR")
    for args, says in (
        (("datastore", "create", "bad", "--url", "ftp://host/x"), "the scheme ftp:// is not a datastore"),
        (
            ("datastore", "create", "bad", "--url", "s3://b", "-c", "key=wJalr/K7+EXAMPLE"),
            "name an environment",
        ),
        (("datastore", "create", "bad", "--url", "s3://b", "-c", "AWS_KEY"), "write OPTION=VARIABLE"),
        (("datastore", "show", "nope"), "there is no datastore 'nope'"),
        (("datastore", "secret", "1-bad"), "is not an environment variable name"),
        (("data", "create", "-n", "d", "-p", "x.csv", "--datastore", "nope"), "there is no datastore 'nope'"),
        (("data", "create", "-n", "d", "-p", "azureml://datastores/nope/paths/x.csv"), "no datastore 'nope'"),
        (
            ("data", "create", "-n", "d", "-p", "azureml://datastores/s3ds/x.csv"),
            "azureml://datastores/NAME/paths",
        ),
        (
            ("data", "create", "-n", "d", "-p", "x.csv", "--datastore", "s3ds"),
            "variable NOT_SET_KEY_VAR (its key)",
        ),
    ):
        _one_line_error(ty(tmp_path, *args, check=False), says)
    assert json.loads(ty(tmp_path, "data", "list", "-o", "json").stdout) == []
