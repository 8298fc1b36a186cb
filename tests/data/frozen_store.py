"""How ``schema-<revision>.db`` was made: a SQLite store written through the store's own API at
that schema revision, with rows in every table (RELIABILITY row 25: a frozen DB per released
schema). Run it only on the release whose schema it freezes, and commit the file it writes; the
test ``tests/integration/test_migrations.py::test_a_frozen_store_upgrades_with_every_row_kept``
upgrades each committed file (and its PostgreSQL twin) to the head and compares the rows.

    python -m tests.data.frozen_store
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

from sqlalchemy import MetaData, func, select

from trainyard.status import RunStatus
from trainyard.store import Metric
from trainyard.store.records import DeploymentUpdate
from trainyard.store.sql import schema
from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.store import SqlStore

HERE = Path(__file__).parent


def write(path: Path) -> None:
    store = SqlStore(f"sqlite:///{path}")
    try:
        exp = store.create_experiment("frozen", tags={"team": "a"})
        store.update_experiment(store.create_experiment("gone").id, deleted=True)
        job = {"command": "python train.py", "argv": ["python", "train.py"], "max_retries": 1}
        run = store.create_run(exp.id, name="trained", compute="local", job=job)
        store.set_status(run.id, RunStatus.PREPARING, worker="host:1:2")
        store.set_status(run.id, RunStatus.RUNNING)
        metrics = [Metric("loss", v, step, 1000.0 + step) for step, v in enumerate([0.5, math.nan, -0.0])]
        store.log_batch(run.id, metrics, params={"lr": "0.1"}, tags={"note": "x"})
        store.set_status(run.id, RunStatus.COMPLETED, exit_code=0)
        child = store.create_run(exp.id, name="child", parent_id=run.id, status=RunStatus.RUNNING)
        store.request_cancel(child.id, "canceled by the user")
        store.set_status(child.id, RunStatus.CANCELED, error="canceled by the user")
        store.register_environment("sk", {"requirements": ["six"]}, "hash1")
        store.create_registered_model("m", description="a model", tags={"k": "v"})
        for _ in range(2):
            store.create_model_version("m", source=f"runs:/{run.id}/model", files=["MLmodel"], run_id=run.id)
        store.set_model_alias("m", "champion", 2)
        store.create_endpoint("scorer", 5001, "primary", "secondary")
        store.create_deployment("scorer", "blue", "m", 2, 1)
        store.update_deployment("scorer", "blue", DeploymentUpdate(status="ready", port=5002))
        store.add_user("ada", "contributor")
        store.create_token("ada")
        store.create_token("ada", kind="job", run_id=run.id, expires_in=3600.0)
        store.with_idempotency_key("client-key").create_experiment("keyed")
    finally:
        store.close()
    engine = make_engine(f"sqlite:///{path}")
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.connect() as conn:
            empty = [
                t.name
                for t in tables.sorted_tables
                if not conn.execute(select(func.count()).select_from(t)).scalar()
            ]
    finally:
        engine.dispose()
    assert not empty, f"no rows in {empty}: add some above"
    with sqlite3.connect(path) as db:  # small pages, no WAL: a file of a few KB that opens alone
        db.executescript("PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;")


def main() -> None:
    path = HERE / f"schema-{schema.HEAD}.db"
    path.unlink(missing_ok=True)
    write(path)
    path.with_name(path.name + ".migrate.lock").unlink(missing_ok=True)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
