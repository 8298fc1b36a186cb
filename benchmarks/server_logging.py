"""Metric logging over HTTP, per value, against a team server on PostgreSQL; and 50 clients at once.

1. One client logs ``N`` values one ``run.log`` call at a time to ``trainyard server`` (the SDK
   batches them: a request carries up to 10,000 values) vs ``MlflowClient.log_metric`` per value
   against ``mlflow server`` (one request per value, timed over ``N_MLFLOW`` calls), both servers
   on their own database of the same PostgreSQL. The figure is values per second, until every
   value is in the database (checked). trainyard unbatched (one value per request) is shown too.
2. ``CLIENTS`` threads, each with its own client, log one value per request for ``SECONDS``:
   p50/p99 request latency and values per second (the worst case: no client-side batching).

Needs PostgreSQL on 127.0.0.1:5432 (``$BENCH_PG_ADMIN`` overrides the admin URI) and the
``bench`` extra (``mlflow``). Run: ``.venv/bin/python benchmarks/server_logging.py``.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from _common import log_values, timer  # noqa: E402
from _server import database, mlflow_server, trainyard_server  # noqa: E402

N = 10_000
N_MLFLOW = 300
CLIENTS = 50
SECONDS = 10.0
console = Console()


def trainyard_per_value(url: str, token: str, tmp: Path) -> float:
    from trainyard.workspace import Workspace

    os.environ.update(TRAINYARD_TOKEN=token, TRAINYARD_CACHE_DIR=str(tmp / "cache"))
    return N / log_values(Workspace.from_config(url), N)


def trainyard_per_request(url: str, token: str) -> float:
    """Unbatched, as MLflow's client: one value per request, ``N_MLFLOW`` of them."""
    from trainyard.status import RunStatus
    from trainyard.store import Metric
    from trainyard.store.rest import RestStore

    store = RestStore(url, token=token)
    run = store.create_run(store.create_experiment("per-request").id, status=RunStatus.RUNNING)
    with timer() as t:
        for i in range(N_MLFLOW):
            store.log_metric(run.id, Metric("loss", 1.0 / (i + 1), i, time.time()))
    assert len(store.get_metric_history(run.id, "loss")) == N_MLFLOW
    store.close()
    return N_MLFLOW / t["s"]


def mlflow_per_value(tmp: Path, pg_uri: str) -> float:
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    with mlflow_server(tmp, pg_uri) as url:
        client = MlflowClient(tracking_uri=url)
        run = client.create_run(client.create_experiment("bench"))
        with timer() as t:
            for i in range(N_MLFLOW):
                client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1), step=i)
        assert len(client.get_metric_history(run.info.run_id, "loss")) == N_MLFLOW
    return N_MLFLOW / t["s"]


def fifty_clients(url: str, token: str) -> tuple[int, float, float]:
    """Values logged in ``SECONDS`` by ``CLIENTS`` threads, and p50/p99 per request (seconds)."""
    from trainyard.status import RunStatus
    from trainyard.store import Metric
    from trainyard.store.rest import RestStore

    setup = RestStore(url, token=token)
    exp = setup.create_experiment("load")
    runs = [setup.create_run(exp.id, status=RunStatus.RUNNING).id for _ in range(CLIENTS)]
    latencies: list[float] = []
    stop = threading.Event()

    def client(run_id: str) -> None:
        store = RestStore(url, token=token)
        step = 0
        while not stop.is_set():
            start = time.perf_counter()
            store.log_metric(run_id, Metric("loss", float(step), step, time.time()))
            latencies.append(time.perf_counter() - start)
            step += 1
        store.close()

    threads = [threading.Thread(target=client, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    stored = sum(len(setup.get_metric_history(r, "loss")) for r in runs)
    assert stored == len(latencies), f"{len(latencies)} values sent, {stored} stored"
    setup.close()
    q = statistics.quantiles(latencies, n=100)
    return len(latencies), q[49], q[98]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="trainyard-bench-") as folder:
        tmp = Path(folder)
        pid = os.getpid()
        with database(f"bench_ty_{pid}") as ty_uri, database(f"bench_mlflow_{pid}") as ml_uri:
            with console.status("mlflow server: log_metric per value"):
                theirs = mlflow_per_value(tmp, ml_uri)
            with trainyard_server(tmp, ty_uri) as (url, token):
                with console.status("trainyard server: run.log per value"):
                    ours = trainyard_per_value(url, token, tmp)
                with console.status("trainyard server: one value per request"):
                    unbatched = trainyard_per_request(url, token)
                with console.status(f"{CLIENTS} clients, one value per request, {SECONDS:.0f} s"):
                    count, p50, p99 = fifty_clients(url, token)
    console.print(
        f"{'metric logging over HTTP, values/s':<42} trainyard {ours:10.0f}   "
        f"mlflow server {theirs:8.0f}   ratio {ours / theirs:6.1f}x"
    )
    console.print(
        f"{'  the same, one value per request':<42} trainyard {unbatched:10.0f}   "
        f"mlflow server {theirs:8.0f}   ratio {unbatched / theirs:6.1f}x"
    )
    console.print(
        f"{CLIENTS} clients x {SECONDS:.0f} s, one value per request: {count / SECONDS:.0f} values/s, "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (no value lost)"
    )


if __name__ == "__main__":
    main()
