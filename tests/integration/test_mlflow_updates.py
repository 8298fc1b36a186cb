"""The real ``mlflow`` client updating what it made: experiments renamed, tagged, deleted and
restored; registered models and versions described, tagged, renamed and deleted."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.conftest import BACKENDS
from tests.integration.mlflow_helpers import Recorder, mlflow_server, module_workspace
from trainyard.workspace import Workspace


@pytest.fixture(scope="module", params=BACKENDS)
def ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield from module_workspace(request, tmp_path_factory)


@pytest.fixture(scope="module")
def server(ws: Workspace) -> Iterator[Recorder]:
    yield from mlflow_server(ws)


def _versions(client: MlflowClient, name: str, count: int) -> str:
    """``count`` versions of ``name``, each registered from a run's ``model`` folder."""
    with mlflow.start_run(experiment_id=client.create_experiment(f"{name}-runs")) as run:
        mlflow.log_text("flavors: {}\n", "model/MLmodel")
    for _ in range(count):
        client.create_model_version(name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    return run.info.run_id


def test_experiments_rename_tag_delete_and_restore(server: Recorder, ws: Workspace) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("upd-exp", tags={"a": "1"})
    client.rename_experiment(exp_id, "upd-renamed")
    client.set_experiment_tag(exp_id, "team", "risk")
    client.delete_experiment_tag(exp_id, "a")
    got = client.get_experiment(exp_id)
    assert (got.name, got.tags, got.lifecycle_stage) == ("upd-renamed", {"team": "risk"}, "active")
    assert ws.store.get_experiment(exp_id).name == "upd-renamed"
    with pytest.raises(MlflowException, match="already exists"):
        client.rename_experiment(client.create_experiment("upd-other"), "upd-renamed")

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    active = {e.experiment_id for e in client.search_experiments()}
    deleted = {e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)}
    assert exp_id not in active and exp_id in deleted
    with pytest.raises(MlflowException, match="deleted"):
        client.create_run(exp_id)
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.create_run(exp_id).info.experiment_id == exp_id
    for route in ("update", "set-experiment-tag", "delete-experiment-tag", "delete", "restore"):
        assert f"POST /api/2.0/mlflow/experiments/{route}" in server.routes()


def test_a_registered_model_is_kept_before_its_first_version(server: Recorder, ws: Workspace) -> None:
    client = MlflowClient()
    client.create_registered_model("upd-empty", tags={"team": "risk"}, description="soon")
    got = client.get_registered_model("upd-empty")
    assert (got.name, got.description, got.tags, got.latest_versions) == (
        "upd-empty",
        "soon",
        {"team": "risk"},
        [],
    )
    assert "upd-empty" in {m.name for m in client.search_registered_models()}
    _versions(client, "upd-empty", 1)
    assert [v.version for v in client.get_registered_model("upd-empty").latest_versions] == ["1"]
    assert ws.store.get_registered_model("upd-empty").latest_version == 1


def test_model_versions_update_tag_and_delete(server: Recorder, ws: Workspace) -> None:
    client = MlflowClient()
    _versions(client, "upd-versions", 3)
    assert client.update_model_version("upd-versions", "2", description="best").description == "best"
    client.set_model_version_tag("upd-versions", "2", "checked", "yes")
    client.set_model_version_tag("upd-versions", "2", "gone", "soon")
    client.delete_model_version_tag("upd-versions", "2", "gone")
    got = client.get_model_version("upd-versions", "2")
    assert (got.description, got.tags) == ("best", {"checked": "yes"})
    client.set_registered_model_alias("upd-versions", "staging", "3")
    client.delete_model_version("upd-versions", "3")
    with pytest.raises(MlflowException, match="upd-versions"):
        client.get_model_version("upd-versions", "3")
    assert client.get_registered_model("upd-versions").aliases == {}
    assert ws.store.create_model_version("upd-versions", source="s", files=["f"]).version == 4  # 3 not reused


def test_registered_models_update_tag_rename_and_delete(server: Recorder, ws: Workspace) -> None:
    client = MlflowClient()
    _versions(client, "upd-model", 2)
    client.set_registered_model_alias("upd-model", "production", "1")
    assert client.update_registered_model("upd-model", description="ridge").description == "ridge"
    client.set_registered_model_tag("upd-model", "team", "risk")
    client.set_registered_model_tag("upd-model", "tmp", "x")
    client.delete_registered_model_tag("upd-model", "tmp")
    assert client.get_registered_model("upd-model").tags == {"team": "risk"}

    client.rename_registered_model("upd-model", "upd-renamed-model")
    renamed = client.get_registered_model("upd-renamed-model")
    assert (renamed.description, renamed.tags, renamed.aliases) == (
        "ridge",
        {"team": "risk"},
        {"production": "1"},
    )
    assert client.get_model_version_by_alias("upd-renamed-model", "production").version == "1"
    assert ws.store.get_registered_model("upd-renamed-model").latest_version == 2
    with pytest.raises(MlflowException, match="upd-model"):
        client.get_registered_model("upd-model")

    client.delete_registered_model("upd-renamed-model")
    with pytest.raises(MlflowException, match="upd-renamed-model"):
        client.get_registered_model("upd-renamed-model")
    assert "upd-renamed-model" not in {m.name for m in ws.store.list_models()}
    for route in (
        "PATCH /api/2.0/mlflow/registered-models/update",
        "DELETE /api/2.0/mlflow/registered-models/delete",
    ):
        assert route in server.routes()
