"""The conformance suite of the endpoints part: endpoints, deployments, keys, traffic, statuses."""

from __future__ import annotations

import pytest

from trainyard.errors import AlreadyExistsError, InvalidInputError, InvalidTransitionError, NotFoundError
from trainyard.status import DEPLOYMENT_ALLOWED, DeploymentStatus
from trainyard.store.base import Store
from trainyard.store.records import GROUP_VERSION, DeploymentUpdate, EndpointUpdate

# A path of allowed moves from CREATING to each status.
DEPLOYMENT_PATHS: dict[DeploymentStatus, list[DeploymentStatus]] = {
    DeploymentStatus.CREATING: [],
    DeploymentStatus.READY: [DeploymentStatus.READY],
    DeploymentStatus.FAILED: [DeploymentStatus.FAILED],
    DeploymentStatus.DELETING: [DeploymentStatus.DELETING],
}
# in the enum's order, not the sets': every pytest-xdist worker must collect the same ids
ALLOWED_MOVES = [(c, t) for c in DeploymentStatus for t in DeploymentStatus if t in DEPLOYMENT_ALLOWED[c]]
REFUSED_MOVES = [
    (c, t) for c in DeploymentStatus for t in DeploymentStatus if t != c and t not in DEPLOYMENT_ALLOWED[c]
]
assert REFUSED_MOVES, "the deployment table forbids nothing: the refusal test would check nothing"


def _endpoint(store: Store, name: str = "ep-one", port: int = 8100) -> None:
    store.create_endpoint(name, port, "primary-secret", "secondary-secret")


def _deployment_in(store: Store, status: DeploymentStatus, name: str = "blue") -> None:
    store.create_deployment("ep-one", name, "model", 1, 1)
    for step in DEPLOYMENT_PATHS[status]:
        store.update_deployment("ep-one", name, DeploymentUpdate(status=step))


