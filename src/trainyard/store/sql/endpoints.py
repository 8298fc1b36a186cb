"""The endpoints part of ``SqlStore``: endpoints, their deployments and traffic."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, NotFoundError
from trainyard.status import DeploymentStatus, check_deployment_transition
from trainyard.store.records import DeploymentRecord, DeploymentUpdate, EndpointRecord, EndpointUpdate
from trainyard.store.sql.engine import execute_write, read_tx, with_retries, write_tx
from trainyard.store.sql.idempotency import SqlIdempotency
from trainyard.store.sql.models import DEPLOYMENTS, ENDPOINTS
from trainyard.store.validation import check_endpoint_name


class SqlEndpoints(SqlIdempotency):
    """Endpoints and deployments over ``engine``; creates are idempotent with a key."""

    engine: Engine

    def create_endpoint(self, name: str, port: int, primary_key: str, secondary_key: str) -> EndpointRecord:
        check_endpoint_name(name)
        row = {
            "name": name,
            "created_at": time.time(),
            "port": port,
            "traffic": {},
            "primary_key": primary_key,
            "secondary_key": secondary_key,
        }

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(insert(ENDPOINTS).values(**row))
            return {"name": name}

        try:
            made = self._create("endpoint", write)
        except IntegrityError:
            raise AlreadyExistsError(f"an endpoint named {name!r} already exists") from None
        return self.get_endpoint(made["name"])

    def get_endpoint(self, name: str) -> EndpointRecord:
        with read_tx(self.engine) as conn:
            row = conn.execute(select(ENDPOINTS).where(ENDPOINTS.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"no endpoint named {name!r}; `trainyard endpoint list` shows them")
        return EndpointRecord(**row)

    def list_endpoints(self) -> list[EndpointRecord]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(select(ENDPOINTS).order_by(ENDPOINTS.c.name)).mappings().all()
        return [EndpointRecord(**r) for r in rows]

    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointRecord:
        changes = update.changes()
        if changes and not execute_write(
            self.engine, sql_update(ENDPOINTS).where(ENDPOINTS.c.name == name).values(**changes)
        ):
            raise NotFoundError(f"no endpoint named {name!r}")
        return self.get_endpoint(name)

    def delete_endpoint(self, name: str) -> None:
        self.get_endpoint(name)
        execute_write(self.engine, delete(DEPLOYMENTS).where(DEPLOYMENTS.c.endpoint == name))
        execute_write(self.engine, delete(ENDPOINTS).where(ENDPOINTS.c.name == name))

    def create_deployment(
        self, endpoint: str, name: str, model_name: str, model_version: int, workers: int
    ) -> DeploymentRecord:
        check_endpoint_name(name, "deployment")
        self.get_endpoint(endpoint)
        row = {
            "endpoint": endpoint,
            "name": name,
            "model_name": model_name,
            "model_version": model_version,
            "workers": workers,
            "status": DeploymentStatus.CREATING.value,
            "restarts": 0,
            "created_at": time.time(),
        }

        def write(conn: Connection) -> dict[str, Any]:
            conn.execute(insert(DEPLOYMENTS).values(**row))
            return {"endpoint": endpoint, "name": name}

        try:
            made = self._create("deployment", write)
        except IntegrityError:
            raise AlreadyExistsError(
                f"endpoint {endpoint!r} already has a deployment named {name!r}"
            ) from None
        return self.get_deployment(made["endpoint"], made["name"])

    def get_deployment(self, endpoint: str, name: str) -> DeploymentRecord:
        with read_tx(self.engine) as conn:
            row = (
                conn.execute(
                    select(DEPLOYMENTS).where(DEPLOYMENTS.c.endpoint == endpoint, DEPLOYMENTS.c.name == name)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"endpoint {endpoint!r} has no deployment {name!r}")
        return DeploymentRecord(**row)

    def list_deployments(self, endpoint: str) -> list[DeploymentRecord]:
        with read_tx(self.engine) as conn:
            rows = (
                conn.execute(
                    select(DEPLOYMENTS)
                    .where(DEPLOYMENTS.c.endpoint == endpoint)
                    .order_by(DEPLOYMENTS.c.created_at)
                )
                .mappings()
                .all()
            )
        return [DeploymentRecord(**r) for r in rows]

    def update_deployment(self, endpoint: str, name: str, update: DeploymentUpdate) -> DeploymentRecord:
        changes = update.changes()
        where = (DEPLOYMENTS.c.endpoint == endpoint) & (DEPLOYMENTS.c.name == name)

        def tx() -> None:
            with write_tx(self.engine) as conn:
                current = conn.execute(select(DEPLOYMENTS.c.status).where(where).with_for_update()).scalar()
                if current is None:
                    raise NotFoundError(f"endpoint {endpoint!r} has no deployment {name!r}")
                status = changes.get("status")
                if status is not None:
                    check_deployment_transition(DeploymentStatus(current), status)
                    changes["status"] = status.value
                if changes:
                    conn.execute(sql_update(DEPLOYMENTS).where(where).values(**changes))

        with_retries(tx)
        return self.get_deployment(endpoint, name)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self.get_deployment(endpoint, name)
        execute_write(
            self.engine,
            delete(DEPLOYMENTS).where((DEPLOYMENTS.c.endpoint == endpoint) & (DEPLOYMENTS.c.name == name)),
        )
