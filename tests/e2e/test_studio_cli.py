"""``trainyard studio``'s mistakes: one line each, naming what to do instead."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.e2e.test_cli import ty


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
