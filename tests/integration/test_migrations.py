"""Schema versions: one Alembic head, models equal to migrations, upgrades keep data, and stores
at an unknown revision or foreign databases are refused."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, insert, inspect, select, text

from trainyard.errors import WorkspaceError
from trainyard.status import RunStatus
from trainyard.store import Metric
from trainyard.store.sql import schema
from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.models import metadata
from trainyard.store.sql.store import SqlStore
from trainyard.store.upgrade import upgrade_schema
from trainyard.workspace import Workspace

TRAINYARD_TABLES = {t.name for t in metadata.sorted_tables}


def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(schema.MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines a test makes, disposed before its database is dropped."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _engine(engines: list[Engine], uri: str) -> Engine:
    engine = make_engine(uri)
    engines.append(engine)
    return engine


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_single_head_matches_the_code():
    script = _script()
    assert script.get_heads() == [schema.HEAD]
    revisions = [r.revision for r in script.walk_revisions()]  # head first
    assert revisions[0] == schema.HEAD
    assert sorted(revisions) == sorted(schema.KNOWN), "schema.KNOWN must list every migration"
    assert schema.KNOWN[-1] == schema.HEAD
    assert len(script.get_bases()) == 1


def test_models_match_the_migrated_schema(store_uri, engines):
    SqlStore(store_uri).close()
    engine = _engine(engines, store_uri)
    assert _tables(engine) >= TRAINYARD_TABLES
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models.py and the migrations disagree; write a migration: {diff}"


def _insert_at_first_revision(engine: Engine) -> None:
    """Rows written with the columns of the first revision, as an old trainyard would have."""
    rows = [
        (
            "INSERT INTO experiments (id, name, created_at, tags) VALUES (:id, :name, :at, :tags)",
            {"id": "e" * 32, "name": "kept", "at": 1000.0, "tags": json.dumps({"team": "a"})},
        ),
        (
            "INSERT INTO runs (id, experiment_id, parent_id, name, status, created_at, start_time,"
            " end_time, heartbeat_at, compute, job, snapshot_id, environment, error, exit_code,"
            " attempt, worker, cancel_requested) VALUES (:id, :exp, NULL, 'old run', 'completed',"
            " 1001.0, 1002.0, 1003.0, 1003.0, 'local', :job, 'snap', 'sk:1', NULL, 0, 2, 'h:1:2', :f)",
            {"id": "r" * 32, "exp": "e" * 32, "job": json.dumps({"argv": ["python", "x.py"]}), "f": False},
        ),
        (
            "INSERT INTO metrics (run_id, key, value, is_nan, step, timestamp) VALUES"
            " (:r, 'loss', 0.5, :f, 0, 1002.5), (:r, 'loss', 0.0, :t, 1, 1002.6)",
            {"r": "r" * 32, "f": False, "t": True},
        ),
        (
            "INSERT INTO latest_metrics (run_id, key, value, is_nan, step, timestamp) VALUES"
            " (:r, 'loss', 0.0, :t, 1, 1002.6)",
            {"r": "r" * 32, "t": True},
        ),
        ("INSERT INTO params (run_id, key, value) VALUES (:r, 'lr', '0.1')", {"r": "r" * 32}),
        ("INSERT INTO run_tags (run_id, key, value) VALUES (:r, 'note', 'x')", {"r": "r" * 32}),
        (
            "INSERT INTO environments (name, version, spec_hash, spec, created_at) VALUES"
            " ('sk', 1, 'h1', :spec, 1000.0)",
            {"spec": json.dumps({"requirements": ["six"]})},
        ),
    ]
    with engine.begin() as conn:
        for sql, params in rows:
            conn.execute(text(sql), params)


def test_upgrade_keeps_data_and_downgrade_then_upgrade_works(empty_store_uri, engines):
    engine = _engine(engines, empty_store_uri)
    (first,) = _script().get_bases()
    assert schema.upgrade(engine, first) is None
    assert schema.current_revision(engine) == first
    _insert_at_first_revision(engine)

    assert schema.upgrade(engine) == first
    assert schema.current_revision(engine) == schema.HEAD
    store = SqlStore(empty_store_uri, create=False)
    try:
        (exp,) = store.list_experiments()
        assert (exp.id, exp.name, exp.tags, exp.created_at) == ("e" * 32, "kept", {"team": "a"}, 1000.0)
        run = store.get_run("r" * 32)
        assert (run.status, run.attempt, run.exit_code, run.worker) == (RunStatus.COMPLETED, 2, 0, "h:1:2")
        assert run.job == {"argv": ["python", "x.py"]} and run.start_time == 1002.0
        assert run.params == {"lr": "0.1"} and run.tags == {"note": "x"}
        assert math.isnan(run.metrics["loss"])
        history = store.get_metric_history(run.id, "loss")
        assert [m.value for m in history][0] == 0.5 and math.isnan(history[1].value)
        assert store.get_environment("sk").spec == {"requirements": ["six"]}
        store.log_batch(run.id, metrics=[Metric("loss", 0.25, 2, 1004.0)])  # writable at head
        assert store.get_run(run.id).metrics == {"loss": 0.25}
    finally:
        store.close()

    schema.downgrade(engine, "base")
    assert schema.current_revision(engine) is None
    assert _tables(engine) <= {"alembic_version"}

    store = SqlStore(empty_store_uri)  # an emptied store is created again
    try:
        assert schema.current_revision(engine) == schema.HEAD
        assert store.list_experiments() == []
        assert store.create_experiment("new").name == "new"
    finally:
        store.close()
    schema.downgrade(engine, "base")
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.HEAD and _tables(engine) >= TRAINYARD_TABLES


def test_unknown_newer_schema_is_refused(store_uri, engines):
    store = SqlStore(store_uri)
    store.create_experiment("kept")
    store.close()
    engine = _engine(engines, store_uri)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    assert schema.current_revision(engine) == "ffff"
    for create in (True, False):
        with pytest.raises(WorkspaceError, match="upgrade trainyard") as caught:
            SqlStore(store_uri, create=create)
        assert "ffff" in str(caught.value)
    assert schema.current_revision(engine) == "ffff"  # left alone


def test_foreign_database_is_refused(empty_store_uri, engines):
    engine = _engine(engines, empty_store_uri)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
        conn.execute(text("INSERT INTO someone_elses (id) VALUES (1)"))
    with pytest.raises(WorkspaceError, match="no trainyard schema version"):
        SqlStore(empty_store_uri)
    assert _tables(engine) == {"someone_elses"}  # nothing created beside it


def test_empty_store_is_not_created_when_told_not_to(empty_store_uri, engines):
    with pytest.raises(WorkspaceError, match="db upgrade"):
        SqlStore(empty_store_uri, create=False)
    assert _tables(_engine(engines, empty_store_uri)) == set()


def test_in_memory_sqlite_is_refused():
    with pytest.raises(WorkspaceError, match="in-memory"):
        SqlStore("sqlite:///:memory:")


def _open_and_write(uri: str, name: str, barrier) -> None:
    barrier.wait(60)
    store = SqlStore(uri)
    try:
        store.get_or_create_experiment("shared")
        store.create_experiment(name)
    finally:
        store.close()


def test_processes_creating_a_fresh_store_at_once(empty_store_uri):
    ctx = multiprocessing.get_context("spawn")
    n = 3
    barrier = ctx.Barrier(n)
    procs = [ctx.Process(target=_open_and_write, args=(empty_store_uri, f"p{i}", barrier)) for i in range(n)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(90)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * n
    store = SqlStore(empty_store_uri, create=False)
    try:
        names = sorted(e.name for e in store.list_experiments())
    finally:
        store.close()
    assert names == [f"p{i}" for i in range(n)] + ["shared"]


def test_an_older_store_asks_for_db_upgrade(empty_store_uri, engines):
    engine = _engine(engines, empty_store_uri)
    (first,) = _script().get_bases()
    schema.upgrade(engine, first)
    with pytest.raises(WorkspaceError, match="trainyard db upgrade"):
        SqlStore(empty_store_uri)
    schema.upgrade(engine)
    SqlStore(empty_store_uri).close()


def test_0006_keeps_version_numbering_and_experiments(empty_store_uri, engines):
    """Models registered before 0006 go on numbering after their highest version, untagged."""
    engine = _engine(engines, empty_store_uri)
    schema.upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO experiments VALUES ('e', 'old', 1000.0, '{}')"))
        conn.execute(text("INSERT INTO models (name, created_at) VALUES ('m', 1000.0)"))
        for version in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO model_versions (name, version, source, files, status, created_at, tags, "
                    "properties) VALUES ('m', :v, 's', '[\"f\"]', 'ready', 1000.0, '{}', '{}')"
                ),
                {"v": version},
            )
    schema.upgrade(engine)
    store = SqlStore(empty_store_uri, create=False)
    try:
        assert [(e.name, e.deleted) for e in store.list_experiments()] == [("old", False)]
        model = store.get_registered_model("m")
        assert (model.latest_version, model.tags) == (2, {})
        store.delete_model_version("m", 2)
        assert store.create_model_version("m", source="s", files=["f"]).version == 3
    finally:
        store.close()


def test_0010_puts_old_metrics_under_their_runs_attempt(empty_store_uri, engines):
    """Values logged before 0010 are read as the last attempt's; a downgrade keeps them."""
    engine = _engine(engines, empty_store_uri)
    schema.upgrade(engine, "0009")
    _insert_at_first_revision(engine)  # a run at attempt 2 with two values
    schema.upgrade(engine)
    store = SqlStore(empty_store_uri, create=False)
    try:
        run_id = "r" * 32
        assert [m.step for m in store.get_metric_history(run_id, "loss")] == [0, 1]
        assert store.get_metric_history(run_id, "loss", attempt=1) == []
        store.log_batch(run_id, metrics=[Metric("loss", 0.25, 2, 1004.0)])
        assert [m.step for m in store.get_metric_history(run_id, "loss", attempt=2)] == [0, 1, 2]
    finally:
        store.close()
    schema.downgrade(engine, "0009")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM metrics")).scalar() == 3


