"""REST v1's bulk run changes: tags set and removed, soft delete and restore, on every run named
or on none (404 naming the unknown ones), refused to a reader; and the search that hides deleted runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.integration.server_helpers import token_for_app
from trainyard.deletion import is_deleted
from trainyard.limits import MAX_BULK_RUNS
from trainyard.workspace import Workspace

RUNS = "/api/v1/runs"


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    from trainyard.server.app import create_app

    with TestClient(create_app(ws), base_url="http://localhost") as running:
        yield running


def _auth(client: TestClient, role: str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for_app(client.app, role, user)}"}  # type: ignore[arg-type]


def _names(client: TestClient, headers: dict[str, str], **body: object) -> list[str]:
    reply = client.post(f"{RUNS}/search", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    return sorted(r["name"] for r in reply.json()["runs"])


def test_a_contributor_tags_deletes_and_restores_runs(ws: Workspace, client: TestClient) -> None:
    exp = ws.store.create_experiment("bulk")
    a, b, c = (ws.store.create_run(exp.id, name=n, tags={"stage": "dev"}) for n in "abc")
    ada = _auth(client, "contributor", "ada")
    body = {"run_ids": [a.id, b.id], "set": {"team": "vision"}, "remove": ["stage"]}
    assert client.post(f"{RUNS}/tags", json=body, headers=ada).status_code == 200
    assert ws.store.get_run(a.id).tags == ws.store.get_run(b.id).tags == {"team": "vision"}
    assert ws.store.get_run(c.id).tags == {"stage": "dev"}

    assert client.post(f"{RUNS}/delete", json={"run_ids": [a.id]}, headers=ada).status_code == 200
    assert _names(client, ada, experiment_ids=[exp.id]) == ["b", "c"]  # hidden unless asked
    assert _names(client, ada, experiment_ids=[exp.id], view="deleted") == ["a"]
    assert _names(client, ada, experiment_ids=[exp.id], view="all") == ["a", "b", "c"]
    count = f"/api/v1/experiments/{exp.id}/run-count"  # the studio's title: what its table lists
    counted = [client.get(count, params=p, headers=ada).json()["count"] for p in ({}, {"view": "deleted"})]
    assert counted == [2, 1]
    assert ws.store.get_run(a.id).tags["team"] == "vision"  # nothing is lost
    assert client.post(f"{RUNS}/restore", json={"run_ids": [a.id]}, headers=ada).status_code == 200
    assert _names(client, ada, experiment_ids=[exp.id]) == ["a", "b", "c"]


def test_an_unknown_run_is_a_404_naming_it_and_nothing_changes(ws: Workspace, client: TestClient) -> None:
    run = ws.store.create_run(ws.store.create_experiment("bulk").id)
    ada = _auth(client, "contributor", "ada")
    unknown = "f" * 32
    for path, body in (
        ("tags", {"run_ids": [run.id, unknown], "set": {"team": "x"}}),
        ("delete", {"run_ids": [run.id, unknown]}),
    ):
        reply = client.post(f"{RUNS}/{path}", json=body, headers=ada)
        assert reply.status_code == 404 and unknown in reply.json()["message"], reply.text
    after = ws.store.get_run(run.id)
    assert "team" not in after.tags and not is_deleted(after.tags)


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("delete", {"run_ids": []}, "run_ids"),
        ("delete", {"run_ids": [f"{n:032x}" for n in range(MAX_BULK_RUNS + 1)]}, "run_ids"),
        ("tags", {"run_ids": ["a"], "set": {"k": "v"}, "remove": ["k"]}, "not both"),
        ("tags", {"run_ids": ["a"], "set": {"": "v"}}, "set"),
    ],
)
def test_what_a_bulk_change_cannot_take_is_a_400(
    client: TestClient, path: str, body: dict, says: str
) -> None:
    reply = client.post(f"{RUNS}/{path}", json=body, headers=_auth(client, "contributor", "ada"))
    assert reply.status_code == 400 and says in reply.text, reply.text


def test_a_reader_sees_runs_but_cannot_change_them(ws: Workspace, client: TestClient) -> None:
    run = ws.store.create_run(ws.store.create_experiment("bulk").id, name="r")
    rita = _auth(client, "reader", "rita")
    for path, body in (
        ("tags", {"run_ids": [run.id], "set": {"team": "x"}}),
        ("delete", {"run_ids": [run.id]}),
        ("restore", {"run_ids": [run.id]}),
    ):
        reply = client.post(f"{RUNS}/{path}", json=body, headers=rita)
        assert reply.status_code == 403 and "reader" in reply.json()["message"], reply.text
    assert _names(client, rita) == ["r"] and ws.store.get_run(run.id).tags == {}


def test_the_openapi_document_describes_the_bulk_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("tags", "delete", "restore"):
        schema = paths[f"{RUNS}/{path}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].rsplit("/", 1)[1] in ("RunTagChange", "RunSelection")
