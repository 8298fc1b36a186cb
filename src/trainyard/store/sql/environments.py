"""The environments of ``SqlStore``: named specs, versioned by their content hash."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, NotFoundError
from trainyard.store.records import EnvironmentRecord
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import ENVIRONMENTS as ENVS
from trainyard.store.validation import validate_key


class SqlEnvironments:
    engine: Engine

    def register_environment(self, name: str, spec: dict[str, Any], spec_hash: str) -> EnvironmentRecord:
        validate_key("environment", name)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                found = conn.execute(
                    select(ENVS.c.version).where(ENVS.c.name == name, ENVS.c.spec_hash == spec_hash)
                ).scalar()
                if found is not None:
                    return
                top = conn.execute(select(func.max(ENVS.c.version)).where(ENVS.c.name == name)).scalar() or 0
                conn.execute(
                    insert(ENVS).values(
                        name=name, version=top + 1, spec_hash=spec_hash, spec=spec, created_at=time.time()
                    )
                )

        for _ in range(5):
            try:
                with_retries(tx)
                break
            except IntegrityError:  # another process took the version number; look again
                continue
        with read_tx(self.engine) as conn:
            row = (
                conn.execute(select(ENVS).where(ENVS.c.name == name, ENVS.c.spec_hash == spec_hash))
                .mappings()
                .first()
            )
        if row is None:
            raise AlreadyExistsError(f"could not register environment {name!r}; try again")
        return EnvironmentRecord(**row)

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord:
        query = select(ENVS).where(ENVS.c.name == name)
        query = query.where(ENVS.c.version == version) if version else query.order_by(ENVS.c.version.desc())
        with read_tx(self.engine) as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            at = f" version {version}" if version else ""
            raise NotFoundError(f"no environment {name!r}{at}; `trainyard env list` shows them")
        return EnvironmentRecord(**row)

    def list_environments(self) -> list[EnvironmentRecord]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(ENVS).order_by(ENVS.c.name, ENVS.c.version)).mappings().all()
        return [EnvironmentRecord(**r) for r in rows]
