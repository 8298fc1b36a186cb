"""``trainyard model …`` as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import project, ty  # noqa: F401 - the fixture and the runner


def test_register_alias_show_download_archive(project: Path):  # noqa: F811
    ty(project, "init")
    ty(project, "job", "submit", "-f", "job.yml", "--stream", "--set", "inputs.alpha=1")
    run_id = json.loads(ty(project, "run", "list", "-o", "json").stdout)[0]["id"]
    out = ty(
        project,
        "model",
        "register",
        "-n",
        "diabetes",
        "-r",
        run_id[:12],
        "-p",
        "outputs/model.txt",
        "--tag",
        "algo=ridge",
        "--alias",
        "staging",
    ).stdout
    assert "diabetes:1" in out
    (project / "local").mkdir()
    (project / "local" / "w.bin").write_bytes(b"x")
    assert "diabetes:2" in ty(project, "model", "register", "-n", "diabetes", "-p", "local").stdout
    ty(project, "model", "alias", "diabetes", "production", "1")
    shown = json.loads(ty(project, "model", "show", "diabetes@production", "-o", "json").stdout)
    assert shown["version"] == 1 and shown["aliases"] == ["production", "staging"]
    assert shown["lineage"]["run_id"] == run_id and shown["lineage"]["params"]["alpha"] == "1"
    assert shown["tags"] == {"algo": "ridge"} and shown["files"] == ["model.txt"]
    ty(project, "model", "download", "diabetes:1", "-d", "dl")
    assert (project / "dl" / "model.txt").read_text() == "m"
    listed = json.loads(ty(project, "model", "list", "diabetes", "-o", "json").stdout)
    assert [m["version"] for m in listed] == [2, 1]
    ty(project, "model", "archive", "diabetes:2")
    assert json.loads(ty(project, "model", "show", "diabetes", "-o", "json").stdout)["version"] == 1
    ty(project, "model", "alias", "diabetes", "staging", "--delete")
    bad = ty(project, "model", "register", "-n", "x", "-r", run_id, "-p", "../secrets", check=False)
    assert bad.returncode == 1 and "'..'" in bad.stderr and "Traceback" not in bad.stderr
    missing = ty(project, "model", "show", "diabetes@staging", check=False)
    assert missing.returncode == 1 and "no alias 'staging'" in missing.stderr
