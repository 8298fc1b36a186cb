"""Idempotency keys live in the store: a retry after a server restart creates nothing new.

Two apps over one workspace database stand for a server before and after a crash (or two
server processes behind one address): neither keeps keys in its memory.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.workspace import Workspace

HEADER = "Idempotency-Key"


def _client(folder: Path, token: str | None = None) -> tuple[TestClient, str, Workspace]:
    ws = Workspace(folder)
    app = create_app(ws)
    return TestClient(app, base_url="http://localhost"), token or token_for_app(app, user="alice"), ws


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    ws = Workspace.create(tmp_path / "ws")
    ws.close()
    return ws.root


def test_a_key_retried_on_a_restarted_server_returns_the_first_run(folder: Path) -> None:
    first, token, ws1 = _client(folder)
    auth = {"Authorization": f"Bearer {token}", HEADER: "retry-me"}
    exp = first.post("/api/v1/experiments", json={"name": "e"}, headers=auth).json()
    made = first.post("/api/v1/runs", json={"experiment_id": exp["id"]}, headers=auth).json()
    ws1.close()  # the reply was lost and the server went down

    second, _, ws2 = _client(folder, token)
    again_exp = second.post("/api/v1/experiments", json={"name": "e"}, headers=auth)
    assert again_exp.status_code == 200 and again_exp.json()["id"] == exp["id"]
    again = second.post("/api/v1/runs", json={"experiment_id": exp["id"]}, headers=auth).json()
    assert again == made
    assert ws2.store.count_runs(exp["id"]) == 1
    ws2.close()


def test_two_users_keys_do_not_collide(folder: Path) -> None:
    client, alice, ws = _client(folder)
    bob = token_for_app(client.app, user="bob")  # type: ignore[arg-type]
    exp = ws.store.create_experiment("shared")
    body = {"experiment_id": exp.id}
    runs = [
        client.post("/api/v1/runs", json=body, headers={"Authorization": f"Bearer {t}", HEADER: "k"}).json()
        for t in (alice, bob)
    ]
    assert runs[0]["id"] != runs[1]["id"]
    assert ws.store.count_runs(exp.id) == 2
    ws.close()


def test_keys_older_than_a_day_are_pruned(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import func, select

    from trainyard.store.server import server_part
    from trainyard.store.sql.models import IDEMPOTENCY_KEYS

    ws = Workspace(folder)
    exp = ws.store.create_experiment("old")
    part = server_part(ws.store)
    part.with_idempotency_key("old-key").create_run(exp.id)
    now = time.time()
    monkeypatch.setattr("time.time", lambda: now + 25 * 3600)  # a day and an hour later
    part.with_idempotency_key("new-key").create_run(exp.id)
    with ws.store.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(select(func.count()).select_from(IDEMPOTENCY_KEYS)).scalar() == 1
    part.with_idempotency_key("old-key").create_run(exp.id)  # forgotten: a new create
    assert ws.store.count_runs(exp.id) == 3
    ws.close()
