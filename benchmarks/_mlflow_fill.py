"""Fill an MLflow SQLite store with runs, run by an interpreter with the full ``mlflow`` package.

    python _mlflow_fill.py STORE.sqlite ARTIFACTS RUNS.json

MLflow's own ``SqlAlchemyStore`` makes the schema and the experiment and writes the first run
(``create_run``, ``log_batch``, ``update_run_info``); the others get the same rows inserted in
one transaction (``runs``, the ``mlflow.runName`` tag, ``params``, ``metrics`` and
``latest_metrics``): the store takes about 200 ms a run on the loaded development machine, so
5,000 runs would take 17 minutes. Prints the experiment's id.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import uuid
from pathlib import Path

from mlflow.entities import Metric, Param, RunStatus
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

COLUMNS = {
    "runs": "run_uuid name source_type source_name entry_point_name user_id status start_time end_time "
    "source_version lifecycle_stage artifact_uri experiment_id deleted_time",
    "tags": "key value run_uuid",
    "params": "key value run_uuid",
    "metrics": "key value timestamp run_uuid step is_nan",
    "latest_metrics": "key value timestamp step is_nan run_uuid",
}


def main(db: str, artifacts: str, runs_json: str) -> None:
    runs = json.loads(Path(runs_json).read_text())
    store = SqlAlchemyStore(f"sqlite:///{db}", artifacts)
    experiment = store.create_experiment("bench")
    first = runs[0]
    made = store.create_run(experiment, "bench", int(first["start"] * 1000), [], first["name"])
    metrics = [Metric(k, v, int(first["end"] * 1000), 0) for k, v in first["metrics"].items()]
    store.log_batch(made.info.run_id, metrics, [Param(k, v) for k, v in first["params"].items()], [])
    store.update_run_info(made.info.run_id, RunStatus.FINISHED, int(first["end"] * 1000), None)
    template = made.info.artifact_uri.rsplit("/", 2)[0]  # ARTIFACTS/EXPERIMENT
    rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
    for run in runs[1:]:
        rid, start, end = uuid.uuid4().hex, int(run["start"] * 1000), int(run["end"] * 1000)
        rows["runs"].append((rid, run["name"], "UNKNOWN", "", "", "bench", "FINISHED", start, end, "",
                             "active", f"{template}/{rid}/artifacts", int(experiment), None))  # fmt: skip
        rows["tags"].append(("mlflow.runName", run["name"], rid))
        rows["params"] += [(k, v, rid) for k, v in run["params"].items()]
        rows["metrics"] += [(k, v, end, rid, 0, 0) for k, v in run["metrics"].items()]
        rows["latest_metrics"] += [(k, v, end, 0, 0, rid) for k, v in run["metrics"].items()]
    conn = sqlite3.connect(db)
    with conn:
        for table, values in rows.items():
            names = COLUMNS[table].split()
            marks = ",".join("?" * len(names))
            conn.executemany(f"INSERT INTO {table} ({','.join(names)}) VALUES ({marks})", values)
    conn.close()
    print(experiment)


if __name__ == "__main__":
    main(*sys.argv[1:4])
