"""The model registry half of ``SqlStore``: names, versions counted per name, aliases."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.limits import MAX_TAG_VALUE_LENGTH
from trainyard.store.records import MODEL_ARCHIVED, MODEL_READY, ModelVersion, RegisteredModel
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.idempotency import SqlIdempotency
from trainyard.store.sql.models import DEPLOYMENTS, MODEL_ALIASES, MODEL_VERSIONS, MODELS
from trainyard.store.validation import (
    apply_tag_changes,
    check_alias,
    check_labels,
    check_model_name,
    tag_changes,
)


def _model_row(
    name: str, description: str | None = None, tags: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "name": check_model_name(name),
        "created_at": time.time(),
        "description": description,
        "tags": check_labels("tag", tags, MAX_TAG_VALUE_LENGTH),
        "last_version": 0,
    }


def _no_model(name: str, version: int | None = None) -> NotFoundError:
    what = f"model named {name!r}" if version is None else f"model {name}:{version}"
    return NotFoundError(f"no {what}; `trainyard model list` shows the registry")


def _refuse_if_deployed(conn: Any, name: str, version: int | None = None) -> None:
    """A served version's record must outlive its deployments: they load it on every restart."""
    query = select(DEPLOYMENTS.c.endpoint, DEPLOYMENTS.c.name, DEPLOYMENTS.c.model_version).where(
        DEPLOYMENTS.c.model_name == name
    )
    if version is not None:
        query = query.where(DEPLOYMENTS.c.model_version == version)
    serving = [f"{e}/{d} (version {v})" for e, d, v in conn.execute(query)]
    if serving:
        raise InvalidInputError(
            f"model {name!r} is served by deployment {', '.join(serving)}; delete those deployments first"
        )


