"""The endpoints half of ``SqlStore``: endpoints, their deployments and traffic."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from trainyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from trainyard.store.base import DeploymentRecord, EndpointRecord, check_endpoint_name
from trainyard.store.sql.engine import read_tx, with_retries, write_tx
from trainyard.store.sql.models import DEPLOYMENTS, ENDPOINTS

ENDPOINT_FIELDS = {"traffic", "previous_traffic", "worker", "primary_key", "secondary_key"}
DEPLOYMENT_FIELDS = {"status", "port", "worker", "error", "restarts"}


class EndpointsMixin:
    engine: Engine

    def _write(self, statement: Any) -> int:
        def tx() -> int:
            with write_tx(self.engine) as conn:
                return conn.execute(statement).rowcount

        return with_retries(tx)

    def create_endpoint(self, name: str, port: int, primary_key: str, secondary_key: str) -> EndpointRecord:
        check_endpoint_name(name)
        try:
            self._write(
                insert(ENDPOINTS).values(
                    name=name,
                    created_at=time.time(),
                    port=port,
                    traffic={},
                    primary_key=primary_key,
                    secondary_key=secondary_key,
                )
            )
        except IntegrityError:
            raise AlreadyExistsError(f"an endpoint named {name!r} already exists") from None
        return self.get_endpoint(name)

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

    def update_endpoint(self, name: str, **fields: Any) -> EndpointRecord:
        unknown = set(fields) - ENDPOINT_FIELDS
        if unknown:
            raise InvalidInputError(f"cannot change {', '.join(sorted(unknown))} of an endpoint")
        if not self._write(update(ENDPOINTS).where(ENDPOINTS.c.name == name).values(**fields)):
            raise NotFoundError(f"no endpoint named {name!r}")
        return self.get_endpoint(name)

    def delete_endpoint(self, name: str) -> None:
        self.get_endpoint(name)
        self._write(delete(DEPLOYMENTS).where(DEPLOYMENTS.c.endpoint == name))
        self._write(delete(ENDPOINTS).where(ENDPOINTS.c.name == name))

    def create_deployment(
        self, endpoint: str, name: str, model_name: str, model_version: int, workers: int
    ) -> DeploymentRecord:
        check_endpoint_name(name, "deployment")
        self.get_endpoint(endpoint)
        try:
            self._write(
                insert(DEPLOYMENTS).values(
                    endpoint=endpoint,
                    name=name,
                    model_name=model_name,
                    model_version=model_version,
                    workers=workers,
                    status="creating",
                    restarts=0,
                    created_at=time.time(),
                )
            )
        except IntegrityError:
            raise AlreadyExistsError(
                f"endpoint {endpoint!r} already has a deployment named {name!r}"
            ) from None
        return self.get_deployment(endpoint, name)

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

    def update_deployment(self, endpoint: str, name: str, **fields: Any) -> DeploymentRecord:
        unknown = set(fields) - DEPLOYMENT_FIELDS
        if unknown:
            raise InvalidInputError(f"cannot change {', '.join(sorted(unknown))} of a deployment")
        where = (DEPLOYMENTS.c.endpoint == endpoint) & (DEPLOYMENTS.c.name == name)
        if not self._write(update(DEPLOYMENTS).where(where).values(**fields)):
            raise NotFoundError(f"endpoint {endpoint!r} has no deployment {name!r}")
        return self.get_deployment(endpoint, name)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self.get_deployment(endpoint, name)
        self._write(
            delete(DEPLOYMENTS).where((DEPLOYMENTS.c.endpoint == endpoint) & (DEPLOYMENTS.c.name == name))
        )
