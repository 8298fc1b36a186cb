"""Pipelines written in Python (``@ty.pipeline``): the same PipelineJob as the YAML, run for real."""

from __future__ import annotations

import textwrap

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


FIT = """
    type: pipeline
    inputs:
      raw: {type: uri_file, path: ./raw.csv}
    jobs:
      prep:
        code: src
        command: python prep.py ${{inputs.raw}} ${{outputs.clean}}
        inputs: {raw: "${{parent.inputs.raw}}"}
        outputs: {clean: {type: uri_folder}}
      fit:
        type: sweep
        code: src
        command: python fit.py ${{inputs.data}} --alpha ${{search_space.alpha}} ${{outputs.model}}
        inputs: {data: "${{parent.jobs.prep.outputs.clean}}"}
        outputs: {model: {type: uri_folder}}
        search_space: {alpha: {type: choice, values: [0.1, 1.0]}}
        sampling_algorithm: grid
        objective: {primary_metric: score, goal: minimize}
        limits: {max_total_trials: 2, max_concurrent_trials: 2}
      classification:
        type: automl
        task: classification
        target_column_name: b
        primary_metric: AUC_weighted
        training_data: ${{parent.jobs.prep.outputs.clean}}
        limits: {timeout_minutes: 2, max_trials: 5}
        training: {allowed_training_algorithms: [LogisticRegression], enable_model_explainability: false}
"""


def test_sweep_and_automl_steps_in_python_are_the_steps_the_yaml_has(steps, tmp_path):
    prep, raw = steps
    (tmp_path / "src" / "fit.py").write_text("")
    fit = ty.command(
        "python fit.py ${{inputs.data}} --alpha ${{inputs.alpha}} ${{outputs.model}}",
        code=str(tmp_path / "src"),
        inputs={"data": ty.Input(), "alpha": 0.5},
        outputs={"model": ty.Output()},
    )

    @ty.pipeline()
    def tune(raw):
        clean = prep(raw=raw).outputs.clean
        fit(data=clean, alpha=ty.choice(0.1, 1.0)).sweep(
            primary_metric="score",
            goal="minimize",
            sampling_algorithm="grid",
            max_total_trials=2,
            max_concurrent_trials=2,
        )
        auto = ty.automl.classification(
            training_data=clean, target_column_name="b", primary_metric="AUC_weighted"
        )
        auto.set_limits(timeout_minutes=2, max_trials=5)
        auto.set_training(
            allowed_training_algorithms=["LogisticRegression"], enable_model_explainability=False
        )
        return {"model": auto.outputs.best_model}

    job = tune(raw=ty.Input(type="uri_file", path=str(raw)))
    (tmp_path / "p.yml").write_text(textwrap.dedent(FIT))
    written = ty.load_pipeline(tmp_path / "p.yml")
    assert job.jobs["fit"].command == written.jobs["fit"].command  # ${{search_space.alpha}}
    assert job.jobs["fit"].sweep_fields() == written.jobs["fit"].sweep_fields()
    assert job.jobs["classification"].automl == written.jobs["classification"].automl
    assert job.jobs["classification"].outputs == {"best_model": "${{parent.outputs.model}}"}
    assert job.outputs["model"].type == "mlflow_model"
    assert build_graph(job).layers == [["prep"], ["classification", "fit"]]


def test_mistakes_in_sweep_and_automl_steps_in_python_name_the_step(steps):
    prep, raw = steps

    @ty.pipeline()
    def nothing_to_sweep(raw):
        prep(raw=raw).sweep(primary_metric="score")

    with pytest.raises(InvalidInputError, match="step 'prep' has nothing to sweep"):
        nothing_to_sweep(raw=ty.Input(type="uri_file", path=str(raw)))

    @ty.pipeline()
    def bad_limit(raw):
        auto = ty.automl.regression(training_data=prep(raw=raw).outputs.clean, target_column_name="b")
        auto.set_limits(max_trails=3)

    with pytest.raises(
        InvalidInputError, match="step 'regression' is not a valid automl step: limits.max_trails"
    ):
        bad_limit(raw=ty.Input(type="uri_file", path=str(raw)))
