"""A registered command component runs the code it was registered with, not the folder as it is now."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.server_helpers import threaded_server
from tests.unit.test_command_component import component, write
from trainyard.components.command import register_command_component
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.pipelines import build_graph, load_pipeline
from trainyard.pipelines.components import expand_component_steps
from trainyard.server.running import ThreadedServer
from trainyard.workspace import Workspace


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    yield from threaded_server(tmp_path_factory)


def server_workspace(server: ThreadedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A client of a server whose workspace is a fresh folder."""
    served = Workspace.create(tmp_path / "served")
    server.app.state.workspace = served
    monkeypatch.setenv("TRAINYARD_TOKEN", server.token)  # type: ignore[attr-defined]
    monkeypatch.setenv("TRAINYARD_CACHE_DIR", str(tmp_path / "client-cache"))
    return Workspace.from_config(server.url)


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_a_registered_component_runs_its_registered_code(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
):
    if where == "server":
        ws = server_workspace(request.getfixturevalue("server"), tmp_path, monkeypatch)
    else:
        ws = request.getfixturevalue("ws")
    assert ws.is_server == (where == "server")
    folder = tmp_path / "comp"
    folder.mkdir()
    path = write(folder, {k: v for k, v in component().items() if k != "version"})
    first = register_command_component(ws, path)
    assert register_command_component(ws, path).version == first.version == "1"
    (folder / "src" / "train.py").write_text("print('edited after registering')\n")
    second = register_command_component(ws, path)
    assert second.version == "2" and second.snapshot_id != first.snapshot_id

    spec = {"type": "pipeline", "jobs": {"t": {"component": "train_churn:1", "inputs": {"data": "comp"}}}}
    (tmp_path / "p.yml").write_text(yaml.safe_dump(spec))
    job = expand_component_steps(load_pipeline(tmp_path / "p.yml"), ws, tmp_path)
    code = Path(job.jobs["t"].code)
    assert (code / "train.py").read_text() == "print('train')\n"
    assert job.jobs["t"].ports is not None and job.jobs["t"].ports.component == "train_churn:1"
    assert build_graph(job).layers == [["t"]]
    again = expand_component_steps(load_pipeline(tmp_path / "p.yml"), ws, tmp_path)
    assert again.jobs["t"].code == str(code)  # restored once, then read from the cache


def test_a_catalogue_name_or_an_unknown_environment_cannot_be_registered(ws: Workspace, tmp_path: Path):
    with pytest.raises(InvalidInputError, match="'split-data' is a catalogue module"):
        register_command_component(ws, write(tmp_path, component(name="split-data")))
    with pytest.raises(NotFoundError, match="sklearn-gpu"):
        register_command_component(ws, write(tmp_path, component(environment="azureml:sklearn-gpu:3")))
    assert ws.store.list_component_versions() == []