class SqlRegistry(SqlIdempotency):
    """Models, versions and aliases over ``engine``; creates are idempotent with a key."""

    engine: Engine

    def _version(self, row: Any, aliases: list[str]) -> ModelVersion:
        return ModelVersion(**dict(row), aliases=aliases)

    def _aliases_of(self, conn: Any, name: str) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        query = select(MODEL_ALIASES.c.alias, MODEL_ALIASES.c.version).where(MODEL_ALIASES.c.name == name)
        for alias, version in conn.execute(query.order_by(MODEL_ALIASES.c.alias)):
            found.setdefault(version, []).append(alias)
        return found

    def create_model_version(
        self,
        name: str,
        *,
        source: str,
        files: list[str],
        run_id: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersion:
        check_model_name(name)
        if not files:
            raise InvalidInputError(f"model {name!r}: there are no files to register")
        row = {
            "name": name,
            "run_id": run_id,
            "source": source,
            "files": list(files),
            "status": MODEL_READY,
            "description": description,
            "tags": check_labels("tag", tags, MAX_TAG_VALUE_LENGTH),
            "properties": check_labels("property", properties, MAX_TAG_VALUE_LENGTH),
        }

        named = select(MODELS.c.name).where(MODELS.c.name == name)
        with read_tx(self.engine) as conn:  # a read: a name's every version after its first skips the write
            known = conn.execute(named).first() is not None
        try:  # the name's row first: it is what numbering versions locks
            if not known:
                with write_tx(self.engine) as conn:
                    if conn.execute(named).first() is None:
                        conn.execute(insert(MODELS).values(**_model_row(name)))
        except IntegrityError:
            pass  # another process registered the name at the same moment

        def write(conn: Connection) -> dict[str, Any]:
            last = conn.execute(  # never below any version's number (migration 0006 set it so)
                select(MODELS.c.last_version).where(MODELS.c.name == name).with_for_update()
            ).scalar()
            version = (last or 0) + 1
            conn.execute(insert(MODEL_VERSIONS).values(**row, version=version, created_at=time.time()))
            conn.execute(update(MODELS).where(MODELS.c.name == name).values(last_version=version))
            return {"name": name, "version": version}

        try:
            made = self._create("model_version", write)
            return self.get_model_version(made["name"], made["version"])
        except IntegrityError:
            raise NotFoundError(f"cannot register {name!r}: no run with id {run_id!r}") from None

    def _read_version(self, conn: Any, name: str, version: int) -> ModelVersion:
        query = select(MODEL_VERSIONS).where(
            MODEL_VERSIONS.c.name == name, MODEL_VERSIONS.c.version == version
        )
        row = conn.execute(query).mappings().first()
        if row is None:
            raise _no_model(name, version)
        return self._version(row, self._aliases_of(conn, name).get(version, []))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with read_tx(self.engine) as conn:
            return self._read_version(conn, name, version)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with read_tx(self.engine) as conn:  # one snapshot: the alias cannot move between the reads
            version = conn.execute(
                select(MODEL_ALIASES.c.version).where(
                    MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.alias == alias
                )
            ).scalar()
            if version is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            return self._read_version(conn, name, version)

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        with read_tx(self.engine) as conn:
            aliases = self._aliases_of(conn, name)
            rows = (
                conn.execute(
                    select(MODEL_VERSIONS)
                    .where(MODEL_VERSIONS.c.name == name)
                    .order_by(MODEL_VERSIONS.c.version.desc())
                )
                .mappings()
                .all()
            )
        if not rows:
            self.get_registered_model(name)  # a name created without versions has none
        return [self._version(r, aliases.get(r["version"], [])) for r in rows]

    def _models(self, name: str | None = None) -> list[RegisteredModel]:
        latest = (
            select(MODEL_VERSIONS.c.name, func.max(MODEL_VERSIONS.c.version).label("latest"))
            .group_by(MODEL_VERSIONS.c.name)
            .subquery()
        )
        query = (
            select(MODELS, func.coalesce(latest.c.latest, 0).label("latest"))
            .outerjoin(latest, latest.c.name == MODELS.c.name)
            .order_by(MODELS.c.name)
        )
        aliases_query = select(MODEL_ALIASES)
        if name is not None:
            query = query.where(MODELS.c.name == name)
            aliases_query = aliases_query.where(MODEL_ALIASES.c.name == name)
        with read_tx(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
            aliases = conn.execute(aliases_query).mappings().all()
        by_name: dict[str, dict[str, int]] = {}
        for a in aliases:
            by_name.setdefault(a["name"], {})[a["alias"]] = a["version"]
        return [
            RegisteredModel(
                r["name"],
                r["created_at"],
                r["latest"],
                r["description"],
                by_name.get(r["name"], {}),
                dict(r["tags"] or {}),
            )
            for r in rows
        ]

    def list_models(self) -> list[RegisteredModel]:
        return self._models()

    def get_registered_model(self, name: str) -> RegisteredModel:
        found = self._models(name)
        if not found:
            raise _no_model(name)
        return found[0]

    def create_registered_model(
        self, name: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        row = _model_row(name, description, tags)

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(insert(MODELS).values(**row))
            return {"name": name}

        try:
            made = self._create("registered_model", write)
        except IntegrityError:
            raise AlreadyExistsError(f"a registered model named {name!r} already exists") from None
        return self.get_registered_model(made["name"])

    def update_registered_model(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModel:
        changes = tag_changes(tags)
        if new_name is not None:
            check_model_name(new_name)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                found = conn.execute(select(MODELS).where(MODELS.c.name == name)).mappings().first()
                if found is None:
                    raise _no_model(name)
                model = dict(found)
                if description is not None:
                    model["description"] = description
                model["tags"] = apply_tag_changes(model["tags"] or {}, changes)
                if new_name is None or new_name == name:
                    conn.execute(update(MODELS).where(MODELS.c.name == name).values(**model))
                else:
                    self._rename(conn, model, new_name)

        try:
            with_retries(tx)
        except IntegrityError:
            raise AlreadyExistsError(f"a registered model named {new_name!r} already exists") from None
        return self.get_registered_model(new_name or name)

    @staticmethod
    def _rename(conn: Any, model: dict[str, Any], new_name: str) -> None:
        """Copy the name's rows under ``new_name``, then drop the old ones (keys are not updatable)."""
        old = model["name"]
        versions = conn.execute(select(MODEL_VERSIONS).where(MODEL_VERSIONS.c.name == old)).mappings().all()
        aliases = conn.execute(select(MODEL_ALIASES).where(MODEL_ALIASES.c.name == old)).mappings().all()
        conn.execute(insert(MODELS).values(**{**model, "name": new_name}))
        if versions:
            conn.execute(insert(MODEL_VERSIONS), [{**v, "name": new_name} for v in versions])
        if aliases:
            conn.execute(insert(MODEL_ALIASES), [{**a, "name": new_name} for a in aliases])
        conn.execute(update(DEPLOYMENTS).where(DEPLOYMENTS.c.model_name == old).values(model_name=new_name))
        conn.execute(delete(MODEL_ALIASES).where(MODEL_ALIASES.c.name == old))
        conn.execute(delete(MODEL_VERSIONS).where(MODEL_VERSIONS.c.name == old))
        conn.execute(delete(MODELS).where(MODELS.c.name == old))

    def delete_registered_model(self, name: str) -> None:
        self.get_registered_model(name)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                _refuse_if_deployed(conn, name)
                conn.execute(delete(MODEL_ALIASES).where(MODEL_ALIASES.c.name == name))
                conn.execute(delete(MODEL_VERSIONS).where(MODEL_VERSIONS.c.name == name))
                conn.execute(delete(MODELS).where(MODELS.c.name == name))

        with_retries(tx)

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> ModelVersion:
        changes = tag_changes(tags)
        where = (MODEL_VERSIONS.c.name == name, MODEL_VERSIONS.c.version == version)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                current = conn.execute(select(MODEL_VERSIONS.c.tags).where(*where)).scalar()
                if current is None:
                    raise _no_model(name, version)
                values: dict[str, Any] = {"tags": apply_tag_changes(current, changes)}
                if description is not None:
                    values["description"] = description
                conn.execute(update(MODEL_VERSIONS).where(*where).values(**values))

        with_retries(tx)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        self.get_model_version(name, version)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                _refuse_if_deployed(conn, name, version)
                conn.execute(
                    delete(MODEL_ALIASES).where(
                        MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.version == version
                    )
                )
                conn.execute(
                    delete(MODEL_VERSIONS).where(
                        MODEL_VERSIONS.c.name == name, MODEL_VERSIONS.c.version == version
                    )
                )

        with_retries(tx)

    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        check_alias(alias)
        self.get_model_version(name, version)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(
                    delete(MODEL_ALIASES).where(MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.alias == alias)
                )
                conn.execute(insert(MODEL_ALIASES).values(name=name, alias=alias, version=version))

        with_retries(tx)

    def delete_model_alias(self, name: str, alias: str) -> None:
        self.get_model_version_by_alias(name, alias)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(
                    delete(MODEL_ALIASES).where(MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.alias == alias)
                )

        with_retries(tx)

    def set_model_version_status(self, name: str, version: int, status: str) -> ModelVersion:
        if status not in (MODEL_READY, MODEL_ARCHIVED):
            raise InvalidInputError(
                f"model status must be {MODEL_READY!r} or {MODEL_ARCHIVED!r}, got {status!r}"
            )
        self.get_model_version(name, version)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                conn.execute(
                    update(MODEL_VERSIONS)
                    .where(MODEL_VERSIONS.c.name == name, MODEL_VERSIONS.c.version == version)
                    .values(status=status)
                )

        with_retries(tx)
        return self.get_model_version(name, version)