def test_0018_summarises_the_metrics_already_logged(empty_store_uri, engines):
    """A series logged before 0018 gets its blocks, so a long one is cut with its spike kept."""
    engine = _engine(engines, empty_store_uri)
    schema.upgrade(engine, "0017")
    _insert_at_first_revision(engine)  # a run at attempt 2, and two values (under attempt 1)
    long = [
        {"r": "r" * 32, "v": 9.0 if s == 3_210 else 1.0 / (1 + s), "f": False, "s": s, "t": 2000.0 + s}
        for s in range(5_000)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO metrics (run_id, key, value, is_nan, negative_zero, step, timestamp, attempt)"
                " VALUES (:r, 'long', :v, :f, :f, :s, :t, 2)"
            ),
            long,
        )
    schema.upgrade(engine)
    store = SqlStore(empty_store_uri, create=False)
    try:
        series = store.get_metric_series("r" * 32, "long", 20)
        assert not series.exact and series.total == 5_000 and 9.0 in series.values
        assert series.steps[series.values.index(9.0)] == 3_210
        with engine.connect() as conn:
            assert conn.execute(text("SELECT SUM(count) FROM metric_blocks")).scalar() == 5_002
    finally:
        store.close()
    schema.downgrade(engine, "0017")
    assert "metric_blocks" not in _tables(engine)


