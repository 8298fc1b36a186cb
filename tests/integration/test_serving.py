"""The scoring server: three protocols over one model, auth, and bad input that never kills it."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.integration.scoring_helpers import cli, model_server, saved_iris
from trainyard import models
from trainyard.serving.app import create_app
from trainyard.serving.keys import OPEN_ROUTES

KEY = "k" * 32


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    return saved_iris(tmp_path_factory.mktemp("m"))


@pytest.fixture
def client(iris_model):
    path, _, _ = iris_model
    app = create_app(models.load(path), "iris", "1", keys=[KEY], max_body=100_000)
    return TestClient(app, headers={"Authorization": f"Bearer {KEY}"})


def test_the_three_protocols_agree(client, iris_model):
    _, model, X = iris_model
    rows = X.head(3)
    expected = model.predict(rows).tolist()
    split = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    assert client.post("/invocations", json=split).json() == {"predictions": expected}
    records = {"dataframe_records": rows.to_dict(orient="records")}
    assert client.post("/invocations", json=records).json()["predictions"] == expected
    assert (
        client.post("/invocations", json={"instances": rows.values.tolist()}).json()["predictions"]
        == expected
    )
    csv = client.post("/invocations", content=rows.to_csv(index=False), headers={"Content-Type": "text/csv"})
    assert csv.json()["predictions"] == expected
    assert client.post("/score", json={"data": rows.values.tolist()}).json() == expected
    azure = {"input_data": {"columns": list(rows.columns), "index": [0, 1, 2], "data": rows.values.tolist()}}
    assert client.post("/score", json=azure).json() == expected
    oip = {
        "id": "r1",
        "inputs": [
            {"name": c, "shape": [3], "datatype": "FP64", "data": rows[c].tolist()} for c in rows.columns
        ],
    }
    reply = client.post("/v2/models/iris/infer", json=oip).json()
    assert reply["id"] == "r1" and reply["outputs"][0]["data"] == expected and reply["model_version"] == "1"
    one_tensor = {
        "inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": rows.values.ravel().tolist()}]
    }
    assert (
        client.post("/v2/models/iris/versions/1/infer", json=one_tensor).json()["outputs"][0]["data"]
        == expected
    )
    assert client.get("/v2/models/iris/ready").json() == {"name": "iris", "ready": True}
    assert [i["name"] for i in client.get("/v2/models/iris").json()["inputs"]] == ["sl", "sw", "pl", "pw"]


@pytest.mark.parametrize(
    ("route", "kwargs", "status", "message"),
    [
        ("/invocations", {"json": {}}, 400, "exactly one of"),
        (
            "/invocations",
            {"json": {"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}},
            400,
            "exactly one of",
        ),
        ("/invocations", {"json": [[1, 2, 3, 4]]}, 400, "must be an object"),
        (
            "/invocations",
            {"json": {"dataframe_records": [{"sl": 1, "sw": 1, "pl": 1}]}},
            400,
            "missing column.*pw",
        ),
        (
            "/invocations",
            {"json": {"dataframe_records": [{"sl": "a", "sw": 1, "pl": 1, "pw": 1}]}},
            400,
            "'sl' must be double",
        ),
        ("/invocations", {"json": {"instances": [[1, 2]]}}, 400, "each row needs 4 values"),
        (
            "/invocations",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "not valid",
        ),
        ("/invocations", {"content": b"", "headers": {"Content-Type": "application/json"}}, 400, "empty"),
        ("/invocations", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, 415, "text/plain"),
        (
            "/invocations",
            {"content": b"a" * 200_000, "headers": {"Content-Type": "application/json"}},
            413,
            "limit",
        ),
        ("/score", {"json": {"rows": []}}, 400, "input_data"),
        ("/v2/models/iris/infer", {"json": {"inputs": [{"name": "x"}]}}, 400, "shape"),
        (
            "/v2/models/iris/infer",
            {"json": {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP99", "data": [1, 2, 3, 4]}]}},
            400,
            "unknown datatype",
        ),
        ("/v2/models/other/infer", {"json": {"inputs": []}}, 404, "serves iris"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_the_server_keeps_serving(
    client, iris_model, route, kwargs, status, message
):
    import re

    reply = client.post(route, **kwargs)
    assert reply.status_code == status
    body = reply.json()
    assert re.search(message, body.get("message") or body.get("error")), body
    assert client.post("/score", json={"data": [[5.1, 3.5, 1.4, 0.2]]}).status_code == 200


def test_a_model_that_raises_is_a_500_not_a_dead_server(tmp_path):
    class Flaky:
        def predict(self, data):
            if np.asarray(data).sum() < 0:
                raise ValueError("negative input")
            return np.asarray(data).sum(axis=1)

    loaded = models.load(models.save(Flaky(), tmp_path / "flaky"), trust=True)
    client = TestClient(create_app(loaded, "flaky", "1"))
    bad = client.post("/invocations", json={"inputs": [[-1, -2]]})
    assert bad.status_code == 500 and "ValueError: negative input" in bad.json()["message"]
    assert client.post("/invocations", json={"inputs": [[1, 2]]}).json() == {"predictions": [3]}


def test_every_route_but_health_wants_the_key(iris_model):
    path, _, _ = iris_model
    app = create_app(models.load(path), "iris", "1", keys=[KEY, "second-key"])
    anonymous = TestClient(app)
    for route in app.routes:
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            url = route.path.replace("{model_name}", "iris").replace("{model_version}", "1")
            reply = anonymous.request(method, url)
            if route.path in OPEN_ROUTES:
                assert reply.status_code == 200, url
            else:
                assert reply.status_code == 401 and reply.headers["WWW-Authenticate"] == "Bearer", url
    wrong = anonymous.post("/score", json={"data": [[1, 2, 3, 4]]}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    second = anonymous.post(
        "/score", json={"data": [[1, 2, 3, 4]]}, headers={"Authorization": "Bearer second-key"}
    )
    assert second.status_code == 200


def test_trainyard_model_serve_serves_a_registered_model(ws, iris_model):
    import trainyard as ty

    path, model, X = iris_model
    ty.Model.register(ws, path, "iris").set_alias("production")
    with model_server(ws, "iris@production", "--key", KEY) as base:
        reply = httpx.post(
            f"{base}/score",
            json={"data": X.head(2).values.tolist()},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert reply.json() == model.predict(X.head(2)).tolist()
        assert httpx.get(f"{base}/version", timeout=5).json()["version"] == "1"


def test_serving_beyond_loopback_without_a_key_is_refused(ws, iris_model):
    path, _, _ = iris_model
    result = cli(ws, "model", "serve", str(path), "--host", "0.0.0.0")
    assert result.returncode == 1 and "--key" in result.stderr and "Traceback" not in result.stderr


SCORE_PY = """
import json, os
import pandas as pd
import trainyard as ty

