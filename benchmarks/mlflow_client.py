"""The same unmodified ``MlflowClient`` against ``mlflow server`` and against trainyard's MLflow routes.

Both servers on their own database of the same PostgreSQL, artifacts on local disk. Measured per
server, in the same run:

1. ``log_metric``, one request per value (``N_VALUES`` of them): values per second;
2. ``log_batch`` with 1000 metrics per request (``N_BATCHES``): values per second;
3. ``search_runs`` over ``N_RUNS`` runs (params and metrics each) with a filter, an order by a metric
   and a page of 100: the median of ``N_SEARCHES`` calls.

Every count is checked against what the server returns. Needs PostgreSQL on 127.0.0.1:5432
(``$BENCH_PG_ADMIN`` overrides it) and the ``bench`` extra (``mlflow``).
Run: ``.venv/bin/python benchmarks/mlflow_client.py``.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from _common import timer  # noqa: E402
from _server import database, mlflow_server, trainyard_server  # noqa: E402

N_VALUES = 300
N_BATCHES = 20
N_RUNS = 300
N_SEARCHES = 20
console = Console()


def measure(url: str) -> dict[str, float]:
    """The three figures for the server at ``url`` (MLFLOW_TRACKING_TOKEN set by the caller if needed)."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=url)
    exp = client.create_experiment("bench")
    run_id = client.create_run(exp).info.run_id
    with timer() as single:
        for i in range(N_VALUES):
            client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    assert len(client.get_metric_history(run_id, "loss")) == N_VALUES
    now = int(time.time() * 1000)
    with timer() as batched:
        for b in range(N_BATCHES):
            metrics = [Metric("acc", i / 1000, now, b * 1000 + i) for i in range(1000)]
            client.log_batch(run_id, metrics=metrics)
    assert len(client.get_metric_history(run_id, "acc")) == N_BATCHES * 1000
    for i in range(N_RUNS):
        rid = client.create_run(exp).info.run_id
        params = [Param("alpha", str(i % 10)), Param("model", "ridge" if i % 2 else "lasso")]
        client.log_batch(rid, metrics=[Metric("rmse", (i * 7919 % 1000) / 1000, now, 0)], params=params)
    latencies = []
    for _ in range(N_SEARCHES):
        start = time.perf_counter()
        page = client.search_runs(
            [exp],
            "metrics.rmse < 0.9 and params.model = 'ridge'",
            order_by=["metrics.rmse DESC"],
            max_results=100,
        )
        latencies.append(time.perf_counter() - start)
    assert len(page) == 100 and page[0].data.metrics["rmse"] >= page[-1].data.metrics["rmse"]
    return {
        "log_metric": N_VALUES / single["s"],
        "log_batch": N_BATCHES * 1000 / batched["s"],
        "search": statistics.median(latencies),
    }


def main() -> None:
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="trainyard-bench-") as folder:
        tmp = Path(folder)
        pid = os.getpid()
        with database(f"bench_mlc_ty_{pid}") as ty_uri, database(f"bench_mlc_ml_{pid}") as ml_uri:
            with mlflow_server(tmp, ml_uri) as url, console.status("mlflow client -> mlflow server"):
                theirs = measure(url)
            with trainyard_server(tmp, ty_uri) as (url, token), console.status("mlflow client -> trainyard"):
                os.environ["MLFLOW_TRACKING_TOKEN"] = token
                ours = measure(url)
    rows = [
        ("log_metric, one value per request", "values/s", ours["log_metric"], theirs["log_metric"], True),
        ("log_batch, 1000 metrics per request", "values/s", ours["log_batch"], theirs["log_batch"], True),
        (
            f"search_runs over {N_RUNS} runs, page of 100",
            "ms p50",
            ours["search"] * 1000,
            theirs["search"] * 1000,
            False,
        ),
    ]
    for name, unit, us, them, higher_is_better in rows:
        ratio = us / them if higher_is_better else them / us
        console.print(
            f"MLflow client, {name:<38} trainyard {us:9.1f} {unit:<9} mlflow server {them:9.1f} {unit:<9} "
            f"ratio {ratio:5.1f}x",
            soft_wrap=True,
        )


if __name__ == "__main__":
    main()
