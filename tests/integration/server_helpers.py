"""Helpers for tests that talk to a real trainyard server: a user's token, server and agent subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from trainyard.api import routes
from trainyard.server.running import ThreadedServer, free_port
from trainyard.workspace import Workspace


def token_for_app(app: FastAPI, role: str = "owner", user: str = "tester") -> str:
    """A token of a (new) user of the server's workspace."""
    auth = app.state.auth
    if user not in {u.name for u in auth.list_users()}:
        auth.add_user(user, role)
    return auth.create_token(user)[0]


class ServerProcess:
    """``trainyard server`` as a subprocess, restartable on the same port (``restart``)."""

    def __init__(self, folder: Path, store: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server = ["server", "--workspace", str(folder), "--port", str(self.port)]
        if store is not None:  # else the workspace's own store
            server += ["--store", store]
        self.args = [sys.executable, "-m", "trainyard", *server]
        self.log = folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy()
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + routes.HEALTH.template, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        self.proc.wait(20)
        self.proc = None

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()


def quick_heartbeat_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[ServerProcess, Workspace]:
    """A team server subprocess on a new workspace whose heartbeat is 0.5 s (lost agents show fast)."""
    import yaml

    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    ws = Workspace.create(tmp_path / "srv")
    cfg = yaml.safe_load((ws.root / "config.yaml").read_text())
    (ws.root / "config.yaml").write_text(yaml.safe_dump({**cfg, "heartbeat_seconds": 0.5}))
    ws = Workspace(ws.root)
    server = ServerProcess(ws.root)
    server.start()
    return server, ws


def threaded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server in this process (its users and tokens in an idle first workspace), with an owner's
    token as ``.token``; a module's fixture yields from it and points it at fresh workspaces."""
    from trainyard.server.app import create_app
    from trainyard.workspace import Workspace

    idle = Workspace.create(tmp_path_factory.mktemp("idle"))
    with ThreadedServer(create_app(idle)) as running:
        running.token = token_for_app(running.app)  # type: ignore[attr-defined]
        yield running
    idle.close()


@contextmanager
def agent_process(url: str, token: str, log: Path, *args: str, **env: str) -> Iterator[None]:
    """``trainyard agent --server URL --token TOKEN ARGS`` as a subprocess while in the block, output in
    ``log``: the test's own token and workspace are not passed on, ``env`` is added."""
    environ = {k: v for k, v in os.environ.items() if k not in ("TRAINYARD_TOKEN", "TRAINYARD_WORKSPACE")}
    environ.update(env)
    cmd = [sys.executable, "-m", "trainyard", "agent", "--server", url, "--token", token, *args]
    with open(log, "wb") as out:
        agent = subprocess.Popen(cmd, env=environ, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        agent.kill()
        agent.wait(10)
