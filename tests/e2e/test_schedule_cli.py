"""Published pipelines and schedules as a user types them: publish, versions and the default,
trigger, schedule create/list/show/enable/disable/delete, `trainyard scheduler` until Ctrl-C, and
every mistake one line without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

import trainyard as ty_sdk
from tests.e2e.test_cli import ty
from trainyard.status import RunStatus
from trainyard.workspace import Workspace

PIPELINE = {
    "type": "pipeline",
    "experiment_name": "published",
    "inputs": {"n": 3},
    "jobs": {
        "count": {
            "command": "python -c 'import sys; print(\"n is\", sys.argv[1])' ${{inputs.n}}",
            "inputs": {"n": "${{parent.inputs.n}}"},
        }
    },
}


def _one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert text in result.stderr, result.stderr


def _wait(project: Path, run_id: str) -> RunStatus:
    ws = Workspace(project / ".trainyard")
    try:
        run = ty_sdk.Run(ws, run_id)
        run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
        return run.refresh().status
    finally:
        ws.close()


def test_publish_versions_default_and_trigger(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "p.yml").write_text(yaml.safe_dump(PIPELINE))
    out = ty(
        tmp_path, "pipeline", "publish", "-f", "p.yml", "--name", "retrain", "--description", "first"
    ).stdout
    assert "published pipeline retrain version 1 (default: version 1)" in out
    out = ty(tmp_path, "pipeline", "publish", "-f", "p.yml", "-n", "retrain", "--make-default").stdout
    assert "version 2 (default: version 2)" in out
    listed = ty(tmp_path, "pipeline", "published", "list").stdout
    assert "retrain" in listed and "first" in listed
    assert (
        "default version 1 (latest 2)"
        in ty(tmp_path, "pipeline", "published", "set-default", "retrain", "1").stdout
    )
    shown = ty(tmp_path, "pipeline", "published", "show", "retrain").stdout
    assert "version 1" in shown and "count" in shown and "n=3" in shown

    out = ty(tmp_path, "pipeline", "trigger", "retrain", "--set", "inputs.n=5").stdout
    run_id = out.split("queued run ")[1].split()[0]
    assert _wait(tmp_path, run_id) is RunStatus.COMPLETED

    _one_line_error(ty(tmp_path, "pipeline", "trigger", "nope", check=False), "no published pipeline 'nope'")
    _one_line_error(
        ty(tmp_path, "pipeline", "trigger", "retrain", "--set", "inputs.m=1", check=False), "no input 'm'"
    )
    _one_line_error(
        ty(tmp_path, "pipeline", "published", "set-default", "retrain", "7", check=False), "no version 7"
    )


def test_schedule_commands_and_their_mistakes(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "p.yml").write_text(yaml.safe_dump(PIPELINE))
    bad_cron = ty(
        tmp_path, "schedule", "create", "n", "--pipeline", "retrain", "--cron", "0 3 * * *", check=False
    )
    _one_line_error(bad_cron, "no published pipeline 'retrain'")
    ty(tmp_path, "pipeline", "publish", "-f", "p.yml", "--name", "retrain")
    bad_cron = ty(
        tmp_path, "schedule", "create", "n", "--pipeline", "retrain", "--cron", "0 3 * *", check=False
    )
    _one_line_error(bad_cron, "cron expression '0 3 * *' is not valid")
    both = ty(
        tmp_path,
        "schedule",
        "create",
        "n",
        "-p",
        "retrain",
        "--cron",
        "* * * * *",
        "--every",
        "1h",
        check=False,
    )
    _one_line_error(both, "give one of --cron, --every and --on-data-change")
    _one_line_error(
        ty(tmp_path, "schedule", "create", "n", "-p", "retrain", "--every", "soon", check=False), "15m"
    )
    _one_line_error(
        ty(
            tmp_path,
            "schedule",
            "create",
            "n",
            "-p",
            "retrain",
            "--every",
            "1h",
            "--missed",
            "x",
            check=False,
        ),
        "missed-time policy 'x'",
    )
    typo = ["--every", "1h", "--set", "inputs.m=1"]
    _one_line_error(
        ty(tmp_path, "schedule", "create", "n", "-p", "retrain", *typo, check=False),
        "pipeline 'retrain' has no input 'm' (inputs: n)",
    )

    out = ty(
        tmp_path,
        "schedule",
        "create",
        "nightly",
        "-p",
        "retrain",
        "--cron",
        "0 3 * * *",
        "--set",
        "inputs.n=9",
    )
    assert "cron 0 3 * * * (UTC)" in out.stdout and "03:00:00" in out.stdout
    ty(tmp_path, "schedule", "create", "hourly", "-p", "retrain", "--every", "1h", "--missed", "skip")
    (tmp_path / "incoming").mkdir()
    ty(
        tmp_path,
        "schedule",
        "create",
        "files",
        "-p",
        "retrain",
        "--on-data-change",
        "incoming",
        "--poll",
        "5s",
    )
    listed = ty(tmp_path, "schedule", "list").stdout
    assert "nightly" in listed and "every 1h" in listed and "n=9" in listed and "on change of" in listed
    _one_line_error(
        ty(tmp_path, "schedule", "create", "hourly", "-p", "retrain", "--every", "2h", check=False),
        "schedule 'hourly' already exists",
    )
    assert "disabled" in ty(tmp_path, "schedule", "disable", "hourly").stdout
    assert "disabled" in ty(tmp_path, "schedule", "list").stdout
    assert "enabled, next:" in ty(tmp_path, "schedule", "enable", "hourly").stdout
    assert "every 1h" in ty(tmp_path, "schedule", "show", "hourly").stdout
    ty(tmp_path, "schedule", "delete", "files")
    _one_line_error(ty(tmp_path, "schedule", "show", "files", check=False), "no schedule 'files'")


def test_the_scheduler_fires_due_schedules_until_ctrl_c(tmp_path: Path) -> None:
    ty(tmp_path, "init")
    (tmp_path / "p.yml").write_text(yaml.safe_dump(PIPELINE))
    ty(tmp_path, "pipeline", "publish", "-f", "p.yml", "--name", "retrain")
    ty(tmp_path, "schedule", "create", "often", "-p", "retrain", "--every", "1s")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    env.update(TRAINYARD_CACHE_DIR=str(tmp_path / ".cache"), COLUMNS="200")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainyard", "scheduler"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ws = Workspace(tmp_path / ".trainyard")
    try:
        deadline = time.monotonic() + 60
        while not ws.store.list_schedule_firings("often") and time.monotonic() < deadline:
            time.sleep(0.2)
        ty(tmp_path, "schedule", "disable", "often")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in err, err
        assert "scheduler stopped" in out
        firings = ws.store.list_schedule_firings("often", limit=100)
        assert firings and all(f.run_id for f in firings), firings
        for firing in firings:
            assert _wait(tmp_path, firing.run_id or "") is RunStatus.COMPLETED
        assert "run " in ty(tmp_path, "schedule", "show", "often").stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        ws.close()
