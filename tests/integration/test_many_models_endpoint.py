"""One endpoint deployment serving a whole many-models group: a real group trained by the
driver, deployed with the CLI's deployment YAML, rows of several partitions in one request
answered by their own partitions' models, eviction with a cache of one, the bad inputs, and a
partition retried after the deployment started served on the next request."""

from __future__ import annotations

import json
import threading

import httpx
import numpy as np
import pandas as pd
import pytest

import trainyard as ty
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.models import load
from trainyard.serving import endpoints

from .scoring_helpers import cli
from .test_many_models import SCRIPT, sales, script_config

pytestmark = pytest.mark.timeout(600)  # three partitions trained, one retried: minutes on a busy machine
ROWS = [{"store": s, "x": x} for s, x in ((2, 1.0), (0, 2.0), (2, 3.0), (0, 4.0), (2, 9.5))]


def score(ws, body, path="/score"):
    status, reply = endpoints.invoke(ws, "sales", json.dumps(body).encode(), path=path)
    return status, reply


def health(ws):
    port = ws.store.get_deployment("sales", "stores").port
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["many_models"]


def own(ws, store: int, rows: list[dict]) -> list[float]:
    """What the partition's own registered model predicts for ``rows``."""
    (version,) = [
        v for v in ws.store.list_model_versions("sales-many") if v.tags["partition.store"] == str(store)
    ]
    model = load(f"models:/sales-many/{version.version}", workspace=ws)
    return list(model.predict(pd.DataFrame(rows)[["x"]]))


@pytest.fixture
def endpoint(ws):
    endpoints.create_endpoint(ws, "sales", timeout=120)  # a loaded machine starts it slowly
    yield
    endpoints.delete_endpoint(ws, "sales")


@pytest.fixture
def group(ws, script_dir, endpoint):
    """The sales group with store 1 failed (its rows refused by the script): models for 0 and 2."""
    run = ty.submit_many_models(ws, script_config(script_dir({"train.py": SCRIPT}), sales(bad_store=1)))
    run.wait_for_completion(timeout_seconds=180, raise_on_error=False)
    return run


def test_one_deployment_routes_rows_by_partition_evicts_and_serves_a_retried_partition(
    ws, group, script_dir, tmp_path
):
    spec = tmp_path / "stores.yml"
    spec.write_text(
        "name: stores\nendpoint_name: sales\n"
        "many_models: {model_name: sales-many, max_models_in_memory: 1}\n"
        "request_settings: {request_timeout_ms: 30000}\n"
    )
    made = cli(ws, "deployment", "create", "-f", str(spec))
    assert made.returncode == 0, made.stderr
    assert "many models sales-many (up to 1 in memory)" in made.stdout
    endpoints.set_traffic(ws, "sales", {"stores": 100})
    assert health(ws)["partitions"] == 2 and health(ws)["loaded"] == 0  # nothing loaded until asked

    # rows of two partitions, interleaved: each answered by its own partition's model, in order
    status, reply = score(ws, {"data": ROWS})
    assert status == 200, reply
    expected = [0.0] * len(ROWS)
    for store in (0, 2):
        at = [i for i, r in enumerate(ROWS) if r["store"] == store]
        for i, value in zip(at, own(ws, store, [ROWS[i] for i in at]), strict=True):
            expected[i] = value
    np.testing.assert_allclose(reply, expected)
    assert reply[0] < 0 < reply[1]  # store 2's slope is -3, store 0's +1: routing shows
    # a cache of one: store 2 loaded, then store 0 in its place
    stats = health(ws)
    assert (stats["loaded"], stats["evicted"]) == (2, 1)
    assert stats["in_memory"] == [f"store=0 (sales-many:{own_version(ws, 0)})"]

    # MLflow's protocol routes the same way; store 0, in memory, first (a hit), then store 2 loaded again
    status, reply = score(ws, {"dataframe_records": ROWS}, path="/invocations")
    assert status == 200 and np.allclose(reply["predictions"], expected)
    stats = health(ws)
    assert (stats["loaded"], stats["evicted"], stats["hits"]) == (3, 2, 1)

    # bad input: a 4xx that names the partition or the column, and the deployment serves on
    status, reply = score(ws, {"data": [{"store": 0, "x": 1.0}, {"store": 1, "x": 2.0}]})
    assert (
        status == 404 and "no model of 'sales-many' for partition(s) store=1 (1 row(s))" in reply["message"]
    )
    assert "it has models for store=0, store=2" in reply["message"]
    status, reply = score(ws, {"data": [{"x": 1.0}]})
    assert status == 400 and "the request lacks the partition column(s) 'store'" in reply["message"]
    status, reply = score(ws, {"data": [[0, 1.0]]})
    assert status == 400 and "rows with column names" in reply["message"]
    infer = {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]}
    status, reply = score(ws, infer, path="/v2/models/sales-many/infer")
    assert status == 404 and "many-models group" in reply["error"]
    assert score(ws, {"data": ROWS[:1]})[0] == 200

    # store 1 retried with a fixed script after the deployment started: served on the next
    # request, by its new version; two requests for it at once load it once
    fixed = script_dir({"train.py": SCRIPT.replace('sys.exit("negative', 'print("negative')})
    (child,) = group.retry("store=1", config=script_config(fixed, sales()), timeout_seconds=120)
    assert child.get_status() == "completed"
    before = health(ws)["loaded"]
    rows = [{"store": 1, "x": 2.0}, {"store": 1, "x": 7.0}]
    replies: list[tuple[int, object]] = []
    both = [threading.Thread(target=lambda: replies.append(score(ws, {"data": rows}))) for _ in range(2)]
    for t in both:
        t.start()
    for t in both:
        t.join(60)
    assert [s for s, _ in replies] == [200, 200]
    for _, reply in replies:
        np.testing.assert_allclose(reply, own(ws, 1, rows))
    assert health(ws)["loaded"] == before + 1 and health(ws)["partitions"] == 3

    shown = endpoints.describe(ws, "sales")["deployments"][0]
    assert shown["model"] == "sales-many (many models)" and shown["many_models"]["partitions"] == 3
    log = endpoints.endpoint_log(ws, "sales", "stores")
    assert "many models sales-many: loaded store=1" in log and "evicted version" in log


