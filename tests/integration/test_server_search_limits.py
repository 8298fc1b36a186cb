"""A search too large for the database is the caller's mistake, not an outage (issue 12, defect 3).

It answers 400 ``INVALID_PARAMETER_VALUE`` naming the limit (``trainyard.limits``), on the v1
and the MLflow routes; the client never retries a 4xx; and a real store outage (503) is logged
in one line, without the SQL statement and its parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.integration.server_helpers import token_for_app
from trainyard.api.errors import ServerAccessError
from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.limits import MAX_FILTER_TERMS
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.store.rest import RestStore
from trainyard.store.sql.engine import make_engine
from trainyard.workspace import Workspace

HUGE_FILTER = " and ".join(["attributes.status != 'failed'"] * 500)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedServer, str, str]]:
    """A server, an owner's token, and an experiment with a run in it (a search has rows to read)."""
    ws = Workspace.create(tmp_path_factory.mktemp("limits"))
    exp = ws.store.create_experiment("limits")
    ws.store.create_run(exp.id, tags={"t": "x"})
    with ThreadedServer(create_app(ws)) as server:
        yield server, token_for_app(server.app), exp.id
    ws.close()


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    return str(body["message"])


def test_a_search_too_large_is_a_400_naming_the_limit(served: tuple[ThreadedServer, str, str]) -> None:
    server, token, exp = served
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        v1 = http.post("/api/v1/runs/search", json={"experiment_ids": [exp], "filter_string": HUGE_FILTER})
        mlflow = http.post(
            "/api/2.0/mlflow/runs/search", json={"experiment_ids": [exp], "filter": HUGE_FILTER}
        )
    for message in (_error(v1), _error(mlflow)):
        assert f"at most {MAX_FILTER_TERMS}" in message and "500 comparisons" in message
        assert "SELECT" not in message


def test_the_client_never_retries_a_4xx(served: tuple[ThreadedServer, str, str]) -> None:
    server, token, exp = served
    sent: list[str] = []
    store, stranger = (RestStore(server.url, token=t, retry_seconds=30) for t in (token, "ty_x_y"))
    for client in (store.client, stranger.client):
        client.http.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    mistakes: tuple[tuple[type[Exception], Callable[[], object]], ...] = (
        (InvalidInputError, lambda: store.search_runs([exp], filter_string=HUGE_FILTER)),  # 400
        (ServerAccessError, lambda: stranger.get_run("0" * 32)),  # 401
        (NotFoundError, lambda: store.get_run("0" * 32)),  # 404
        (AlreadyExistsError, lambda: store.create_experiment("limits")),  # 409
        (InvalidInputError, lambda: store.create_experiment("big", tags={"k": "v" * 10**7})),  # 413
    )
    try:
        for error, mistake in mistakes:
            sent.clear()
            with pytest.raises(error):
                mistake()
            assert len(sent) == 1, (error, sent)
    finally:
        store.close()
        stranger.close()


def test_a_store_outage_is_logged_without_its_sql(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    ws = Workspace.create(tmp_path / "broken")
    run = ws.store.create_run(ws.store.create_experiment("broken").id)
    engine = make_engine(ws.store.uri)  # type: ignore[attr-defined]
    with engine.begin() as conn:  # a read that fails in the database itself: OperationalError
        conn.execute(text("DROP TABLE latest_metrics"))
    engine.dispose()
    try:
        with ThreadedServer(create_app(ws)) as server:
            headers = {"Authorization": f"Bearer {token_for_app(server.app)}"}
            answer = httpx.get(f"{server.url}/api/v1/runs/{run.id}", headers=headers)
        assert answer.status_code == 503 and answer.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        logged = caplog.text + capfd.readouterr().err  # trainyard's log, and uvicorn's (stderr)
        assert "no such table: latest_metrics" in caplog.text  # one line saying what failed
        assert "SELECT" not in logged and "Traceback" not in logged, logged
    finally:
        ws.close()
