"""Listing an experiment of 10,000 runs with metrics: trainyard vs MLflow's search_runs.

Both stores are SQLite files filled the same way (each run has two params and three metrics).
MLflow is filled with 1,000 runs (filling it is slow); its ``search_runs`` over them is the
baseline the issue names. trainyard is timed over 10,000: the store query (``search_runs``,
every run with params, tags and latest metrics) and the ``trainyard run list`` command as a user
types it (a new process, 50 rows printed).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_of, row, scratch_workspace, timer  # noqa: E402

N_OURS = 10_000
N_MLFLOW = 1_000


def fill_trainyard(ws, n: int) -> str:  # noqa: ANN001
    from trainyard.status import RunStatus
    from trainyard.store import Metric

    exp = ws.store.create_experiment("big")
    now = time.time()
    for i in range(n):
        run = ws.store.create_run(exp.id, status=RunStatus.RUNNING)
        ws.store.log_batch(
            run.id,
            metrics=[
                Metric("loss", 1 / (i + 1), 0, now),
                Metric("acc", 0.5, 0, now),
                Metric("f1", 0.4, 0, now),
            ],
            params={"alpha": str(i), "depth": "3"},
        )
        ws.store.set_status(run.id, RunStatus.COMPLETED)
    return exp.id


def fill_mlflow(tmp: Path, n: int):  # noqa: ANN201
    import mlflow
    from mlflow.entities import Metric, Param

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    client = mlflow.MlflowClient()
    exp = client.create_experiment("big", artifact_location=str(tmp / "mlartifacts"))
    now = int(time.time() * 1000)
    for i in range(n):
        run = client.create_run(exp)
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("loss", 1 / (i + 1), now, 0),
                Metric("acc", 0.5, now, 0),
                Metric("f1", 0.4, now, 0),
            ],
            params=[Param("alpha", str(i)), Param("depth", "3")],
        )
    return client, exp


def main() -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ws = scratch_workspace(tmp)
        exp_id = fill_trainyard(ws, N_OURS)

        def ours() -> float:
            with timer() as t:
                runs = ws.store.search_runs([exp_id])
            assert len(runs) == N_OURS and runs[0].metrics
            return t["s"]

        def cli() -> float:
            env = {**os.environ, "TRAINYARD_WORKSPACE": str(ws.root)}
            with timer() as t:
                subprocess.run(
                    [sys.executable, "-m", "trainyard.cli.main", "run", "list", "-e", "big"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
            return t["s"]

        def python_startup() -> float:
            with timer() as t:
                subprocess.run([sys.executable, "-c", "pass"], check=True)
            return t["s"]

        store_s = median_of(ours, 5)
        cli_s = median_of(cli, 5)
        bare_s = median_of(python_startup, 5)
        client, exp = fill_mlflow(tmp, N_MLFLOW)

        def theirs() -> float:
            with timer() as t:
                found = client.search_runs([exp], max_results=N_MLFLOW)
            assert len(found) == N_MLFLOW
            return t["s"]

        mlflow_s = median_of(theirs, 3)
    return [
        row(
            f"search {N_OURS} runs (store) vs mlflow {N_MLFLOW}",
            store_s,
            f"mlflow search_runs {N_MLFLOW}",
            mlflow_s,
        ),
        row(
            f"`trainyard run list` ({N_OURS} runs, new process)",
            cli_s,
            "bare `python -c pass`",
            bare_s,
            added=True,
        ),
    ]


if __name__ == "__main__":
    print("\n".join(main()))
