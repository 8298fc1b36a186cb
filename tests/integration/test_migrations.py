"""Schema versions: one Alembic head, models equal to migrations, refusal of unknown schemas."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from trainyard.errors import WorkspaceError
from trainyard.store.sql import schema
from trainyard.store.sql.engine import make_engine
from trainyard.store.sql.models import metadata
from trainyard.store.sql.store import SqlStore


def test_single_head_matches_the_code():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(schema.MIGRATIONS))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert heads == [schema.HEAD]
    assert schema.KNOWN[-1] == schema.HEAD


def test_models_match_the_migrated_schema(store_uri):
    SqlStore(store_uri).close()
    engine = make_engine(store_uri)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(store_uri):
    store = SqlStore(store_uri)
    store.create_experiment("kept")
    store.close()
    engine = make_engine(store_uri)
    schema.downgrade(engine, "base")
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.HEAD
    assert SqlStore(store_uri).list_experiments() == []  # base drops every table


def test_unknown_newer_schema_is_refused(store_uri):
    SqlStore(store_uri).close()
    engine = make_engine(store_uri)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(WorkspaceError, match="newer trainyard"):
        SqlStore(store_uri)


def test_foreign_database_is_refused(sqlite_uri):
    engine = make_engine(sqlite_uri)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER)"))
    with pytest.raises(WorkspaceError, match="no trainyard schema version"):
        SqlStore(sqlite_uri)


def test_empty_store_is_not_created_when_told_not_to(sqlite_uri):
    with pytest.raises(WorkspaceError, match="db upgrade"):
        SqlStore(sqlite_uri, create=False)


def test_in_memory_sqlite_is_refused():
    with pytest.raises(WorkspaceError, match="in-memory"):
        SqlStore("sqlite:///:memory:")


def _open_and_write(uri: str, name: str) -> None:
    store = SqlStore(uri)
    store.get_or_create_experiment("shared")
    store.create_experiment(name)
    store.close()


def test_processes_creating_a_fresh_store_at_once(sqlite_uri):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_and_write, args=(sqlite_uri, f"p{i}")) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    names = sorted(e.name for e in SqlStore(sqlite_uri).list_experiments())
    assert names == ["p0", "p1", "p2", "p3", "shared"]
