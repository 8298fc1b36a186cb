"""The studio as the server serves it: its page and files, the local session of ``trainyard
studio`` (URL token -> cookie; writes need the studio's header), the team server's tokens, and the
metric-series route the charts read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.server_helpers import token_for_app
from trainyard.server.app import create_app
from trainyard.server.running import ThreadedServer
from trainyard.server.session import LocalSession
from trainyard.server.studio import STATIC
from trainyard.store import Metric
from trainyard.testing.studio_data import sample_experiment
from trainyard.workspace import Workspace


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ThreadedServer, LocalSession, Workspace]]:
    ws = Workspace.create(tmp_path_factory.mktemp("studio"))
    sample_experiment(ws, runs=3, points=40, running=1)
    session = LocalSession()
    with ThreadedServer(create_app(ws, local_session=session)) as server:
        yield server, session, ws
    ws.close()


@contextmanager
def _signed_in(server: ThreadedServer, session: LocalSession) -> Iterator[httpx.Client]:
    """A client that went to the URL ``trainyard studio`` prints, and kept the cookie it got."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.get("/studio/", params={"token": session.url_token})
        assert answer.status_code == 303 and answer.headers["location"] == "/studio/"
        cookie = answer.headers["set-cookie"]
        assert session.cookie_name in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        yield client


def test_the_page_is_public_and_its_api_is_not(local: tuple[ThreadedServer, LocalSession, Workspace]) -> None:
    server, _, _ = local
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        assert anonymous.get("/").headers["location"] == "/studio/"
        page = anonymous.get("/studio/")
        assert page.status_code == 200 and '<div id="root">' in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        script = page.text.split('src="./', 1)[1].split('"', 1)[0]
        asset = anonymous.get(f"/studio/{script}")
        assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
        assert anonymous.get("/api/v1/experiments").status_code == 401
        assert anonymous.get("/studio/", params={"token": "not-it"}).status_code == 401


def test_the_url_token_becomes_a_cookie_that_reads_and_writes_with_the_header(
    local: tuple[ThreadedServer, LocalSession, Workspace],
) -> None:
    server, session, _ = local
    with _signed_in(server, session) as client:
        who = client.get("/api/v1/auth/whoami").json()
        assert who["role"] == "owner" and who["user"] == session.user
        names = [e["name"] for e in client.get("/api/v1/experiments").json()["experiments"]]
        assert "studio-sample" in names
        refused = client.post("/api/v1/experiments", json={"name": "from-a-form"})
        assert refused.status_code == 403 and "x-trainyard-studio" in refused.json()["message"]
        made = client.post(
            "/api/v1/experiments", json={"name": "from-the-page"}, headers={"X-Trainyard-Studio": "1"}
        )
        assert made.status_code == 200, made.text
    other = LocalSession()  # another studio's cookie, or a guessed one, is nobody's
    with httpx.Client(base_url=server.url, cookies={session.cookie_name: other.cookie_value}) as guess:
        assert guess.get("/api/v1/experiments").status_code == 401