def test_0020_gives_latest_metrics_their_runs_experiment(empty_store_uri, engines):
    """Latest values from before 0020 get their run's experiment, so ordered pages still find them."""
    engine = _engine(engines, empty_store_uri)
    schema.upgrade(engine, "0019")
    _insert_at_first_revision(engine)  # run "r"*32 in experiment "e"*32, its latest loss NaN
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT experiment_id FROM latest_metrics")).scalars().all() == ["e" * 32]
    store = SqlStore(empty_store_uri, create=False)
    try:
        store.log_batch("r" * 32, metrics=[Metric("loss", 0.25, 2, 1004.0)])
        other = store.create_run("e" * 32, name="new")
        store.log_batch(other.id, metrics=[Metric("loss", 0.5, 0, 1005.0)])
        page = store.search_runs(["e" * 32], order_by=["metrics.loss DESC"], max_results=1)
        assert [r.name for r in page] == ["new"] and page.next_page_token is not None
        page = store.search_runs(
            ["e" * 32], order_by=["metrics.loss DESC"], max_results=1, page_token=page.next_page_token
        )
        assert [r.name for r in page] == ["old run"] and page.next_page_token is None
    finally:
        store.close()
    schema.downgrade(engine, "0019")
    assert "experiment_id" not in {c["name"] for c in inspect(engine).get_columns("latest_metrics")}