class EndpointSuite:
    """Needs a ``store`` fixture giving a fresh, empty Store."""

    def test_create_get_and_list_endpoints(self, store: Store) -> None:
        made = store.create_endpoint("ep-one", 8100, "pk", "sk")
        assert (made.name, made.port, made.primary_key, made.secondary_key) == ("ep-one", 8100, "pk", "sk")
        assert made.traffic == {} and made.worker is None and made.previous_traffic is None
        assert store.get_endpoint("ep-one") == made
        store.create_endpoint("ep-two", 8101, "pk2", "sk2")
        assert [e.name for e in store.list_endpoints()] == ["ep-one", "ep-two"]

    def test_endpoint_names_are_checked_and_unique(self, store: Store) -> None:
        _endpoint(store)
        with pytest.raises(AlreadyExistsError):
            store.create_endpoint("ep-one", 8200, "a", "b")
        for bad in ("x", "1starts-with-digit", "has_underscore", "a" * 40):
            with pytest.raises(InvalidInputError):
                store.create_endpoint(bad, 8300, "a", "b")
        assert [e.name for e in store.list_endpoints()] == ["ep-one"]

    def test_unknown_endpoints_and_deployments_are_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get_endpoint("ep-none")
        with pytest.raises(NotFoundError):
            store.update_endpoint("ep-none", EndpointUpdate(worker="w"))
        with pytest.raises(NotFoundError):
            store.delete_endpoint("ep-none")
        with pytest.raises(NotFoundError):
            store.create_deployment("ep-none", "blue", "model", 1, 1)
        _endpoint(store)
        with pytest.raises(NotFoundError):
            store.get_deployment("ep-one", "blue")
        with pytest.raises(NotFoundError):
            store.update_deployment("ep-one", "blue", DeploymentUpdate(port=1))
        with pytest.raises(NotFoundError):
            store.delete_deployment("ep-one", "blue")
        assert store.list_deployments("ep-one") == []

    def test_update_endpoint_changes_only_what_is_set(self, store: Store) -> None:
        _endpoint(store)
        moved = store.update_endpoint("ep-one", EndpointUpdate(traffic={"blue": 100}, worker="h:1:2"))
        assert moved.traffic == {"blue": 100} and moved.worker == "h:1:2"
        assert moved.primary_key == "primary-secret" and moved.previous_traffic is None
        swapped = store.update_endpoint(
            "ep-one", EndpointUpdate(traffic={"green": 100}, previous_traffic={"blue": 100})
        )
        assert swapped.traffic == {"green": 100} and swapped.previous_traffic == {"blue": 100}
        assert swapped.worker == "h:1:2"
        cleared = store.update_endpoint("ep-one", EndpointUpdate(previous_traffic=None, worker=None))
        assert cleared.previous_traffic is None and cleared.worker is None
        assert cleared.traffic == {"green": 100}
        assert store.update_endpoint("ep-one", EndpointUpdate()) == cleared

    def test_keys_are_regenerated_one_at_a_time(self, store: Store) -> None:
        _endpoint(store)
        first = store.update_endpoint("ep-one", EndpointUpdate(primary_key="new-primary"))
        assert (first.primary_key, first.secondary_key) == ("new-primary", "secondary-secret")
        second = store.update_endpoint("ep-one", EndpointUpdate(secondary_key="new-secondary"))
        assert (second.primary_key, second.secondary_key) == ("new-primary", "new-secondary")
        assert store.get_endpoint("ep-one") == second

    def test_router_restarts_and_request_timeouts_are_kept(self, store: Store) -> None:
        _endpoint(store)
        made = store.get_endpoint("ep-one")
        assert made.restarts == 0
        restarted = store.update_endpoint("ep-one", EndpointUpdate(restarts=2))
        assert restarted.restarts == 2 and restarted.traffic == made.traffic
        deployment = store.create_deployment("ep-one", "blue", "model", 1, 1)
        assert deployment.request_timeout is None
        limited = store.update_deployment("ep-one", "blue", DeploymentUpdate(request_timeout=2.5))
        assert limited.request_timeout == 2.5 and limited.status is DeploymentStatus.CREATING
        assert store.get_deployment("ep-one", "blue").request_timeout == 2.5

    def test_a_deployment_keeps_its_environment(self, store: Store) -> None:
        _endpoint(store)
        assert store.create_deployment("ep-one", "blue", "model", 1, 1).environment is None
        pinned = store.update_deployment("ep-one", "blue", DeploymentUpdate(environment="six:2"))
        assert pinned.environment == "six:2" and pinned.request_timeout is None
        store.update_deployment("ep-one", "blue", DeploymentUpdate(status=DeploymentStatus.READY, port=9))
        assert store.list_deployments("ep-one")[0].environment == "six:2"

    def test_a_many_models_deployment_keeps_its_cache_size(self, store: Store) -> None:
        _endpoint(store)
        assert not store.create_deployment("ep-one", "one", "model", 1, 1).serves_group
        made = store.create_deployment("ep-one", "group", "sales-many", GROUP_VERSION, 2)
        assert made.model_version == GROUP_VERSION and made.max_models_in_memory is None
        sized = store.update_deployment("ep-one", "group", DeploymentUpdate(max_models_in_memory=8))
        assert sized.serves_group and sized.max_models_in_memory == 8 and sized.workers == 2
        assert [d.max_models_in_memory for d in store.list_deployments("ep-one")] == [None, 8]

    def test_an_update_names_only_fields_it_has(self) -> None:
        with pytest.raises(InvalidInputError, match="port"):
            EndpointUpdate.of({"port": 1})
        with pytest.raises(InvalidInputError, match="model_name"):
            DeploymentUpdate.of({"model_name": "other"})
        with pytest.raises(InvalidInputError, match="unknown deployment status"):
            DeploymentUpdate(status="sleeping")  # type: ignore[arg-type]
        assert DeploymentUpdate.of({"status": "ready"}).status is DeploymentStatus.READY

    def test_create_get_and_list_deployments(self, store: Store) -> None:
        _endpoint(store)
        made = store.create_deployment("ep-one", "blue", "model", 3, 2)
        assert (made.endpoint, made.name, made.model_name, made.model_version) == (
            "ep-one",
            "blue",
            "model",
            3,
        )
        assert made.workers == 2 and made.status is DeploymentStatus.CREATING
        assert made.port is None and made.error is None and made.restarts == 0
        assert store.get_deployment("ep-one", "blue") == made
        store.create_deployment("ep-one", "green", "model", 4, 1)
        assert [d.name for d in store.list_deployments("ep-one")] == ["blue", "green"]
        with pytest.raises(AlreadyExistsError):
            store.create_deployment("ep-one", "blue", "model", 5, 1)
        with pytest.raises(InvalidInputError):
            store.create_deployment("ep-one", "no_underscores", "model", 5, 1)

    def test_update_deployment_changes_only_what_is_set(self, store: Store) -> None:
        _endpoint(store)
        store.create_deployment("ep-one", "blue", "model", 1, 1)
        ready = store.update_deployment(
            "ep-one", "blue", DeploymentUpdate(status=DeploymentStatus.READY, port=9100, worker="h:1:2")
        )
        assert (ready.status, ready.port, ready.worker, ready.restarts) == (
            DeploymentStatus.READY,
            9100,
            "h:1:2",
            0,
        )
        restarted = store.update_deployment(
            "ep-one", "blue", DeploymentUpdate(status=DeploymentStatus.CREATING, restarts=1, error="exit 1")
        )
        assert (restarted.port, restarted.worker, restarted.restarts) == (9100, "h:1:2", 1)
        assert restarted.error == "exit 1"
        cleared = store.update_deployment("ep-one", "blue", DeploymentUpdate(error=None, port=None))
        assert cleared.error is None and cleared.port is None and cleared.status is DeploymentStatus.CREATING

    @pytest.mark.parametrize(("current", "target"), ALLOWED_MOVES)
    def test_allowed_deployment_moves(
        self, store: Store, current: DeploymentStatus, target: DeploymentStatus
    ) -> None:
        _endpoint(store)
        _deployment_in(store, current)
        moved = store.update_deployment("ep-one", "blue", DeploymentUpdate(status=target))
        assert moved.status is target
        assert store.get_deployment("ep-one", "blue").status is target

    @pytest.mark.parametrize(("current", "target"), REFUSED_MOVES)
    def test_refused_deployment_moves_change_nothing(
        self, store: Store, current: DeploymentStatus, target: DeploymentStatus
    ) -> None:
        _endpoint(store)
        _deployment_in(store, current)
        before = store.get_deployment("ep-one", "blue")
        with pytest.raises(InvalidTransitionError):
            store.update_deployment("ep-one", "blue", DeploymentUpdate(status=target, port=1, error="x"))
        assert store.get_deployment("ep-one", "blue") == before

    def test_staying_in_a_status_is_allowed(self, store: Store) -> None:
        _endpoint(store)
        _deployment_in(store, DeploymentStatus.DELETING)
        again = store.update_deployment("ep-one", "blue", DeploymentUpdate(status=DeploymentStatus.DELETING))
        assert again.status is DeploymentStatus.DELETING

    def test_delete_deployment_and_endpoint(self, store: Store) -> None:
        _endpoint(store)
        store.create_deployment("ep-one", "blue", "model", 1, 1)
        store.create_deployment("ep-one", "green", "model", 1, 1)
        store.delete_deployment("ep-one", "blue")
        assert [d.name for d in store.list_deployments("ep-one")] == ["green"]
        store.delete_endpoint("ep-one")
        with pytest.raises(NotFoundError):
            store.get_endpoint("ep-one")
        assert store.list_deployments("ep-one") == []
        _endpoint(store)  # the name is free again, with no deployments left over
        assert store.list_deployments("ep-one") == []
