"""Command components: Azure's component YAML, every mistake one line naming the field, and the
command step a pipeline makes of one (optional blocks, defaults, typed wires)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trainyard.components import get_component
from trainyard.components.command import load_command_component
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import OutputSpec, PathInput
from trainyard.pipelines import build_graph, load_pipeline
from trainyard.pipelines.components import expand_component_steps, parse_component_ref

COMMAND = (
    "python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}} "
    "$[[--seed ${{inputs.seed}}]] --out ${{outputs.model}}"
)


def component(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
        "type": "command",
        "name": "train_churn",
        "version": 1,
        "display_name": "Train churn",
        "inputs": {
            "data": {"type": "uri_folder"},
            "alpha": {"type": "number", "default": 0.5, "min": 0, "max": 1},
            "solver": {"type": "string", "default": "lbfgs", "enum": ["lbfgs", "saga"]},
            "seed": {"type": "integer", "optional": True},
        },
        "outputs": {"model": {"type": "mlflow_model"}},
        "code": "./src",
        "command": COMMAND,
        "environment": {"requirements": ["scikit-learn"]},
        "is_deterministic": False,
    }
    spec.update(changes)
    return spec


def write(folder: Path, spec: dict[str, Any], name: str = "train.yml") -> Path:
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "train.py").write_text("print('train')\n")
    path = folder / name
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_component_reads_with_its_code_beside_the_file_and_resolves_optional_blocks(tmp_path: Path):
    comp = load_command_component(write(tmp_path, component()))
    assert (comp.name, comp.version, comp.code) == ("train_churn", "1", str(tmp_path / "src"))
    assert comp.inputs["alpha"].kind == "number" and comp.outputs["model"].kind == "model"
    without = comp.resolve_command({"data", "alpha"})
    assert "--seed" not in without and without.endswith("--out ${{outputs.model}}")
    assert "--seed ${{inputs.seed}} --out" in comp.resolve_command({"data", "alpha", "seed"})


def test_its_schema_has_the_catalogue_components_shape(tmp_path: Path):
    schema = load_command_component(write(tmp_path, component())).schema()
    catalogue = get_component("split-data").schema()
    assert set(catalogue) <= set(schema) and schema["kind"] == "command"
    assert schema["inputs"] == {
        "data": {"kind": "uri_folder", "type": "uri_folder", "description": "", "optional": False}
    }
    assert schema["outputs"]["model"]["kind"] == "model"
    params = schema["params"]
    assert set(params["properties"]) == {"alpha", "solver", "seed"} and params["required"] == []
    assert params["properties"]["alpha"] == {
        "type": "number",
        "description": "",
        "default": 0.5,
        "minimum": 0,
        "maximum": 1,
    }
    assert params["properties"]["solver"]["enum"] == ["lbfgs", "saga"]


def _input(**spec: Any) -> dict[str, Any]:
    return component(inputs={**component()["inputs"], "extra": spec})


BAD = {
    "unknown input type": (_input(type="csv"), "inputs.extra: type 'csv' is not one of uri_folder, uri_file"),
    "default outside max": (
        component(inputs={**component()["inputs"], "alpha": {"type": "number", "default": 5, "max": 1}}),
        "inputs.alpha: default must be at most 1, got 5 (number input)",
    ),
    "default not in enum": (
        _input(type="string", default="x", enum=["a"]),
        "default must be one of a, got 'x'",
    ),
    "default of the wrong type": (
        _input(type="integer", default="3"),
        "default must be a whole number, got '3'",
    ),
    "min above max": (_input(type="integer", min=3, max=1), "inputs.extra: min 3 is above max 1"),
    "min on a string": (_input(type="string", min=1), "min and max are only for integer and number inputs"),
    "enum on a number": (_input(type="number", enum=["a"]), "enum is only for string inputs, not number"),
    "default on a path": (_input(type="uri_file", default="x.csv"), "default is only for string, integer"),
    "unknown key": (_input(type="string", minimum=1), "inputs.extra.minimum: Extra inputs are not permitted"),
    "undeclared input": (
        component(command="python t.py ${{inputs.nope}}"),
        "command: uses ${{inputs.nope}} but inputs declare no 'nope' (inputs: alpha, data, seed, solver)",
    ),
    "undeclared output": (
        component(command="python t.py ${{outputs.nope}}"),
        "command: uses ${{outputs.nope}} but outputs declare no 'nope' (outputs: model)",
    ),
    "unknown reference": (component(command="python t.py ${{parent.x}}"), "unknown reference ${{parent.x}}"),
    "optional input outside a block": (
        component(command="python t.py ${{inputs.seed}}"),
        "optional input 'seed' is used outside $[[…]]",
    ),
    "unclosed block": (component(command="python t.py $[[--seed ${{inputs.seed}}"), "is not closed with ]]"),
    "block without input": (component(command="python t.py $[[--fast]]"), "$[[--fast]] uses no input"),
    "unknown output type": (
        component(outputs={"m": {"type": "pickle"}}),
        "outputs.m.type: String should match",
    ),
    "bad name": (component(name="train churn"), "name: 'train churn': start with a letter or digit"),
    "version latest": (component(version="latest"), "version: a version is 1 to 64 letters"),
    "not a command": (component(type="pipeline"), "type: String should match pattern '^command$'"),
    "no command": ({k: v for k, v in component().items() if k != "command"}, "command: Field required"),
    "bad port name": (component(outputs={"my model": {}}), "port name 'my model'"),
    "missing code": (component(code="./nowhere"), "code: the folder"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_every_mistake_is_one_line_naming_the_field(tmp_path: Path, case: str):
    spec, message = BAD[case]
    with pytest.raises(InvalidInputError) as raised:
        load_command_component(write(tmp_path, spec))
    text = str(raised.value)
    assert message in text and "\n" not in text, text


def test_a_file_that_is_not_a_mapping_is_one_line(tmp_path: Path):
    (tmp_path / "c.yml").write_text("- a\n- b\n")
    with pytest.raises(InvalidInputError, match="must hold a mapping"):
        load_command_component(tmp_path / "c.yml")


# pipelines ---------------------------------------------------------------------------------------


def pipeline(tmp_path: Path, jobs: dict[str, Any], **extra: Any) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    spec = {
        "type": "pipeline",
        "inputs": {"raw": {"type": "uri_folder", "path": "data"}, "a": 0.2},
        "jobs": jobs,
    }
    spec.update(extra)
    path = tmp_path / "pipeline.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def expanded(tmp_path: Path, jobs: dict[str, Any], **extra: Any):
    job = load_pipeline(pipeline(tmp_path, jobs, **extra))
    return expand_component_steps(job, None, tmp_path)


def test_a_component_step_becomes_its_command_step(tmp_path: Path):
    write(tmp_path, component())
    jobs = {
        "train": {
            "component": "./train.yml",
            "inputs": {"data": "${{parent.inputs.raw}}", "alpha": "${{parent.inputs.a}}"},
            "outputs": {"model": "${{parent.outputs.model}}"},
        },
        "learner": {"component": "azureml:two-class-logistic-regression"},
    }
    job = expanded(tmp_path, jobs, outputs={"model": {"type": "mlflow_model"}})
    step = job.jobs["train"]
    assert step.component is None and step.code == str(tmp_path / "src")
    assert step.command == (
        "python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}}  --out ${{outputs.model}}"
    )
    assert step.inputs == {
        "data": "${{parent.inputs.raw}}",
        "alpha": "${{parent.inputs.a}}",
        "solver": "lbfgs",
    }
    assert step.outputs == {"model": "${{parent.outputs.model}}"}
    assert step.environment.requirements == ["scikit-learn"] and step.is_deterministic is False
    assert step.ports is not None and step.ports.outputs == {"model": "model"}
    assert job.jobs["learner"].component == "azureml:two-class-logistic-regression"  # the catalogue's
    graph = build_graph(job)
    assert graph.layers == [["learner", "train"]] and graph.bound_outputs == {"model": ("train", "model")}


def test_a_literal_path_and_an_unbound_output_are_typed(tmp_path: Path):
    write(tmp_path, component())
    job = expanded(tmp_path, {"t": {"component": "file:train.yml", "inputs": {"data": "data", "seed": 7}}})
    step = job.jobs["t"]
    assert step.inputs["data"] == PathInput(type="uri_folder", path=str(tmp_path / "data"))
    assert "--seed ${{inputs.seed}}" in str(step.command)
    assert step.outputs == {"model": OutputSpec(type="mlflow_model")}


def test_a_typed_output_wired_into_a_component_input_of_another_type_names_step_and_port(tmp_path: Path):
    write(tmp_path, component(inputs={"data": {"type": "mltable"}}, command="python t.py ${{inputs.data}}"))
    jobs = {
        "prep": {"command": "python p.py ${{outputs.m}}", "outputs": {"m": {"type": "custom_model"}}},
        "train": {"component": "./train.yml", "inputs": {"data": "${{parent.jobs.prep.outputs.m}}"}},
    }
    with pytest.raises(
        InvalidInputError, match="step 'train' input 'data' takes a table but is wired to a model"
    ):
        build_graph(expanded(tmp_path, jobs))
    jobs["prep"]["outputs"]["m"]["type"] = "mltable"
    assert build_graph(expanded(tmp_path, jobs)).layers == [["prep"], ["train"]]


def test_a_component_output_carries_its_type_to_the_steps_it_feeds(tmp_path: Path):
    write(tmp_path, component())
    jobs = {
        "train": {"component": "./train.yml", "inputs": {"data": "${{parent.inputs.raw}}"}},
        "score": {
            "component": "score-model",
            "inputs": {
                "trained_model": "${{parent.jobs.train.outputs.model}}",
                "dataset": "${{parent.jobs.train.outputs.model}}",
            },
        },
    }
    with pytest.raises(
        InvalidInputError, match="step 'score' input 'dataset' takes a table but is wired to a model"
    ):
        build_graph(expanded(tmp_path, jobs))


STEP_BAD = {
    "unknown input": (
        {"inputs": {"data": "data", "beta": 1}},
        "step 't': component train_churn:1 has no input 'beta'",
    ),
    "unwired input": ({}, "step 't': required input 'data' (uri_folder) is not wired"),
    "literal out of range": (
        {"inputs": {"data": "data", "alpha": 3}},
        "step 't' input 'alpha': value must be between 0 and 1",
    ),
    "pipeline literal out of enum": (
        {"inputs": {"data": "data", "solver": "${{parent.inputs.a}}"}},
        "step 't' input 'solver': value must be a string, got 0.2",
    ),
    "a folder into a number": (
        {"inputs": {"data": "data", "alpha": "${{parent.inputs.raw}}"}},
        "step 't' input 'alpha' takes a number value but is wired to a uri_folder",
    ),
    "a number into a path": (
        {"inputs": {"data": 3}},
        "step 't' input 'data' takes a uri_folder (a path or a wire), not 3",
    ),
    "a missing path": ({"inputs": {"data": "nowhere"}}, "step 't' input 'data' points at"),
    "unknown output": ({"inputs": {"data": "data"}, "outputs": {"m": {}}}, "has no output 'm' (model)"),
    "output of another type": (
        {"inputs": {"data": "data"}, "outputs": {"model": {"type": "uri_file"}}},
        "step 't' output 'model': the component declares a mlflow_model, not a uri_file",
    ),
    "a broken component file": ({"component": "./broken.yml"}, "step 't': "),
    "a missing component file": ({"component": "./none.yml"}, "step 't': component file"),
}


@pytest.mark.parametrize("case", list(STEP_BAD))
def test_every_step_mistake_is_one_line_naming_the_step(tmp_path: Path, case: str):
    write(tmp_path, component())
    write(tmp_path, component(inputs={"x": {"type": "csv"}}), "broken.yml")
    step, message = STEP_BAD[case]
    with pytest.raises(InvalidInputError) as raised:
        build_graph(expanded(tmp_path, {"t": {"component": "./train.yml", **step}}))
    assert message in str(raised.value) and "\n" not in str(raised.value), str(raised.value)


def test_references_name_a_version_or_the_newest():
    assert parse_component_ref("azureml:train:2") == ("train", "2")
    assert parse_component_ref("azureml:train@latest") == ("train", None)
    assert parse_component_ref("train:0.3") == ("train", "0.3")
    assert parse_component_ref("train") == ("train", None)


def test_the_documented_component_and_its_pipeline_are_valid(tmp_path: Path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "pipelines.md").read_text()
    blocks = [b.split("```")[0] for b in doc.split("```yaml\n")[1:]]
    at = next(i for i, b in enumerate(blocks) if "commandComponent.schema.json" in b)  # the component's
    component_yaml, pipeline_yaml = blocks[at], blocks[at + 1]  # and the pipeline using it, after it
    (tmp_path / "src").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "train.yml").write_text(component_yaml)
    (tmp_path / "pipeline.yml").write_text(pipeline_yaml)
    comp = load_command_component(tmp_path / "train.yml")
    assert comp.resolve_command({"data", "alpha", "solver"}).endswith(
        "--solver ${{inputs.solver}}  --out ${{outputs.model}}"
    )
    job = expand_component_steps(load_pipeline(tmp_path / "pipeline.yml"), None, tmp_path)
    graph = build_graph(job)
    assert graph.layers == [["train"], ["score"]] and graph.bound_outputs == {"model": ("train", "model")}


def test_an_environments_requirements_file_is_beside_the_component(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("# pinned\nscikit-learn==1.5.2\n")
    spec = component(environment={"requirements": ["pandas"], "requirements_file": "requirements.txt"})
    comp = load_command_component(write(tmp_path, spec))
    assert comp.environment.requirements == ["pandas", "scikit-learn==1.5.2"]  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="requirements file .*nope.txt does not exist"):
        load_command_component(write(tmp_path, component(environment={"requirements_file": "nope.txt"})))
