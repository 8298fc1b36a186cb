"""Server auth: deny by default on every route, token lifecycle (hashed, expiry, revocation), roles,
agent tokens that only claim and report, and 401/403 as JSON with a message."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.server.app import create_app
from trainyard.server.auth import is_public
from trainyard.status import RunStatus
from trainyard.store.auth import TokenRejected
from trainyard.store.server import ServerStore
from trainyard.store.sql.models import API_TOKENS
from trainyard.store.sql.store import SqlStore
from trainyard.workspace import Workspace


@pytest.fixture
def auth_store(store_uri: str) -> Iterator[SqlStore]:
    store = SqlStore(store_uri)
    yield store
    store.close()


@pytest.fixture
def server(ws: Workspace) -> Iterator[tuple[TestClient, ServerStore]]:
    app = create_app(ws)
    with TestClient(app, base_url="http://localhost") as client:
        yield client, app.state.auth


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_denied(response, status: int) -> None:  # noqa: ANN001 - httpx.Response
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["message"]
    assert "Traceback" not in response.text
    if status == 401:
        assert "Bearer" in response.headers["WWW-Authenticate"]


# -- the token store, on SQLite and PostgreSQL ------------------------------------------------


def test_tokens_are_stored_hashed_and_authenticate(auth_store: SqlStore):
    auth_store.add_user("ada", "owner")
    token, info = auth_store.create_token("ada")
    assert token.startswith(f"ty_{info.id}_")
    with auth_store.engine.connect() as conn:
        stored = conn.execute(select(API_TOKENS.c.secret_hash)).scalar_one()
    assert token.rsplit("_", 1)[1] not in stored and len(stored) == 64
    principal = auth_store.authenticate(token)
    assert (principal.user, principal.role, principal.kind) == ("ada", "owner", "user")


def test_expired_revoked_and_forged_tokens_are_rejected(auth_store: ServerStore):
    auth_store.add_user("bo", "contributor")
    short, _ = auth_store.create_token("bo", expires_in=0.05)
    revoked, info = auth_store.create_token("bo")
    time.sleep(0.1)
    auth_store.revoke_token(info.id)
    with pytest.raises(TokenRejected, match="expired"):
        auth_store.authenticate(short)
    with pytest.raises(TokenRejected, match="revoked"):
        auth_store.authenticate(revoked)
    forged = revoked.rsplit("_", 1)[0] + "_" + "A" * 43
    with pytest.raises(TokenRejected, match="unknown"):
        auth_store.authenticate(forged)
    with pytest.raises(TokenRejected, match="malformed"):
        auth_store.authenticate("not-a-token")
    assert [t.state for t in auth_store.list_tokens("bo")] == ["expired", "revoked"]


def test_a_job_token_ends_soon_after_its_run(store_uri: str, monkeypatch):
    store = SqlStore(store_uri)
    auth_store = store
    auth_store.add_user("bo", "contributor")
    run = store.create_run(store.get_or_create_experiment("e").id, status=RunStatus.RUNNING)
    token, _ = auth_store.create_token("bo", kind="job", run_id=run.id, expires_in=3600)
    assert auth_store.authenticate(token).run_id == run.id
    store.set_status(run.id, RunStatus.COMPLETED)
    assert auth_store.authenticate(token).run_id == run.id  # the worker's last upload, in the grace period
    monkeypatch.setattr("trainyard.store.sql.auth.JOB_TOKEN_GRACE_SECONDS", -1.0)
    with pytest.raises(TokenRejected, match="job has ended"):
        auth_store.authenticate(token)
    store.close()


def test_user_and_token_input_is_checked(auth_store: ServerStore):
    with pytest.raises(InvalidInputError, match="role 'admin'"):
        auth_store.add_user("cy", "admin")
    auth_store.add_user("cy", "reader")
    with pytest.raises(AlreadyExistsError):
        auth_store.add_user("cy", "reader")
    with pytest.raises(InvalidInputError, match="user name"):
        auth_store.add_user("../x", "reader")
    with pytest.raises(NotFoundError, match="no user named 'nobody'"):
        auth_store.create_token("nobody")
    with pytest.raises(NotFoundError, match="no token"):
        auth_store.revoke_token("0" * 32)
    assert auth_store.set_role("cy", "contributor").role == "contributor"
    for lifetime in (0, -1, 1e300, float("inf")):
        with pytest.raises(InvalidInputError, match="lifetime"):
            auth_store.create_token("cy", expires_in=lifetime)


# -- the app ------------------------------------------------------------------------------------


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_but_the_public_ones_needs_a_token(server):
    client, _ = server
    contexts = list(iter_route_contexts(client.app.routes))
    assert len(contexts) > 20
    checked = 0
    for context in contexts:
        regex = getattr(context.route, "path_regex", None)
        path = _concrete(context.path)
        if regex is not None and not regex.match(path):
            path += "/x"  # a mount: anything below it
        if is_public(context.path) or (regex is not None and not regex.match(path)):
            continue  # public, or a template no request can match (nothing to protect)
        for method in sorted(set(context.methods or {"GET"}) - {"HEAD"}):  # a mount: GET
            _assert_denied(client.request(method, path), 401)
            checked += 1
    assert checked > 40
    assert client.get("/api/v1/health").status_code == 200


def test_missing_malformed_expired_revoked_tokens_get_401(server):
    client, auth = server
    auth.add_user("dee", "contributor")
    good, info = auth.create_token("dee")
    expired, _ = auth.create_token("dee", expires_in=0.05)
    time.sleep(0.1)
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
        {"Authorization": "Basic !!!"},
        _bearer("ty_nonsense"),
        _bearer(expired),
    ):
        _assert_denied(client.get("/api/v1/experiments", headers=headers), 401)
    assert client.get("/api/v1/experiments", headers=_bearer(good)).status_code == 200
    auth.revoke_token(info.id)
    response = client.get("/api/v1/experiments", headers=_bearer(good))
    _assert_denied(response, 401)
    assert "revoked" in response.json()["message"]


def test_readers_read_but_cannot_write(server):
    client, auth = server
    auth.add_user("rita", "reader")
    auth.add_user("carl", "contributor")
    reader, _ = auth.create_token("rita")
    writer, _ = auth.create_token("carl")
    _assert_denied(client.post("/api/v1/experiments", json={"name": "e"}, headers=_bearer(reader)), 403)
    assert client.post("/api/v1/experiments", json={"name": "e"}, headers=_bearer(writer)).status_code < 300
    assert client.get("/api/v1/experiments", headers=_bearer(reader)).json()
    assert client.post("/api/v1/runs/search", json={}, headers=_bearer(reader)).status_code == 200
    for search in ("runs/search", "experiments/search", "registered-models/get-latest-versions"):
        response = client.post(f"/api/2.0/mlflow/{search}", json={}, headers=_bearer(reader))
        assert response.status_code not in (401, 403), (search, response.text)  # MLflow reads by POST
    _assert_denied(client.post("/api/2.0/mlflow/runs/create", json={}, headers=_bearer(reader)), 403)
    who = client.get("/api/v1/auth/whoami", headers=_bearer(reader)).json()
    assert (who["user"], who["role"], who["kind"]) == ("rita", "reader", "user")


def test_endpoint_keys_are_for_writers_only(server, ws: Workspace):
    client, auth = server
    auth.add_user("rita", "reader")
    auth.add_user("carl", "contributor")
    reader, _ = auth.create_token("rita")
    writer, _ = auth.create_token("carl")
    ws.store.create_endpoint("churn", port=5000, primary_key="k1", secondary_key="k2")
    seen = client.get("/api/v1/endpoints/churn", headers=_bearer(reader)).json()
    assert (seen["name"], seen["primary_key"], seen["secondary_key"]) == ("churn", "", "")
    listed = client.get("/api/v1/endpoints", headers=_bearer(reader)).json()["endpoints"]
    assert [e["primary_key"] for e in listed] == [""]
    assert client.get("/api/v1/endpoints/churn", headers=_bearer(writer)).json()["primary_key"] == "k1"


def test_mlflow_clients_send_basic_auth_with_the_token_as_password(server):
    client, auth = server
    auth.add_user("mo", "contributor")
    token, _ = auth.create_token("mo")
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    assert client.get("/api/v1/experiments", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(b"anyone:ty_0_0").decode()
    _assert_denied(client.get("/api/v1/experiments", headers={"Authorization": f"Basic {wrong}"}), 401)


def test_agent_tokens_only_claim_and_report(server):
    client, auth = server
    auth.add_user("robot", "contributor")
    agent, _ = auth.create_token("robot", kind="agent")
    user, _ = auth.create_token("robot")
    claim = {"compute": "gpu", "agent": "host:1:1", "wait": 0}
    assert client.post("/api/v1/agent/claim", json=claim, headers=_bearer(agent)).status_code == 204
    _assert_denied(client.get("/api/v1/experiments", headers=_bearer(agent)), 403)
    assert client.get("/api/v1/auth/whoami", headers=_bearer(agent)).json()["kind"] == "agent"  # login
    _assert_denied(client.post("/api/v1/experiments", json={"name": "x"}, headers=_bearer(agent)), 403)
    _assert_denied(client.post("/api/v1/agent/claim", json=claim, headers=_bearer(user)), 403)


def test_only_owners_manage_users_and_tokens_over_http(server):
    client, auth = server
    auth.add_user("olga", "owner")
    auth.add_user("carl", "contributor")
    owner, _ = auth.create_token("olga")
    owner_agent, _ = auth.create_token("olga", kind="agent")
    contributor, _ = auth.create_token("carl")
    made = client.post("/api/v1/users", json={"name": "bob", "role": "reader"}, headers=_bearer(owner))
    assert made.status_code == 201 and made.json()["role"] == "reader"
    bad_role = client.post("/api/v1/users", json={"name": "eve", "role": "admin"}, headers=_bearer(owner))
    assert bad_role.status_code == 400 and "role" in bad_role.json()["message"]
    minted = client.post(
        "/api/v1/tokens", json={"user": "bob", "expires_in": 60}, headers=_bearer(owner)
    ).json()
    assert client.get("/api/v1/experiments", headers=_bearer(minted["token"])).status_code == 200
    listed = client.get("/api/v1/tokens", params={"user": "bob"}, headers=_bearer(owner)).json()
    assert [(t["id"], t["state"]) for t in listed] == [(minted["id"], "active")]
    assert all("secret_hash" not in t and "token" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{minted['id']}", headers=_bearer(owner)).status_code == 200
    _assert_denied(client.get("/api/v1/experiments", headers=_bearer(minted["token"])), 401)
    for token in (contributor, owner_agent, minted["token"]):
        assert client.get("/api/v1/users", headers=_bearer(token)).status_code in (401, 403)
    _assert_denied(client.get("/api/v1/users", headers=_bearer(contributor)), 403)
    _assert_denied(client.post("/api/v1/tokens", json={"user": "carl"}, headers=_bearer(contributor)), 403)


# -- issue 12, defect 11: authenticate first; a Host allow-list ---------------------------------


def test_unauthenticated_requests_get_401_before_body_limits_validation_and_redirects(server):
    """They used to get 400 (a malformed body, a missing field), 413 (a big body), 307 (a trailing
    slash) or 404: each told a caller without a token something. Now all are 401, and with a
    token the same requests get those answers."""
    client, auth = server
    auth.add_user("val", "contributor")
    good, _ = auth.create_token("val")
    big = {"Content-Length": str(100 * 1024 * 1024), "Content-Type": "application/json"}
    requests = [
        (
            "POST",
            "/api/v1/experiments",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("POST", "/api/v1/experiments", {"json": {}}, 400),
        ("POST", "/api/v1/experiments", {"content": b"", "headers": big}, 413),
        ("GET", "/api/v1/experiments/", {}, 307),
        ("GET", "/api/v1/no-such-route", {}, 404),
        ("PUT", "/api/v1/artifacts/runs/x/..%2f..%2fetc", {"content": b"x"}, 400),
    ]
    for method, path, kw, with_token in requests:
        _assert_denied(client.request(method, path, follow_redirects=False, **kw), 401)
        headers = {**kw.pop("headers", {}), **_bearer(good)}
        reply = client.request(method, path, follow_redirects=False, headers=headers, **kw)
        assert reply.status_code == with_token, (method, path, reply.text)


def test_a_host_not_in_the_allow_list_gets_400_before_anything_else(ws: Workspace):
    app = create_app(ws, allowed_hosts=["localhost", "127.0.0.1", "::1", "ty.example.org"])
    with TestClient(app, base_url="http://localhost") as client:
        for host in ("localhost", "LOCALHOST:8080", "127.0.0.1:1", "[::1]:8080", "[::1]", "ty.example.org"):
            assert client.get("/api/v1/health", headers={"Host": host}).status_code == 200, host
        for host in (
            "evil.example.com",
            "evil.example.com:8080",
            "ty.example.org.evil.com",
            "",
            "[::2]",
            "::1:80",
        ):
            reply = client.get("/api/v1/experiments", headers={"Host": host})
            assert reply.status_code == 400, (host, reply.text)
            assert reply.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "--allowed-host" in reply.json()["message"]
        anything = create_app(ws, allowed_hosts=["*"])
        with TestClient(anything, base_url="http://evil.example.com") as open_client:
            assert open_client.get("/api/v1/health").status_code == 200


def test_the_server_command_answers_to_its_allowed_hosts_only(tmp_path):
    from tests.integration.server_helpers import ServerProcess

    served = ServerProcess(tmp_path / "served")
    served.args += ["--allowed-host", "ty.example.org"]
    served.start()
    try:
        url = served.url + "/api/v1/health"
        for host in ("127.0.0.1", "localhost", "ty.example.org", f"ty.example.org:{served.port}"):
            assert httpx.get(url, headers={"Host": host}).status_code == 200, host
        refused = httpx.get(url, headers={"Host": "evil.example.com"})
        assert refused.status_code == 400 and "evil.example.com" in refused.json()["message"]
    finally:
        served.stop()