# -- frozen stores: one SQLite file per released schema, written by that release (tests/data) --
FROZEN = sorted((Path(__file__).parents[1] / "data").glob("schema-*.db"))


def _rows(engine: Engine, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every table's rows (only ``columns[table]`` when given), in primary-key order."""
    tables = MetaData()
    tables.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            if table.name == "alembic_version" or (columns is not None and table.name not in columns):
                continue
            names = columns[table.name] if columns is not None else [c.name for c in table.columns]
            query = select(*(table.c[n] for n in names)).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(_comparable(v) for v in row) for row in conn.execute(query)]
    return out


def _comparable(value: object) -> object:
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _columns(engine: Engine) -> dict[str, list[str]]:
    tables = MetaData()
    tables.reflect(engine)
    return {t.name: [c.name for c in t.columns] for t in tables.sorted_tables if t.name != "alembic_version"}


def _revision_of(frozen: Path) -> str:
    return frozen.stem.removeprefix("schema-")


def _frozen_rows(engines: list[Engine], frozen: Path, folder: Path) -> tuple[Engine, dict[str, list[tuple]]]:
    """A copy of ``frozen`` (opening a SQLite file writes to it) and its rows, checked to be there."""
    folder.mkdir()
    engine = _engine(engines, f"sqlite:///{shutil.copy(frozen, folder / frozen.name)}")
    rows = _rows(engine)
    assert "runs" in rows and all(rows.values()), f"{frozen.name} has a table without rows"
    return engine, rows


def _still_works(uri: str) -> None:
    store = SqlStore(uri, create=False)
    try:
        run = store.get_run(store.search_runs(statuses=[RunStatus.COMPLETED])[0].id)
        store.log_batch(run.id, metrics=[Metric("loss", 0.25, 9, 2000.0)])
        assert store.get_run(run.id).metrics["loss"] == 0.25
        assert store.get_model_version_by_alias("m", "champion").version == 2
    finally:
        store.close()


def test_frozen_stores_cover_the_previous_release():
    assert FROZEN, "tests/data holds no frozen store"
    assert all(_revision_of(f) in schema.KNOWN for f in FROZEN)


@pytest.mark.parametrize("frozen", FROZEN, ids=lambda p: p.name)
def test_a_frozen_store_upgrades_with_every_row_kept(frozen: Path, tmp_path: Path, engines):
    """``trainyard db upgrade`` on a copy of the file: every row of every table is there after."""
    ws = Workspace.create(tmp_path, connect=False)
    shutil.copy(frozen, ws.root / "trainyard.db")
    uri = f"sqlite:///{ws.root / 'trainyard.db'}"
    source, before = _frozen_rows(engines, frozen, tmp_path / "frozen")

    env = {k: v for k, v in os.environ.items() if k != "TRAINYARD_WORKSPACE"}
    done = subprocess.run(
        [sys.executable, "-m", "trainyard", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    engine = _engine(engines, uri)
    assert schema.current_revision(engine) == schema.HEAD
    assert _rows(engine, _columns(source)) == before
    _still_works(uri)


@pytest.mark.postgres
@pytest.mark.parametrize("frozen", FROZEN, ids=lambda p: p.name)
def test_a_frozen_store_upgrades_with_every_row_kept_on_postgresql(
    frozen: Path, pg_empty_uri, engines, tmp_path: Path
):
    """The same rows on PostgreSQL: migrated to the frozen revision, filled, upgraded to head."""
    source, before = _frozen_rows(engines, frozen, tmp_path / "frozen")
    engine = _engine(engines, pg_empty_uri)
    schema.upgrade(engine, _revision_of(frozen))
    tables, old = MetaData(), MetaData()
    tables.reflect(engine)
    old.reflect(source)
    with source.connect() as read, engine.begin() as conn:
        for table in tables.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in read.execute(select(old.tables[table.name]))]
            serial = [c.name for c in table.columns if "nextval" in str(getattr(c.server_default, "arg", ""))]
            conn.execute(insert(table), [{k: v for k, v in r.items() if k not in serial} for r in rows])

    assert upgrade_schema(pg_empty_uri) == _revision_of(frozen)
    assert schema.current_revision(engine) == schema.HEAD
    assert _rows(engine, _columns(source)) == before
    _still_works(pg_empty_uri)
