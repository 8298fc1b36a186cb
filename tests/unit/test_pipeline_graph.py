"""Pipeline YAML and its DAG: every wiring mistake is one error naming the step and the port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trainyard.errors import InvalidInputError
from trainyard.pipelines import build_graph, load_pipeline


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "pipeline.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def cmd(command: str, inputs: dict | None = None, outputs: dict | None = None) -> dict[str, Any]:
    return {"command": command, "inputs": inputs or {}, "outputs": outputs or {}}


def chain(**steps: dict[str, Any]) -> dict[str, Any]:
    return {"type": "pipeline", "inputs": {"n": 3}, "jobs": steps}


def test_a_fan_out_fan_in_is_ordered_in_layers(tmp_path: Path):
    spec = chain(
        a=cmd("python a.py ${{inputs.n}} ${{outputs.o}}", {"n": "${{parent.inputs.n}}"}, {"o": {}}),
        b=cmd("python b.py ${{inputs.x}} ${{outputs.o}}", {"x": "${{parent.jobs.a.outputs.o}}"}, {"o": {}}),
        c=cmd("python c.py ${{inputs.x}} ${{outputs.o}}", {"x": "${{parent.jobs.a.outputs.o}}"}, {"o": {}}),
        d=cmd(
            "python d.py ${{inputs.x}} ${{inputs.y}}",
            {"x": "${{parent.jobs.b.outputs.o}}", "y": "${{parent.jobs.c.outputs.o}}"},
        ),
    )
    graph = build_graph(load_pipeline(write(tmp_path, spec)))
    assert graph.layers == [["a"], ["b", "c"], ["d"]]
    assert graph.nodes["d"].needs == {"b", "c"}


def test_components_take_azure_names_and_bind_pipeline_outputs(tmp_path: Path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,0\n")
    spec = {
        "type": "pipeline",
        "inputs": {"data": {"type": "uri_file", "path": "d.csv"}},
        "outputs": {"model": {"type": "custom_model"}},
        "jobs": {
            "learner": {"component": "azureml:two-class-logistic-regression"},
            "train": {
                "component": "train-model@1",
                "inputs": {
                    "untrained_model": "${{parent.jobs.learner.outputs.untrained_model}}",
                    "dataset": "${{parent.inputs.data}}",
                    "label_column": "y",
                },
                "outputs": {"trained_model": "${{parent.outputs.model}}"},
            },
        },
    }
    graph = build_graph(load_pipeline(write(tmp_path, spec)))
    assert graph.layers == [["learner"], ["train"]]
    assert graph.bound_outputs == {"model": ("train", "trained_model")}


BAD = {
    "cycle": (
        chain(
            a=cmd("x ${{inputs.i}}", {"i": "${{parent.jobs.b.outputs.o}}"}, {"o": {}}),
            b=cmd("x ${{inputs.i}}", {"i": "${{parent.jobs.a.outputs.o}}"}, {"o": {}}),
        ),
        "the steps form a cycle: a -> b -> a",
    ),
    "missing step": (
        chain(a=cmd("x ${{inputs.i}}", {"i": "${{parent.jobs.nope.outputs.o}}"})),
        "step 'a' input 'i': no step 'nope'",
    ),
    "missing output": (
        chain(
            a=cmd("x ${{outputs.o}}", outputs={"o": {}}),
            b=cmd("x ${{inputs.i}}", {"i": "${{parent.jobs.a.outputs.oops}}"}),
        ),
        "step 'b' input 'i': step 'a' has no output 'oops' (o)",
    ),
    "missing pipeline input": (
        chain(a=cmd("x ${{inputs.i}}", {"i": "${{parent.inputs.nope}}"})),
        "step 'a' input 'i': no pipeline input 'nope' (inputs: n)",
    ),
    "wrong kind": (
        chain(
            a=cmd("x ${{outputs.o}}", outputs={"o": {"type": "mltable"}}),
            s={
                "component": "score-model",
                "inputs": {
                    "trained_model": "${{parent.jobs.a.outputs.o}}",
                    "dataset": "${{parent.jobs.a.outputs.o}}",
                },
            },
        ),
        "step 's' input 'trained_model' takes a model but is wired to a table",
    ),
    "missing required input": (
        chain(s={"component": "split-data"}),
        "step 's': required input 'dataset' (table) is not wired",
    ),
    "unknown component": (
        chain(s={"component": "azureml:trian-model"}),
        "step 's': no component named 'trian-model'; did you mean train-model",
    ),
    "unknown version": (
        chain(s={"component": "train-model@7"}),
        "step 's': component 'train-model' has no version '7'",
    ),
    "undeclared command output": (
        chain(a=cmd("x ${{outputs.o}}")),
        "step 'a': the command uses ${{outputs.o}} but the step declares no such output",
    ),
    "unbound pipeline output": (
        {**chain(a=cmd("x")), "outputs": {"model": {}}},
        "pipeline output 'model' is not bound",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_wiring_mistake_is_one_error_naming_step_and_port(tmp_path: Path, case: str):
    spec, message = BAD[case]
    with pytest.raises(InvalidInputError) as err:
        build_graph(load_pipeline(write(tmp_path, spec)))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_set_overrides_an_input_and_only_inputs(tmp_path: Path):
    path = write(tmp_path, chain(a=cmd("x ${{inputs.i}}", {"i": "${{parent.inputs.n}}"})))
    assert load_pipeline(path, {"inputs.n": "5"}).inputs["n"] == 5
    with pytest.raises(InvalidInputError, match="only pipeline inputs can be set"):
        load_pipeline(path, {"settings.force_rerun": "true"})


def test_the_documented_pipeline_is_valid(tmp_path: Path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "pipelines.md").read_text()
    path = tmp_path / "pipeline.yml"
    path.write_text(doc.split("```yaml\n")[1].split("```")[0])
    graph = build_graph(load_pipeline(path))
    assert graph.layers == [["prep"], ["train_a", "train_b"]]
    assert graph.bound_outputs == {"model": ("train_a", "model")}


def test_a_pipeline_input_path_that_is_missing_is_refused(tmp_path: Path):
    spec = {**chain(a=cmd("x")), "inputs": {"data": {"type": "uri_file", "path": "gone.csv"}}}
    with pytest.raises(
        InvalidInputError, match="pipeline input 'data' points at .*gone.csv, which does not exist"
    ):
        load_pipeline(write(tmp_path, spec))


def test_a_pipeline_input_may_name_a_data_asset(tmp_path: Path):
    """``azureml:churn:3`` is a data input (resolved when the pipeline runs), not a missing file."""
    spec = {
        **chain(a=cmd("python a.py ${{inputs.d}}", {"d": "${{parent.inputs.data}}"})),
        "inputs": {"data": "azureml:churn:3", "more": {"type": "uri_folder", "path": "data:churn@latest"}},
    }
    job = load_pipeline(write(tmp_path, spec))
    assert {k: v.path for k, v in job.inputs.items()} == {  # type: ignore[union-attr]
        "data": "azureml:churn:3",
        "more": "data:churn@latest",
    }
    build_graph(job)
