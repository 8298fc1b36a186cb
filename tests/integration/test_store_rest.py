"""The shipped Store conformance suite against ``RestStore`` -> real HTTP -> server -> SqlStore.

One server per module on a loopback port; each test gets a fresh workspace (a SQLite file, or the
module's PostgreSQL database emptied) swapped in behind it, so every test starts from an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, _fresh_pg_database
from tests.integration.server_helpers import threaded_server
from trainyard.api.schemas import MAX_BATCH_METRICS
from trainyard.server.running import ThreadedServer
from trainyard.store import Metric
from trainyard.store.rest import RestStore
from trainyard.testing.store_suite import StoreSuite
from trainyard.workspace import Workspace


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from threaded_server(tmp_path_factory)


@pytest.fixture(scope="module")
def pg_module_uri(pg_admin: str, pg_template: str) -> Iterator[str]:
    """One PostgreSQL database for the module, emptied before each test (faster than a copy each)."""
    yield from _fresh_pg_database(pg_admin, pg_template)


def _emptied(uri: str) -> str:
    from sqlalchemy import text

    from trainyard.store.sql.engine import make_engine
    from trainyard.store.sql.models import metadata

    engine = make_engine(uri)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(metadata.tables)} CASCADE"))
    engine.dispose()
    return uri


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, server: ThreadedServer, tmp_path: Path) -> Iterator[RestStore]:
    if request.param == "postgresql":
        uri = _emptied(request.getfixturevalue("pg_module_uri"))
    else:
        uri = request.getfixturevalue("sqlite_uri")
    ws = Workspace.create(tmp_path / "served", store=uri)
    server.app.state.workspace = ws
    rest = RestStore(server.url, token=server.token, retry_seconds=5)  # type: ignore[attr-defined]
    yield rest
    rest.close()
    ws.close()


class TestRestStore(StoreSuite):
    pass


class _LosesBatchReplies(httpx.HTTPTransport):
    """Delivers every request, but drops the connection before the reply of the batch requests
    numbered in ``lose`` (1 is the first): a server killed just after its commit."""

    def __init__(self, lose: set[int]) -> None:
        super().__init__()
        self.lose, self.batches, self.lost = lose, 0, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/batch"):
            self.batches += 1
            if self.batches in self.lose:
                response.close()
                self.lost += 1
                raise httpx.RemoteProtocolError("server disconnected without a reply", request=request)
        return response


def _losing_replies(store: RestStore, lose: set[int]) -> _LosesBatchReplies:
    transport = _LosesBatchReplies(lose)
    old = store.client.http
    store.client.http = httpx.Client(
        base_url=old.base_url, headers=old.headers, timeout=old.timeout, transport=transport
    )
    old.close()
    return transport


def test_a_batch_whose_reply_was_lost_is_retried_and_stored_once(store: RestStore) -> None:
    run = store.create_run(store.create_experiment("lost-replies").id)
    transport = _losing_replies(store, {1, 4})
    store.log_batch(run.id, metrics=[Metric("loss", 1.0 / s, s, 100.0 + s) for s in range(1, 4)])
    # a batch of two requests whose second one's reply is lost: each chunk keeps its own id
    many = [Metric("acc", float(s), s, 200.0) for s in range(MAX_BATCH_METRICS + 5)]
    store.log_batch(run.id, metrics=many, params={"lr": "0.1"})
    assert (transport.lost, transport.batches) == (2, 5)  # each lost reply was retried once
    assert [m.step for m in store.get_metric_history(run.id, "loss")] == [1, 2, 3]
    assert [m.step for m in store.get_metric_history(run.id, "acc")] == list(range(MAX_BATCH_METRICS + 5))
    assert store.get_run(run.id).params == {"lr": "0.1"}
