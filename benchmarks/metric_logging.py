"""Logging 10,000 metric values from one process: trainyard vs MLflow (SQLite backend).

trainyard's figure is the whole cost until the values are in the database: the loop of
``run.log`` calls plus the final flush. MLflow's ``log_metric`` is timed over 500 calls (each is
a database round trip) and reported per value; ``log_batch`` over 10,000 values in batches of
1,000 (its limit per request).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import log_values, row, scratch_workspace, timer  # noqa: E402

N = 10_000
N_SINGLE = 500


def trainyard_per_value(tmp: Path) -> float:
    return log_values(scratch_workspace(tmp), N) / N


def mlflow_per_value(tmp: Path) -> tuple[float, float]:
    import mlflow
    from mlflow.entities import Metric

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    client = mlflow.MlflowClient()
    exp = client.create_experiment("bench", artifact_location=str(tmp / "mlartifacts"))
    run = client.create_run(exp)
    with timer() as single:
        for i in range(N_SINGLE):
            client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1), step=i)
    now = int(time.time() * 1000)
    with timer() as batch:
        for start in range(0, N, 1000):
            metrics = [Metric("loss2", 1.0 / (i + 1), now, i) for i in range(start, start + 1000)]
            client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id)
    return single["s"] / N_SINGLE, batch["s"] / N


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        ours = trainyard_per_value(Path(d))
        single, batch = mlflow_per_value(Path(d))
    return [
        row("log 10k metrics, per value (vs log_metric)", ours, "mlflow log_metric", single, "us"),
        row("log 10k metrics, per value (vs log_batch)", ours, "mlflow log_batch", batch, "us"),
    ]


if __name__ == "__main__":
    print("\n".join(main()))
