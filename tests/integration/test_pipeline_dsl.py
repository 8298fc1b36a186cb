"""Pipelines written in Python (``@ty.pipeline``): the same PipelineJob as the YAML, run for real."""

from __future__ import annotations

import pytest

import trainyard as ty
from trainyard.artifacts import run_key
from trainyard.errors import InvalidInputError
from trainyard.pipelines import build_graph

PREP = """
import pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(out / "data.csv").write_text(src.read_text().upper())
"""


@pytest.fixture
def steps(script_dir, tmp_path):
    src = script_dir({"prep.py": PREP})
    (tmp_path / "raw.csv").write_text("a,b\n1,2\n")
    prep = ty.command(
        "python prep.py ${{inputs.raw}} ${{outputs.clean}}",
        code=str(src),
        inputs={"raw": ty.Input(type="uri_file")},
        outputs={"clean": ty.Output()},
    )
    return prep, tmp_path / "raw.csv"


def test_a_pipeline_function_builds_the_job_the_yaml_would(steps):
    prep, raw = steps
    split = ty.load_component("azureml:split-data")

    @ty.pipeline(experiment_name="dsl", continue_on_step_failure=True)
    def clean_twice(raw, fraction=0.5):
        """Prepare the data twice and split the first copy."""
        first = prep(raw=raw)
        prep(raw=first.outputs.clean)
        split(dataset=first.outputs.clean, fraction=fraction)
        return {"clean": first.outputs.clean}

    job = clean_twice(raw=ty.Input(type="uri_file", path=str(raw)))
    assert job.experiment_name == "dsl" and job.description.startswith("Prepare")
    assert job.settings.continue_on_step_failure
    assert set(job.jobs) == {"prep", "prep_2", "split_data"}
    assert job.jobs["prep_2"].inputs["raw"] == "${{parent.jobs.prep.outputs.clean}}"
    assert job.jobs["prep"].outputs["clean"] == "${{parent.outputs.clean}}"
    assert job.jobs["split_data"].inputs["fraction"] == "${{parent.inputs.fraction}}"
    graph = build_graph(job)
    assert graph.layers == [["prep"], ["prep_2", "split_data"]]


def test_mistakes_in_a_pipeline_function_are_one_error(steps):
    prep, raw = steps
    with pytest.raises(InvalidInputError, match="call it inside a @ty.pipeline"):
        prep(raw="x")

    @ty.pipeline()
    def wrong_output(raw):
        return {"clean": prep(raw=raw).outputs.cleaned}

    with pytest.raises(InvalidInputError, match="no output 'cleaned'"):
        wrong_output(raw=ty.Input(type="uri_file", path=str(raw)))

    @ty.pipeline()
    def wrong_input(raw):
        prep(data=raw)

    with pytest.raises(InvalidInputError, match="no input 'data'"):
        wrong_input(raw=ty.Input(type="uri_file", path=str(raw)))
    with pytest.raises(InvalidInputError, match="pipeline wrong_input"):
        wrong_input(1, 2)

    @ty.pipeline()
    def returns_its_input(raw):
        prep(raw=raw)
        return {"raw": raw}  # an input, not a step's output

    with pytest.raises(InvalidInputError, match="returns None or"):
        returns_its_input(raw=ty.Input(type="uri_file", path=str(raw)))


def test_a_pipeline_function_runs_as_a_pipeline(ws, steps):
    prep, raw = steps

    @ty.pipeline()
    def clean(raw):
        return {"clean": prep(raw=raw).outputs.clean}

    run = ty.Experiment(ws, "dsl").submit(clean(raw=ty.Input(type="uri_file", path=str(raw))))
    run.wait_for_completion(timeout_seconds=120)
    assert ws.artifacts.get_bytes(run_key(run.id, "outputs/clean/data.csv")) == b"A,B\n1,2\n"
    assert run.refresh().experiment_id == ws.store.get_or_create_experiment("dsl").id