def init():
    global model
    model = ty.models.load(os.environ["AZUREML_MODEL_DIR"])

def run(raw_data):
    rows = json.loads(raw_data)["rows"]
    if not rows:
        raise ValueError("no rows")
    return {"labels": model.predict(pd.DataFrame(rows)).tolist(), "count": len(rows)}
"""


def test_an_entry_script_answers_score(iris_model, tmp_path):
    path, model, X = iris_model
    (tmp_path / "score.py").write_text(SCORE_PY)
    client = TestClient(create_app(models.load(path), "iris", "1", entry_script=str(tmp_path / "score.py")))
    reply = client.post("/score", json={"rows": X.head(2).to_dict(orient="records")})
    assert reply.json() == {"labels": model.predict(X.head(2)).tolist(), "count": 2}
    failed = client.post("/score", json={"rows": []})
    assert (
        failed.status_code == 500 and "run() in the entry script failed: ValueError: no rows" in failed.text
    )
    assert client.post("/invocations", json={"instances": X.head(1).values.tolist()}).status_code == 200
    (tmp_path / "bad.py").write_text("def init():\n    pass\n")
    from trainyard.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="no run"):
        create_app(models.load(path), "iris", "1", entry_script=str(tmp_path / "bad.py"))


def test_the_openapi_document_describes_the_models_columns(client):
    document = client.get("/openapi.json").json()
    invocations = document["paths"]["/invocations"]["post"]["requestBody"]["content"]["application/json"]
    records = invocations["schema"]["properties"]["dataframe_records"]["items"]
    assert records["required"] == ["sl", "sw", "pl", "pw"] and records["properties"]["sl"] == {
        "type": "number"
    }
    assert invocations["example"]["dataframe_split"]["columns"] == ["sl", "sw", "pl", "pw"]
    score = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert [item["title"] for item in score["properties"]["data"]["items"]["prefixItems"]] == [
        "sl",
        "sw",
        "pl",
        "pw",
    ]
    infer = document["paths"]["/v2/models/{model_name}/infer"]["post"]["requestBody"]["content"]
    tensor = infer["application/json"]["schema"]["properties"]["inputs"]["items"]
    assert tensor["properties"]["name"]["enum"] == ["sl", "sw", "pl", "pw"]
    assert "FP64" in tensor["properties"]["datatype"]["enum"] and "application/octet-stream" in infer


def test_a_hanging_model_is_a_504_and_all_slots_hung_is_not_live(tmp_path):
    import threading

    from trainyard.models.format import LoadedModel

    release = threading.Event()

    class Stuck:
        def predict(self, data):
            if np.asarray(data).sum() < 0:
                release.wait(60)
            return np.asarray(data).sum(axis=1)

    loaded = LoadedModel(Stuck(), "python_model", None, tmp_path, {})
    client = TestClient(create_app(loaded, "stuck", "1", request_timeout=0.2))
    try:
        hung = client.post("/invocations", json={"inputs": [[-1, -2]]})
        assert hung.status_code == 504 and "within 0.2s" in hung.json()["message"]
        oip = client.post(
            "/v2/models/stuck/infer",
            json={"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [-1, -2]}]},
        )
        assert oip.status_code == 504 and "request timeout" in oip.json()["error"]
        assert client.post("/invocations", json={"inputs": [[1, 2]]}).json() == {"predictions": [3]}
        assert client.get("/v2/health/live").status_code == 200
        for _ in range(2):  # four slots, two hung above
            assert client.post("/invocations", json={"inputs": [[-1, -2]]}).status_code == 504
        live = client.get("/v2/health/live")
        assert live.status_code == 503 and "4 predictions are still running" in live.json()["error"]
    finally:
        release.set()
