"""The endpoints part of the Store: online endpoints and the deployments behind them.

Contract, beyond each method's docstring: a deployment's status moves only as
``trainyard.status.DEPLOYMENT_ALLOWED`` says (``InvalidTransitionError`` otherwise), and updates
change only the fields their ``EndpointUpdate`` / ``DeploymentUpdate`` sets. The store keeps
records only; ``trainyard.serving.endpoints`` starts and stops the processes they describe.
"""

from __future__ import annotations

import abc

from trainyard.store.records import DeploymentRecord, DeploymentUpdate, EndpointRecord, EndpointUpdate


class EndpointStore(abc.ABC):
    """Endpoints and deployments. See the module docstring for the contract."""

    @abc.abstractmethod
    def create_endpoint(self, name: str, port: int, primary_key: str, secondary_key: str) -> EndpointRecord:
        """A new endpoint with no deployments and no traffic.

        ``AlreadyExistsError`` if the name is taken; ``InvalidInputError`` for a bad name.
        """

    @abc.abstractmethod
    def get_endpoint(self, name: str) -> EndpointRecord:
        """The endpoint named ``name``; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def list_endpoints(self) -> list[EndpointRecord]:
        """Every endpoint, by name."""

    @abc.abstractmethod
    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointRecord:
        """Change the fields ``update`` sets; returns the endpoint after the change.

        ``NotFoundError`` for an unknown endpoint.
        """

    @abc.abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Remove the endpoint and its deployments' records; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def create_deployment(
        self, endpoint: str, name: str, model_name: str, model_version: int, workers: int
    ) -> DeploymentRecord:
        """A new deployment of ``endpoint``, ``creating``, serving ``model_name:model_version``.

        ``NotFoundError`` for an unknown endpoint, ``AlreadyExistsError`` if the endpoint has a
        deployment of that name, ``InvalidInputError`` for a bad name.
        """

    @abc.abstractmethod
    def get_deployment(self, endpoint: str, name: str) -> DeploymentRecord:
        """The deployment ``name`` of ``endpoint``; ``NotFoundError`` if there is none."""

    @abc.abstractmethod
    def list_deployments(self, endpoint: str) -> list[DeploymentRecord]:
        """The endpoint's deployments, oldest first (none for an unknown endpoint)."""

    @abc.abstractmethod
    def update_deployment(self, endpoint: str, name: str, update: DeploymentUpdate) -> DeploymentRecord:
        """Change the fields ``update`` sets; returns the deployment after the change.

        ``NotFoundError`` for an unknown deployment; ``InvalidTransitionError`` for a status
        the table does not allow from the current one (nothing is changed then).
        """

    @abc.abstractmethod
    def delete_deployment(self, endpoint: str, name: str) -> None:
        """Remove the deployment's record; ``NotFoundError`` if there is none."""
