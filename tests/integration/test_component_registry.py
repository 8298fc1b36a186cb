"""A registered command component runs the code it was registered with, not the folder as it is now."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.unit.test_command_component import component, write
from trainyard.components.command import register_command_component
from trainyard.errors import InvalidInputError
from trainyard.pipelines import build_graph, load_pipeline
from trainyard.pipelines.components import expand_component_steps
from trainyard.workspace import Workspace


def test_a_registered_component_runs_its_registered_code(ws: Workspace, tmp_path: Path):
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


def test_a_catalogue_name_cannot_be_registered(ws: Workspace, tmp_path: Path):
    with pytest.raises(InvalidInputError, match="'split-data' is a catalogue module"):
        register_command_component(ws, write(tmp_path, component(name="split-data")))