def own_version(ws, store: int) -> int:
    (version,) = [
        v.version
        for v in ws.store.list_model_versions("sales-many")
        if v.tags["partition.store"] == str(store)
    ]
    return version


def test_a_deployment_of_no_group_or_with_an_entry_script_is_refused(ws, endpoint, tmp_path):
    with pytest.raises(NotFoundError, match="'nothing-many' has no version tagged with its partition"):
        endpoints.create_deployment(ws, "sales", "none", "nothing-many", many_models=True)
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n\ndef run(raw_data):\n    return raw_data\n")
    with pytest.raises(InvalidInputError, match="it takes no entry script"):
        endpoints.create_deployment(ws, "sales", "s", "sales-many", entry_script=script, many_models=True)
    with pytest.raises(InvalidInputError, match="max_models_in_memory must be 1 or more"):
        endpoints.create_deployment(ws, "sales", "s", "sales-many", many_models=True, max_models_in_memory=0)
    with pytest.raises(InvalidInputError, match="for a many-models deployment"):
        endpoints.create_deployment(ws, "sales", "s", "sales-many:1", max_models_in_memory=2)
    refused = cli(
        ws, "deployment", "create", "s", "-e", "sales", "--model", "x:1", "--many-models", "sales-many"
    )
    assert refused.returncode == 1 and "not both" in refused.stdout + refused.stderr
    assert ws.store.list_deployments("sales") == []


def test_a_server_workspace_serves_the_group_from_the_server(tmp_path, monkeypatch):
    """A client asks for the deployment; the server runs it on its own workspace's group."""
    from sklearn.linear_model import LinearRegression

    from trainyard import models
    from trainyard.store.server import server_part
    from trainyard.workspace import Workspace

    from .server_helpers import ServerProcess

    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TRAINYARD_WORKSPACE", raising=False)
    served = Workspace.create(tmp_path / "srv")
    x = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    for store, slope in ((0, 1.0), (1, -2.0)):  # registered as the driver registers them
        folder = models.save(LinearRegression().fit(x, x["x"] * slope), tmp_path / f"s{store}")
        ty.Model.register(served, folder, "sales-many", tags={"partition.store": str(store)})
    auth = server_part(served.store)
    auth.add_user("alice", "contributor")
    monkeypatch.setenv("TRAINYARD_TOKEN", auth.create_token("alice")[0])
    server = ServerProcess(served.root)
    server.start()
    try:
        alice = Workspace.from_config(server.url)
        endpoints.create_endpoint(alice, "sales")
        made = endpoints.create_deployment(
            alice, "sales", "stores", "sales-many", many_models=True, max_models_in_memory=1
        )
        assert made.serves_group and made.max_models_in_memory == 1
        endpoints.set_traffic(alice, "sales", {"stores": 100})
        body = {"data": [{"store": 1, "x": 2.0}, {"store": 0, "x": 2.0}]}
        status, reply = endpoints.invoke(alice, "sales", json.dumps(body).encode())
        assert status == 200 and np.allclose(reply, [-4.0, 2.0])
        shown = endpoints.describe(alice, "sales")["deployments"][0]["many_models"]
        assert (shown["loaded"], shown["evicted"], shown["partitions"]) == (2, 1, 2)
    finally:
        for endpoint in served.store.list_endpoints():
            endpoints.delete_endpoint(served, endpoint.name)
        server.stop()
        served.close()
