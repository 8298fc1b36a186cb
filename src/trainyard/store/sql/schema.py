"""Schema versions: create a fresh store, refuse an old or unknown one, upgrade on request.

Only one process migrates at a time (a file lock beside a SQLite file, an advisory lock on
PostgreSQL); the others wait and then find the schema current.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

from trainyard.errors import WorkspaceError

HEAD = "0020"
KNOWN = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0013",
    "0014",
    "0015",
    "0016",
    "0017",
    "0018",
    "0019",
    "0020",
)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
PG_LOCK_ID = 0x7472_6169  # "trai"


def _config(conn: Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision, read directly: opening a store never imports Alembic."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        with FileLock(str(engine.url.database) + ".migrate.lock", timeout=300):
            yield
    else:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_ID})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_ID})
                conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the store to ``revision``; returns the revision it started from."""
    from alembic import command

    with _migration_lock(engine):
        before = current_revision(engine)
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    return before


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with _migration_lock(engine), engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def ensure_current(engine: Engine, *, create: bool) -> None:
    """Create an empty store; refuse one that needs ``trainyard db upgrade`` or is newer than us."""
    rev = current_revision(engine)
    if rev == HEAD:
        return
    if rev is None:
        if not create:
            raise WorkspaceError("the store is empty; run `trainyard db upgrade` to create its tables")
        with _migration_lock(engine):
            if current_revision(engine) is None:
                if set(inspect(engine).get_table_names()) - {"alembic_version"}:  # empty after a downgrade
                    where = engine.url.render_as_string(hide_password=True)
                    raise WorkspaceError(
                        f"the database at {where} has tables but no trainyard schema version; "
                        "point the workspace at an empty database"
                    )
                from alembic import command

                with engine.begin() as conn:
                    command.upgrade(_config(conn), "head")
        return
    if rev in KNOWN:
        raise WorkspaceError(
            f"the store is at schema {rev} and this trainyard needs {HEAD}; "
            "run `trainyard db upgrade` (back up the database first)"
        )
    raise WorkspaceError(
        f"the store is at schema {rev}, which this trainyard ({HEAD}) does not know; "
        "it was written by a newer trainyard: upgrade trainyard"
    )
