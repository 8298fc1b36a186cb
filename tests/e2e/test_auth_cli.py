"""Auth from the command line, the way docs/server-auth-agent.md tells it: bootstrap an owner on the
server machine, log in from a client (token stored 0600), use it, revoke it."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import ty
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error:"), proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


@pytest.fixture
def server_dir(tmp_path: Path) -> Path:
    ty(tmp_path, "init", "srv")
    return tmp_path / "srv" / ".trainyard"


@pytest.fixture
def url(server_dir: Path) -> Iterator[str]:
    with ThreadedServer(create_app(Workspace(server_dir))) as running:
        yield running.url


def test_bootstrap_login_use_and_revoke(tmp_path: Path, server_dir: Path, url: str):
    store = str(server_dir)
    ty(tmp_path, "user", "add", "admin", "--role", "owner", "--store", store)
    made = ty(tmp_path, "token", "create", "--user", "admin", "--expires", "30d", "--store", store)
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("ty_") and "expires" in made.stdout

    ty(tmp_path, "login", url, "--token", token)
    creds = tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert json.loads(creds.read_text()) == {url: token}

    listed = ty(tmp_path, "experiment", "list", "-o", "json", TRAINYARD_WORKSPACE=url)
    assert isinstance(json.loads(listed.stdout), list)
    ty(tmp_path, "user", "add", "bob", "--role", "reader", TRAINYARD_WORKSPACE=url)  # over HTTP, as owner
    bobs = ty(tmp_path, "token", "create", "--user", "bob", TRAINYARD_WORKSPACE=url).stdout.split()[-1]
    as_bob = ty(tmp_path, "user", "list", TRAINYARD_WORKSPACE=url, TRAINYARD_TOKEN=bobs, check=False)
    assert_one_line_error(as_bob, "owner")

    tokens = json.loads(ty(tmp_path, "token", "list", "-o", "json", "--store", store).stdout)
    assert [(t["user_name"], t["state"]) for t in tokens] == [("admin", "active"), ("bob", "active")]
    assert "secret_hash" not in tokens[0]
    ty(tmp_path, "token", "revoke", tokens[0]["id"], "--store", store)
    refused = ty(tmp_path, "experiment", "list", TRAINYARD_WORKSPACE=url, check=False)
    assert_one_line_error(refused, "revoked")


def test_users_agents_and_bad_input(tmp_path: Path, server_dir: Path, url: str):
    store = str(server_dir)
    ty(tmp_path, "user", "add", "runner", "--role", "contributor", "--store", store)
    users = json.loads(ty(tmp_path, "user", "list", "-o", "json", "--store", store).stdout)
    assert [(u["name"], u["role"]) for u in users] == [("runner", "contributor")]
    agent = ty(tmp_path, "token", "create", "--user", "runner", "--agent", "--store", store)
    assert "(agent," in agent.stdout

    assert_one_line_error(
        ty(tmp_path, "user", "add", "x", "--role", "admin", "--store", store, check=False), "admin"
    )
    assert_one_line_error(
        ty(tmp_path, "user", "add", "runner", "--store", store, check=False), "already exists"
    )
    bad_expiry = ty(
        tmp_path, "token", "create", "--user", "runner", "--expires", "3x", "--store", store, check=False
    )
    assert_one_line_error(bad_expiry, "--expires", "30d")
    assert_one_line_error(
        ty(tmp_path, "token", "create", "--user", "ghost", "--store", store, check=False), "ghost"
    )
    assert_one_line_error(ty(tmp_path, "token", "revoke", "nope", "--store", store, check=False), "nope")
    assert_one_line_error(
        ty(tmp_path, "login", url, "--token", "ty_bad", check=False), "refused", "malformed"
    )
    assert not (tmp_path / "config" / "credentials.json").exists()
    no_token = ty(tmp_path, "agent", "--server", url, check=False)
    assert_one_line_error(no_token, "no token")
    user_token = ty(tmp_path, "token", "create", "--user", "runner", "--store", store).stdout.split()[-1]
    not_an_agent = ty(tmp_path, "agent", "--server", url, "--token", user_token, check=False)
    assert_one_line_error(not_an_agent, "refused the agent's token", "only claim and report")