def test_a_team_server_serves_the_page_and_wants_its_tokens(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "team")
    app = create_app(ws)
    with ThreadedServer(app) as server:
        token = token_for_app(app, role="reader")
        assert httpx.get(server.url + "/studio/").status_code == 200
        assert (
            httpx.get(server.url + "/studio/", params={"token": "x"}).status_code == 401
        )  # no local session
        assert httpx.get(server.url + "/api/v1/experiments").status_code == 401
        answer = httpx.get(server.url + "/api/v1/experiments", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    ws.close()


def test_metric_series_is_exact_when_it_fits_and_keeps_the_extremes_when_not(
    local: tuple[ThreadedServer, LocalSession, Workspace],
) -> None:
    server, session, ws = local
    experiment = ws.store.get_experiment_by_name("studio-sample")
    assert experiment is not None
    run = ws.store.search_runs([experiment.id])[0]
    with _signed_in(server, session) as client:
        exact = client.get(
            f"/api/v1/runs/{run.id}/metric-series", params={"key": "loss", "points": 100}
        ).json()
        history = ws.store.get_metric_history(run.id, "loss")
        assert exact["exact"] and exact["total"] == 40 and exact["steps"] == [m.step for m in history]
        assert exact["values"] == [m.value for m in history]
        cut = client.get(f"/api/v1/runs/{run.id}/metric-series", params={"key": "loss", "points": 10}).json()
        assert not cut["exact"] and cut["total"] == 40 and len(cut["steps"]) <= 10
        assert max(cut["values"]) == max(m.value for m in history)  # the spike survives
        assert cut["steps"][0] == 0 and cut["steps"][-1] == 39
        zoomed = client.get(
            f"/api/v1/runs/{run.id}/metric-series",
            params={"key": "loss", "points": 10, "min_step": 30, "max_step": 35},
        ).json()
        assert zoomed["exact"] and zoomed["steps"] == [30, 31, 32, 33, 34, 35]
        missing = client.get("/api/v1/runs/" + "0" * 32 + "/metric-series", params={"key": "loss"})
        assert missing.status_code == 404
        assert (
            client.get(
                f"/api/v1/runs/{run.id}/metric-series", params={"key": "loss", "points": 1}
            ).status_code
            == 400
        )


def test_several_runs_series_in_one_request_are_each_cut_as_one_runs(
    local: tuple[ThreadedServer, LocalSession, Workspace],
) -> None:
    """GET /metric-series?run_id=...: what the compare page draws, each run's series as its own
    route answers it, in the order asked; a run without the key is empty, an unknown one a 404."""
    server, session, ws = local
    experiment = ws.store.get_experiment_by_name("studio-sample")
    assert experiment is not None
    runs = [r.id for r in ws.store.search_runs([experiment.id])]
    bare = ws.store.create_run(experiment.id, name="no-loss").id
    with _signed_in(server, session) as client:
        for params in ({"points": 10}, {"points": 10, "min_step": 30, "max_step": 35}, {"points": 100}):
            asked = [*reversed(runs), bare]
            batch = client.get("/api/v1/metric-series", params={"run_id": asked, "key": "loss", **params})
            assert batch.status_code == 200, batch.text
            series = batch.json()["series"]
            assert [s.pop("run_id") for s in series] == asked
            one = [
                client.get(f"/api/v1/runs/{rid}/metric-series", params={"key": "loss", **params}).json()
                for rid in asked
            ]
            assert series == one and series[-1]["total"] == 0 and series[0]["total"] > 0
        unknown = client.get("/api/v1/metric-series", params={"run_id": [runs[0], "0" * 32], "key": "loss"})
        assert unknown.status_code == 404 and "0" * 32 in unknown.json()["message"]
        for bad in ({"key": "loss"}, {"run_id": ["x"] * 101, "key": "loss"}, {"run_id": runs, "key": ""}):
            assert client.get("/api/v1/metric-series", params=bad).status_code == 400, bad
        documented = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/metric-series"]["get"]
        assert {p["name"] for p in documented["parameters"]} >= {"run_id", "key", "points", "min_step"}


def test_non_finite_values_are_spelled_out(local: tuple[ThreadedServer, LocalSession, Workspace]) -> None:
    server, session, ws = local
    experiment = ws.store.create_experiment("gaps")
    run = ws.store.create_run(experiment.id)
    ws.store.log_batch(run.id, [Metric("x", v, s, 1.0) for s, v in enumerate([1.0, math.nan, math.inf, 2.0])])
    with _signed_in(server, session) as client:
        body = client.get(f"/api/v1/runs/{run.id}/metric-series", params={"key": "x"}).json()
        assert body["values"] == [1.0, "NaN", "Infinity", 2.0]  # as the API writes them; the page draws gaps


def test_the_build_is_in_the_package() -> None:
    assert (STATIC / "index.html").is_file() and any((STATIC / "assets").glob("*.js"))
