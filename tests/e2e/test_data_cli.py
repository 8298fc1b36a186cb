"""``trainyard data …`` as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import ty
from tests.e2e.test_docs import run_example

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text()


def test_the_docs_sdk_example_runs(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    block = DOCS.split("```python\n")[1].split("```")[0]
    run_example(tmp_path, monkeypatch, block)


def test_create_list_show_download_archive(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "churn.csv").write_text("age,left\n30,1\n40,0\n")
    out = ty(
        tmp_path, "data", "create", "-n", "churn", "-p", "churn.csv", "--type", "table", "--tag", "src=crm"
    )
    assert "churn:1" in out.stdout
    assert "churn:1" in ty(tmp_path, "data", "create", "-n", "churn", "-p", "churn.csv", "-t", "table").stdout
    (tmp_path / "churn.csv").write_text("age,left\n50,1\n")
    assert "churn:2" in ty(tmp_path, "data", "create", "-n", "churn", "-p", "churn.csv").stdout
    shown = json.loads(ty(tmp_path, "data", "show", "churn:1", "-o", "json").stdout)
    assert shown["table"]["rows"] == 2 and shown["tags"] == {"src": "crm"} and shown["runs"] == []
    text = ty(tmp_path, "data", "show", "churn:1").stdout
    assert "column age" in text and "int64" in text
    assert [v["version"] for v in json.loads(ty(tmp_path, "data", "list", "churn", "-o", "json").stdout)] == [
        2,
        1,
    ]
    ty(tmp_path, "data", "download", "churn:1", "--to", "dl")
    assert (tmp_path / "dl" / "churn.csv").read_text() == "age,left\n30,1\n40,0\n"
    ty(tmp_path, "data", "archive", "churn:2")
    assert json.loads(ty(tmp_path, "data", "show", "churn@latest", "-o", "json").stdout)["version"] == 1
    for args, says in (
        (("create", "-n", "x", "-p", "missing.csv"), "does not exist"),
        (("show", "churn:9"), "version 9 of data asset 'churn'"),
        (("archive", "churn"), "name:VERSION"),
    ):
        bad = ty(tmp_path, "data", *args, check=False)
        assert bad.returncode == 1 and says in bad.stderr and "Traceback" not in bad.stderr
