"""Online endpoints on 127.0.0.1: deployments, keys, traffic shifts without a failed request,
restarts after a crash, and a broken model that never takes the endpoint down."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import trainyard as ty
from trainyard import models
from trainyard.errors import InvalidInputError, TrainyardError
from trainyard.serving import endpoints

ROW = {"data": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def served(ws, tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["sl", "sw", "pl", "pw"]
    for version, c in enumerate((0.01, 1.0), start=1):
        model = LogisticRegression(max_iter=500, C=c).fit(X, y)
        ty.Model.register(ws, models.save(model, tmp_path / f"v{version}", input_example=X.head()), "iris")
    endpoints.create_endpoint(ws, "iris-ep")
    yield ws
    endpoints.delete_endpoint(ws, "iris-ep")


def url(ws, path="/score"):
    return f"http://127.0.0.1:{ws.store.get_endpoint('iris-ep').port}{path}"


def auth(ws, which="primary"):
    return {"Authorization": f"Bearer {getattr(ws.store.get_endpoint('iris-ep'), which + '_key')}"}


def test_deploy_invoke_keys_and_protocols(served):
    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    status, reply = endpoints.invoke(ws, "iris-ep", b'{"data": [[5.1, 3.5, 1.4, 0.2]]}')
    assert status == 200 and reply == [0]
    mlflow_style = httpx.post(
        url(ws, "/invocations"), json={"instances": [[5.1, 3.5, 1.4, 0.2]]}, headers=auth(ws)
    )
    assert (
        mlflow_style.json() == {"predictions": [0]}
        and mlflow_style.headers["azureml-model-deployment"] == "blue"
    )
    triton = pytest.importorskip("tritonclient.http")  # OIP binary tensors and gzip, through the router
    table = triton.InferInput("x", [1, 4], "FP64")
    table.set_data_from_numpy(np.array(ROW["data"]))
    client = triton.InferenceServerClient(url(ws, "").removeprefix("http://"))
    answer = client.infer("iris", [table], headers=auth(ws), request_compression_algorithm="gzip")
    assert answer.as_numpy("predict").tolist() == [0]
    assert httpx.post(url(ws), json=ROW).status_code == 401
    assert httpx.post(url(ws), json=ROW, headers=auth(ws, "secondary")).status_code == 200
    old = auth(ws)
    endpoints.regenerate_key(ws, "iris-ep", "primary")
    assert httpx.post(url(ws), json=ROW, headers=old).status_code == 401
    assert httpx.post(url(ws), json={"data": [[1, 2]]}, headers=auth(ws)).status_code == 400
    with pytest.raises(InvalidInputError, match="add up to 100"):
        endpoints.set_traffic(ws, "iris-ep", {"blue": 90})
    with pytest.raises(InvalidInputError, match="no deployment green"):
        endpoints.set_traffic(ws, "iris-ep", {"green": 100})
    with pytest.raises(InvalidInputError, match="move it first"):
        endpoints.delete_deployment(ws, "iris-ep", "blue")


def test_blue_green_shift_drops_no_request(served):
    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    endpoints.create_deployment(ws, "iris-ep", "green", "iris:2")
    failures: list[str] = []
    seen: set[str] = set()
    done = threading.Event()

    def client_loop() -> None:
        with httpx.Client() as client:
            while not done.is_set():
                reply = client.post(url(ws), json=ROW, headers=auth(ws))
                if reply.status_code != 200:
                    failures.append(f"{reply.status_code} {reply.text}")
                seen.add(reply.headers.get("azureml-model-deployment", "?"))

    threads = [threading.Thread(target=client_loop) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    endpoints.set_traffic(ws, "iris-ep", {"blue": 50, "green": 50})
    time.sleep(1)
    endpoints.set_traffic(ws, "iris-ep", {"green": 100})
    endpoints.delete_deployment(ws, "iris-ep", "blue")
    time.sleep(1)
    done.set()
    for t in threads:
        t.join()
    assert failures == []
    assert seen == {"blue", "green"}
    assert [d.name for d in ws.store.list_deployments("iris-ep")] == ["green"]


def _restarted_once(ws, deployment: str):
    """The deployment once it is ready again after one restart (or as it is after 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = ws.store.get_deployment("iris-ep", deployment)
        if current.restarts == 1 and current.status == "ready":
            return current
        time.sleep(0.2)
    return ws.store.get_deployment("iris-ep", deployment)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_killed_scoring_server_is_restarted(served):
    ws = served
    record = endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    supervisor = int(record.worker.rsplit(":", 2)[1])
    for child in _children(supervisor):
        os.kill(child, signal.SIGKILL)
    assert _restarted_once(ws, "blue").restarts == 1
    time.sleep(0.6)
    assert httpx.post(url(ws), json=ROW, headers=auth(ws)).status_code == 200


def test_a_corrupt_model_fails_its_deployment_and_the_endpoint_serves_on(served):
    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    version = ty.Model(ws, "iris:2")
    key = next(k for k in version._record.files if k.endswith("model.skops"))
    ws.artifacts.put_bytes(key, b"corrupted")
    with pytest.raises(TrainyardError, match="sha256"):
        endpoints.create_deployment(ws, "iris-ep", "green", "iris:2")
    assert ws.store.get_deployment("iris-ep", "green").status == "failed"
    assert httpx.post(url(ws), json=ROW, headers=auth(ws)).json() == [0]


def test_a_deployment_with_an_entry_script(served, tmp_path):
    ws = served
    script = tmp_path / "score.py"
    script.write_text(
        "import json, os\nimport trainyard as ty\n"
        "def init():\n    global model\n    model = ty.models.load(os.environ['AZUREML_MODEL_DIR'])\n"
        "def run(raw_data):\n    return {'script': True, 'rows': len(json.loads(raw_data)['data'])}\n"
    )
    endpoints.create_deployment(ws, "iris-ep", "scripted", "iris:2", entry_script=str(script))
    script.write_text("broken on purpose")  # the deployment keeps the copy it was given
    status, reply = endpoints.invoke(
        ws, "iris-ep", b'{"data": [[1, 2, 3, 4], [1, 2, 3, 4]]}', deployment="scripted"
    )
    assert status == 200 and reply == {"script": True, "rows": 2}
    with pytest.raises(InvalidInputError, match="does not exist"):
        endpoints.create_deployment(
            ws, "iris-ep", "missing", "iris:2", entry_script=str(tmp_path / "nope.py")
        )


def _wait_answered(ws, timeout=30.0):
    """Until the scoring URI answers 200 (the router killed a moment ago may still be starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.post(url(ws), json=ROW, headers=auth(ws), timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the scoring URI did not answer within {timeout}s")


def test_a_killed_router_is_restarted_on_the_same_port(served):
    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    port = ws.store.get_endpoint("iris-ep").port
    supervisor = int(ws.store.get_endpoint("iris-ep").worker.rsplit(":", 2)[1])
    (router,) = _children(supervisor)
    os.kill(router, signal.SIGKILL)
    _wait_answered(ws)
    assert ws.store.get_endpoint("iris-ep").port == port
    assert _children(supervisor) != [router]
    shown = endpoints.describe(ws, "iris-ep")
    assert shown["router"] == "up" and shown["router_restarts"] == 1


def test_a_killed_router_supervisor_hands_over_without_closing_the_port(served):
    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    first = ws.store.get_endpoint("iris-ep").worker
    os.kill(int(first.rsplit(":", 2)[1]), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while ws.store.get_endpoint("iris-ep").worker == first and time.monotonic() < deadline:
        assert httpx.post(url(ws), json=ROW, headers=auth(ws), timeout=30).status_code == 200
        time.sleep(0.1)
    assert endpoints.describe(ws, "iris-ep")["router"] == "up"
    _wait_answered(ws)
    second = int(ws.store.get_endpoint("iris-ep").worker.rsplit(":", 2)[1])
    deadline = time.monotonic() + 30
    while not _children(second) and time.monotonic() < deadline:
        time.sleep(0.1)
    (router,) = _children(second)  # the new supervisor supervises: kill its router too
    os.kill(router, signal.SIGKILL)
    _wait_answered(ws)
    assert endpoints.describe(ws, "iris-ep")["router_restarts"] == 1


def _register(ws, tmp_path, model, name):
    ty.Model.register(ws, models.save(model, tmp_path / name), name)


def test_a_hanging_predict_is_a_504_and_a_stuck_server_is_restarted(served, tmp_path):
    class Sleepy:
        def predict(self, data):
            import numpy as np

            rows = np.asarray(data, dtype=float)
            if rows.sum() < 0:
                time.sleep(3600)  # hangs: only the supervisor's restart ends it
            return rows.sum(axis=1)

    ws = served
    _register(ws, tmp_path, Sleepy(), "sleepy")
    record = endpoints.create_deployment(ws, "iris-ep", "slow", "sleepy:1", request_timeout=1)
    assert record.request_timeout == 1.0
    hang, fine = b'{"data": [[-1, -2]]}', b'{"data": [[1, 2]]}'
    status, reply = endpoints.invoke(ws, "iris-ep", hang, deployment="slow")
    assert status == 504 and reply["error_code"] == "TIMEOUT"
    assert "did not answer within 1s" in reply["message"]
    assert endpoints.invoke(ws, "iris-ep", fine, deployment="slow") == (200, [3.0])
    with_all_slots_hung = [
        threading.Thread(target=endpoints.invoke, args=(ws, "iris-ep", hang, "slow")) for _ in range(4)
    ]
    for t in with_all_slots_hung:
        t.start()
    for t in with_all_slots_hung:
        t.join()
    assert _restarted_once(ws, "slow").restarts == 1
    log = (ws.root / "endpoints" / "iris-ep.slow.log").read_text()
    assert "restarted: 4 predictions are still running past the 1s request timeout" in log
    time.sleep(0.6)  # the router re-reads the new port
    assert endpoints.invoke(ws, "iris-ep", fine, deployment="slow") == (200, [3.0])
    assert endpoints.describe(ws, "iris-ep")["deployments"][0]["request_timeout"] == 1.0
    with pytest.raises(InvalidInputError, match="above 0"):
        endpoints.create_deployment(ws, "iris-ep", "never", "sleepy:1", request_timeout=0)


def test_a_model_that_does_not_load_is_live_not_ready_and_says_why(served, tmp_path):
    class Unloadable:
        def __init__(self):
            self.weights = [1.0]  # a state to set, so unpickling calls __setstate__

        def predict(self, data):
            return data

        def __setstate__(self, state):
            raise RuntimeError("the weights are gone")

    ws = served
    endpoints.create_deployment(ws, "iris-ep", "blue", "iris:1")
    endpoints.set_traffic(ws, "iris-ep", {"blue": 100})
    _register(ws, tmp_path, Unloadable(), "unloadable")
    with pytest.raises(TrainyardError, match="the model did not load: RuntimeError: the weights are gone"):
        endpoints.create_deployment(ws, "iris-ep", "broken", "unloadable:1")
    broken = ws.store.get_deployment("iris-ep", "broken")
    assert broken.status == "failed" and "the weights are gone" in broken.error
    live = httpx.get(f"http://127.0.0.1:{broken.port}/v2/health/live")
    assert live.status_code == 200 and live.json()["ready"] is False
    ready = httpx.get(f"http://127.0.0.1:{broken.port}/v2/health/ready")
    assert ready.status_code == 503 and "the weights are gone" in ready.json()["error"]
    scored = httpx.post(f"http://127.0.0.1:{broken.port}/score", json={"data": [[1]]})
    assert scored.status_code == 503 and "the weights are gone" in scored.json()["message"]
    shown = next(d for d in endpoints.describe(ws, "iris-ep")["deployments"] if d["name"] == "broken")
    assert shown["supervisor"] == "up" and "the weights are gone" in shown["error"]
    assert "RuntimeError: the weights are gone" in (ws.root / "endpoints" / "iris-ep.broken.log").read_text()
    assert httpx.post(url(ws), json=ROW, headers=auth(ws)).json() == [0]
