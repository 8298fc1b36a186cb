"""A many-models deployment: a request whose partition is in memory (hot) and one whose model
must be loaded first (cold), against doing the same yourself in-process in the same run: a
loaded model's ``predict``, and ``trainyard.models.load`` (the model format's load call) then
``predict``. The group is PARTITIONS linear models registered as the driver registers them
(versions of one name tagged ``partition.store``); the deployment keeps IN_MEMORY of them, so
cycling through the others is cold every time. Requests go through the endpoint's router.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace  # noqa: E402

PARTITIONS = 40
IN_MEMORY = 8
ROWS = 10  # per request, all of one partition
HOT_REQUESTS = 300


def register_group(ws, folder: Path) -> None:  # noqa: ANN001 - a Workspace
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import trainyard as ty

    rng = np.random.default_rng(0)
    for store in range(PARTITIONS):
        x = pd.DataFrame({"x": rng.uniform(0, 10, 50)})
        model = LinearRegression().fit(x, x["x"] * (store + 1) + rng.normal(0, 0.1, 50))
        saved = ty.models.save(model, folder / f"store{store}", input_example=x.head(3))
        ty.Model.register(ws, saved, "bench-many", tags={"partition.store": str(store)})


def main() -> list[str]:
    import pandas as pd

    from trainyard.models import load
    from trainyard.serving import endpoints

    with tempfile.TemporaryDirectory() as d:
        ws = scratch_workspace(Path(d))
        register_group(ws, Path(d))
        endpoints.create_endpoint(ws, "bench", timeout=120)
        try:
            endpoints.create_deployment(
                ws, "bench", "stores", "bench-many", many_models=True, max_models_in_memory=IN_MEMORY
            )
            endpoints.set_traffic(ws, "bench", {"stores": 100})
            record = ws.store.get_endpoint("bench")
            headers = {"Authorization": f"Bearer {record.primary_key}", "Content-Type": "application/json"}

            def body(store: int) -> bytes:
                return json.dumps({"data": [{"store": store, "x": float(i)} for i in range(ROWS)]}).encode()

            with httpx.Client(base_url=f"http://127.0.0.1:{record.port}", timeout=60) as client:

                def request(store: int) -> float:
                    t = time.perf_counter()
                    reply = client.post("/score", content=body(store), headers=headers)
                    took = time.perf_counter() - t
                    assert reply.status_code == 200, reply.text
                    return took

                request(0)  # the first load imports scikit-learn in the worker: not counted
                hot = statistics.median(request(0) for _ in range(HOT_REQUESTS))
                cold = statistics.median(request(store) for store in range(1, PARTITIONS))
                port = ws.store.get_deployment("bench", "stores").port
                stats = httpx.get(f"http://127.0.0.1:{port}/health").json()["many_models"]
            assert stats["loaded"] == PARTITIONS, stats  # every one of the cycle was cold

            rows = pd.DataFrame({"x": [float(i) for i in range(ROWS)]})
            versions = {
                v.tags["partition.store"]: v.version for v in ws.store.list_model_versions("bench-many")
            }
            own = load(f"models:/bench-many/{versions['0']}", workspace=ws)
            own.predict(rows)

            def predict_yourself() -> float:
                t = time.perf_counter()
                own.predict(rows)
                return time.perf_counter() - t

            def load_yourself(store: int) -> float:
                t = time.perf_counter()
                load(f"models:/bench-many/{versions[str(store)]}", workspace=ws).predict(rows)
                return time.perf_counter() - t

            hot_own = statistics.median(predict_yourself() for _ in range(HOT_REQUESTS))
            cold_own = statistics.median(load_yourself(store) for store in range(1, PARTITIONS))
        finally:
            endpoints.delete_endpoint(ws, "bench")
    return [
        f"many-models deployment: {PARTITIONS} partitions, {IN_MEMORY} in memory, {ROWS} rows a request",
        row("hot partition: request via the router", hot, "predict() in-process", hot_own, added=True),
        row("cold partition: request via the router", cold, "load() + predict()", cold_own, added=True),
        f"{'cold / hot request':<46} {cold / hot:.1f}x   "
        f"(in-process load+predict / predict: {cold_own / hot_own:.1f}x)",
    ]


if __name__ == "__main__":
    print("\n".join(main()))
