"""``trainyard studio``'s mistakes: one line each, naming what to do instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_cli import ty
from trainyard import Experiment, Workspace


def test_a_server_workspace_is_sent_to_its_servers_studio(tmp_path: Path) -> None:
    result = ty(tmp_path, "studio", "--no-browser", "-w", "http://127.0.0.1:9", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "open http://127.0.0.1:9/studio/" in result.stdout + result.stderr


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    ty(tmp_path, "init", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = ty(tmp_path, "studio", "--no-browser", "--port", port, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.stdout + result.stderr


def test_an_unknown_run_is_named(tmp_path: Path) -> None:
    ty(tmp_path, "init", str(tmp_path))
    result = ty(tmp_path, "studio", "--no-browser", "--run", "0123456789ab", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no run with an id starting '0123456789ab'" in result.stdout + result.stderr


def test_run_opens_the_studio_on_that_runs_page(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path)
    run = Experiment(ws, "shown").start_logging()
    run.complete()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    command = [sys.executable, "-m", "trainyard", "studio", "--no-browser", "--run", run.id[:12]]
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True) as studio:
        try:
            assert studio.stdout is not None
            url = next(line.strip() for line in studio.stdout if "token=" in line)
        finally:
            studio.terminate()
    assert url.startswith("http://127.0.0.1:") and url.endswith(f"#/runs/{run.id}")
