"""``trainyard server`` as an admin runs it, and clients pointed at it by URL (real processes)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.e2e.test_cli import ty
from tests.integration.server_helpers import ServerProcess


def _refused(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and all(w in result.stderr for w in words), result.stderr


def test_db_upgrade_refusals_and_a_client_by_url(tmp_path: Path) -> None:
    server_dir = tmp_path / "srv"
    out = ty(tmp_path, "server", "db", "upgrade", "--workspace", str(server_dir)).stdout
    assert "empty ->" in out and "store at schema" in out
    _refused(
        ty(tmp_path, "server", "--workspace", str(server_dir), "--host", "0.0.0.0", check=False), "--insecure"
    )
    other = "sqlite:////elsewhere.db"
    _refused(ty(tmp_path, "server", "-w", str(server_dir), "--store", other, check=False), "already uses")

    process = ServerProcess(server_dir, "sqlite:///trainyard.db")
    process.start()
    try:
        ty(tmp_path, "user", "add", "ada", "--role", "owner", "--store", str(server_dir))
        token = ty(tmp_path, "token", "create", "--user", "ada", "--store", str(server_dir)).stdout.split()[
            -1
        ]
        client = {"TRAINYARD_WORKSPACE": process.url, "TRAINYARD_TOKEN": token}
        script = tmp_path / "track.py"
        script.write_text(
            textwrap.dedent("""
            import trainyard as ty
            from trainyard.workspace import Workspace
            run = ty.Experiment(Workspace.from_config(), "by-url").start_logging(display_name="laptop")
            for i in range(3):
                run.log("loss", 1.0 / (i + 1))
            run.log_params({"alpha": "0.1"})
            run.complete()
            """)
        )
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
        subprocess.run(
            [sys.executable, str(script)],
            env={**clean, **client, "TRAINYARD_CACHE_DIR": str(tmp_path / "c")},
            check=True,
            timeout=120,
        )
        runs = json.loads(ty(tmp_path, "run", "list", "-o", "json", **client).stdout)
        assert [(r["name"], r["status"]) for r in runs] == [("laptop", "completed")]
        denied = ty(
            tmp_path,
            "run",
            "list",
            TRAINYARD_WORKSPACE=process.url,
            TRAINYARD_TOKEN="x",
            check=False,
        )
        _refused(denied, "token")
    finally:
        process.stop()

    with sqlite3.connect(server_dir / ".trainyard" / "trainyard.db") as db:  # as a newer trainyard left it
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    _refused(ty(tmp_path, "server", "-w", str(server_dir), check=False), "newer trainyard")
