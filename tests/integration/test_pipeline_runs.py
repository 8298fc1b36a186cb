"""Pipelines end to end: a real driver process, real step processes, a real SQLite workspace."""

from __future__ import annotations

import io
import os
import signal
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import trainyard as ty
from trainyard.artifacts import run_key
from trainyard.errors import InvalidInputError
from trainyard.pipelines import load_pipeline
from trainyard.pipelines.submit import rerun_record, start_pipeline, submit_pipeline
from trainyard.status import RunStatus

PREP = """
import pathlib, sys
src, out = sys.argv[1], pathlib.Path(sys.argv[2])
lines = open(src).read().splitlines()
(out / "train.csv").write_text("\\n".join(lines[:-1]) + "\\n")
print("prep kept", len(lines) - 1, "lines")
"""
TRAIN = """
import pathlib, sys, time
from trainyard import Run
data, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
alpha, sleep = sys.argv[3], float(sys.argv[4])
rows = len((data / "train.csv").read_text().splitlines())
time.sleep(sleep)
Run.get_context().log("rows", rows)
(out / "model.txt").write_text(f"{rows} rows, alpha {alpha}\\n")
"""
LS = """
import pathlib, sys
print(sorted(p.name for p in pathlib.Path(sys.argv[1]).iterdir()))
"""
FAIL = """
raise SystemExit("bad data: no rows")
"""

PIPELINE = """
type: pipeline
experiment_name: pipes
inputs:
  raw: {type: uri_file, path: ./data.csv}
  alpha: 0.5
  sleep: 0
outputs:
  model: {type: uri_folder}
jobs:
  prep:
    code: src
    command: python prep.py ${{inputs.raw}} ${{outputs.train}}
    inputs:
      raw: ${{parent.inputs.raw}}
    outputs:
      train: {type: uri_folder}
  train:
    code: src
    command: python train.py ${{inputs.data}} ${{outputs.model}} ${{inputs.alpha}} ${{inputs.sleep}}
    inputs:
      data: ${{parent.jobs.prep.outputs.train}}
      alpha: ${{parent.inputs.alpha}}
      sleep: ${{parent.inputs.sleep}}
    outputs:
      model: ${{parent.outputs.model}}
"""


@pytest.fixture
def project(ws, script_dir) -> Path:
    src = script_dir({"prep.py": PREP, "train.py": TRAIN, "fail.py": FAIL, "ls.py": LS})
    root = src.parent
    (root / "data.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    (root / "pipeline.yml").write_text(textwrap.dedent(PIPELINE))
    return root


def run_pipeline(ws, root: Path, text: str | None = None, **overrides: str) -> ty.Run:
    path = root / "pipeline.yml"
    if text is not None:
        path = root / "other.yml"
        path.write_text(textwrap.dedent(text))
    job = load_pipeline(path, {f"inputs.{k}": v for k, v in overrides.items()})
    run = ty.Run(ws, submit_pipeline(ws, job).id)
    run.wait_for_completion(raise_on_error=False, timeout_seconds=120)
    return run


def steps(ws, run: ty.Run) -> dict:
    return {c.tags["pipeline.step"]: c for c in ws.store.search_runs(parent_id=run.id)}


def test_steps_pass_outputs_through_the_store_and_a_second_submit_reuses_them(ws, project):
    first = run_pipeline(ws, project)
    info = first.refresh()
    assert info.status is RunStatus.COMPLETED, first.log_text()
    kids = steps(ws, first)
    assert {k.status for k in kids.values()} == {RunStatus.COMPLETED}
    assert kids["train"].metrics["rows"] == 3  # prep's output, read through the artifact store
    assert kids["prep"].start_time < kids["prep"].end_time <= kids["train"].start_time
    model = ws.artifacts.get_bytes(run_key(first.id, "outputs/model/model.txt")).decode()
    assert model == "3 rows, alpha 0.5\n"  # the bound pipeline output, under the parent's outputs
    assert info.tags["pipeline.output.model"] == f"{kids['train'].id}/outputs/model"

    second = run_pipeline(ws, project)
    assert second.refresh().status is RunStatus.COMPLETED
    again = steps(ws, second)
    assert {k: v.tags.get("pipeline.reused_from") for k, v in again.items()} == {
        "prep": kids["prep"].id,
        "train": kids["train"].id,
    }
    assert ws.artifacts.get_bytes(run_key(second.id, "outputs/model/model.txt")).decode() == model
    log = second.log_text()[0]
    assert "2 reused" in log and "finished where it was submitted" in log  # no driver process

    # a new value of alpha changes train's inputs, not prep's: only train runs again
    third = run_pipeline(ws, project, alpha="0.9")
    assert third.refresh().status is RunStatus.COMPLETED
    changed = steps(ws, third)
    assert changed["prep"].tags.get("pipeline.reused_from") == kids["prep"].id
    assert "pipeline.reused_from" not in changed["train"].tags
    assert ws.artifacts.get_bytes(run_key(third.id, "outputs/model/model.txt")) == b"3 rows, alpha 0.9\n"


def test_a_forced_step_that_writes_the_same_output_lets_the_steps_after_it_be_reused(ws, project):
    first = run_pipeline(ws, project)
    assert first.refresh().status is RunStatus.COMPLETED
    record = rerun_record(first.refresh(), from_step="prep")
    assert record.steps["prep"].force_rerun and record.steps["train"].force_rerun
    text = (project / "pipeline.yml").read_text().replace("  prep:\n", "  prep:\n    force_rerun: true\n")
    second = run_pipeline(ws, project, text)
    kids = steps(ws, second)
    assert "pipeline.reused_from" not in kids["prep"].tags  # it ran again ...
    # ... and wrote the same bytes, so train, keyed on their content, is reused
    assert kids["train"].tags.get("pipeline.reused_from") == steps(ws, first)["train"].id

    third = ty.Run(ws, start_pipeline(ws, record).id)  # rerun --from prep: both run
    third.wait_for_completion(timeout_seconds=120)
    assert not any("pipeline.reused_from" in k.tags for k in steps(ws, third).values())


def test_a_failed_step_fails_the_pipeline_and_the_steps_after_it_never_start(ws, project):
    text = PIPELINE.replace("python prep.py ${{inputs.raw}} ${{outputs.train}}", "python fail.py")
    run = run_pipeline(ws, project, text)
    info = run.refresh()
    assert info.status is RunStatus.FAILED
    assert "prep (exit code 1: bad data: no rows)" in info.error and "not run: train" in info.error
    assert set(steps(ws, run)) == {"prep"}
    assert not ws.artifacts.list(run_key(run.id, "outputs"))


def test_continue_on_step_failure_runs_the_independent_steps(ws, project):
    text = """
    type: pipeline
    settings: {continue_on_step_failure: true}
    jobs:
      broken:
        code: src
        command: python fail.py
        outputs: {out: {type: uri_folder}}
      after_broken:
        code: src
        command: python prep.py ${{inputs.x}} ${{outputs.train}}
        inputs: {x: "${{parent.jobs.broken.outputs.out}}"}
        outputs: {train: {type: uri_folder}}
      fine:
        code: src
        command: python -c "print('fine')"
    """
    run = run_pipeline(ws, project, text)
    kids = steps(ws, run)
    assert kids["fine"].status is RunStatus.COMPLETED and kids["broken"].status is RunStatus.FAILED
    assert "after_broken" not in kids
    assert run.refresh().status is RunStatus.FAILED


def test_catalogue_components_and_command_steps_read_each_others_outputs(ws, project):
    text = """
    type: pipeline
    inputs:
      raw: {type: uri_file, path: ./data.csv}
    jobs:
      load:
        component: azureml:import-data
        inputs: {path: "${{parent.inputs.raw}}"}
      split:
        component: split-data
        inputs: {dataset: "${{parent.jobs.load.outputs.dataset}}", fraction: 0.5, seed: 3}
      count:
        code: src
        command: python ls.py ${{inputs.t}}
        inputs: {t: "${{parent.jobs.split.outputs.results1}}"}
    """
    run = run_pipeline(ws, project, text)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    kids = steps(ws, run)
    assert kids["split"].tags["component.source.dataset"] == f"runs:{kids['load'].id}/dataset"
    assert "['data.parquet']" in ty.Run(ws, kids["count"].id).log_text()[0]


def test_cancel_stops_the_running_step(ws, project):
    job = load_pipeline(project / "pipeline.yml", {"inputs.sleep": "60"})
    run = ty.Run(ws, submit_pipeline(ws, job).id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = steps(ws, run)
        if "train" in kids and kids["train"].status is RunStatus.RUNNING:
            break
        time.sleep(0.1)
    run.cancel()
    run.wait_for_completion(raise_on_error=False, timeout_seconds=60)
    assert run.refresh().status is RunStatus.CANCELED
    assert steps(ws, run)["train"].status is RunStatus.CANCELED


def test_a_killed_driver_comes_back_and_never_runs_a_finished_step_again(ws, project):
    job = load_pipeline(project / "pipeline.yml", {"inputs.sleep": "2"})
    run = ty.Run(ws, submit_pipeline(ws, job).id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "train" not in steps(ws, run):
        time.sleep(0.05)
    worker = run.refresh().worker
    os.kill(int(worker.rsplit(":", 2)[1]), signal.SIGKILL)
    details = run.wait_for_completion(timeout_seconds=120)
    assert details["status"] == "completed" and details["attempt"] == 2
    kids = ws.store.search_runs(parent_id=run.id)
    assert sorted(k.tags["pipeline.step"] for k in kids) == ["prep", "train"]  # one run each
    assert "resumed:" in run.log_text()[0]


def test_bad_steps_and_inputs_are_one_error_before_anything_is_queued(ws, project):
    text = (
        (project / "pipeline.yml").read_text().replace("  train:\n", "  train:\n    compute: gpu-cluster\n")
    )
    (project / "bad.yml").write_text(text)
    with pytest.raises(InvalidInputError, match="step 'train'.*gpu-cluster"):
        submit_pipeline(ws, load_pipeline(project / "bad.yml"))
    record_text = PIPELINE.replace("python train.py", "python missing.py")
    (project / "bad.yml").write_text(textwrap.dedent(record_text))
    with pytest.raises(InvalidInputError, match="step 'train'.*missing.py"):
        submit_pipeline(ws, load_pipeline(project / "bad.yml"))
    assert ws.store.search_runs() == []


def test_a_sweep_step_passes_its_best_trial_outputs_on(ws, project):
    (project / "src" / "fit.py").write_text(
        textwrap.dedent(
            """
            import pathlib, sys
            from trainyard import Run
            data, out, x = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), float(sys.argv[3])
            Run.get_context().log("score", -((x - 2) ** 2))
            (out / "model.txt").write_text(f"x={x} on {len((data / 'train.csv').read_text().splitlines())}")
            """
        )
    )
    text = """
    type: pipeline
    inputs:
      raw: {type: uri_file, path: ./data.csv}
    jobs:
      prep:
        code: src
        command: python prep.py ${{inputs.raw}} ${{outputs.train}}
        inputs: {raw: "${{parent.inputs.raw}}"}
        outputs: {train: {type: uri_folder}}
      tune:
        type: sweep
        code: src
        command: python fit.py ${{inputs.data}} ${{outputs.model}} ${{search_space.x}}
        inputs: {data: "${{parent.jobs.prep.outputs.train}}"}
        outputs: {model: {type: uri_folder}}
        search_space: {x: {type: choice, values: [1, 2, 3]}}
        sampling_algorithm: grid
        objective: {primary_metric: score, goal: maximize}
        limits: {max_total_trials: 3, max_concurrent_trials: 2}
      show:
        code: src
        command: python ls.py ${{inputs.m}}
        inputs: {m: "${{parent.jobs.tune.outputs.model}}"}
    """
    ty.Data.create(ws, "raw", project / "data.csv")
    run = run_pipeline(ws, project, text, raw="azureml:raw:1")
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    kids = steps(ws, run)
    trials = ws.store.search_runs(parent_id=kids["tune"].id)
    assert len(trials) == 3 and kids["tune"].tags["sweep.best_run_id"] in {t.id for t in trials}
    for trial in trials:  # each trial read what the step before the sweep read
        reads = ws.store.list_data_lineage(run_id=trial.id)
        assert [(r.name, r.version, r.direction) for r in reads] == [("raw", 1, "read")]
    best = ws.store.get_run(kids["tune"].tags["sweep.best_run_id"])
    assert best.params["x"] == "2"
    assert ws.artifacts.get_bytes(run_key(best.id, "outputs/model/model.txt")) == b"x=2.0 on 3"
    assert "['model.txt']" in ty.Run(ws, kids["show"].id).log_text()[0]

    # the whole sweep is reused, and the step after it
    again = run_pipeline(ws, project, text, raw="azureml:raw:1")
    reused = steps(ws, again)
    assert reused["tune"].tags["pipeline.reused_from"] == best.id
    assert reused["show"].tags["pipeline.reused_from"] == kids["show"].id


COMPONENT = """
type: command
name: shout
version: 1
inputs:
  data: {type: uri_folder}
  times: {type: integer, default: 2}
  sep: {type: string, optional: true}
outputs:
  loud: {type: uri_folder}
code: ./src
command: python shout.py ${{inputs.data}} ${{outputs.loud}} ${{inputs.times}} $[[${{inputs.sep}}]]
"""
SHOUT = """
import pathlib, sys
data, out, times = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
sep = sys.argv[4] if len(sys.argv) > 4 else ""
(out / "loud.txt").write_text(sep.join([(data / "train.csv").read_text().upper()] * times))
"""


def test_command_components_run_from_their_file_and_registered(ws, project):
    from trainyard.components.command import register_command_component

    (project / "src" / "shout.py").write_text(textwrap.dedent(SHOUT))
    (project / "shout.yml").write_text(textwrap.dedent(COMPONENT))
    register_command_component(ws, project / "shout.yml")
    (project / "src" / "shout.py").write_text("raise SystemExit('the registered code must run')")
    text = """
    type: pipeline
    inputs:
      raw: {type: uri_file, path: ./data.csv}
    jobs:
      prep:
        code: src
        command: python prep.py ${{inputs.raw}} ${{outputs.train}}
        inputs: {raw: "${{parent.inputs.raw}}"}
        outputs: {train: {type: uri_folder}}
      registered:
        component: azureml:shout:1
        inputs: {data: "${{parent.jobs.prep.outputs.train}}", times: 3}
    """
    run = run_pipeline(ws, project, text)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    loud = steps(ws, run)["registered"]
    assert ws.artifacts.get_bytes(run_key(loud.id, "outputs/loud/loud.txt")) == b"X,Y\n1,2\n3,4\n" * 3


def test_a_model_from_the_last_step_names_the_data_the_first_step_read(ws, project):
    from trainyard.data.lineage import data_of_model, uses_of

    ty.Data.create(ws, "raw", project / "data.csv")
    job = load_pipeline(project / "pipeline.yml", {"inputs.raw": "azureml:raw:1"})
    for again in (False, True):  # the second time both steps are reused: the lineage is the same
        run = ty.Run(ws, submit_pipeline(ws, job).id)
        run.wait_for_completion(timeout_seconds=120)
        train = steps(ws, run)["train"]
        assert ("pipeline.reused_from" in train.tags) is again
        # from the last step, or from the pipeline run's bound output
        source = run.id if again else train.id
        model = ty.Model.register_from_run(ws, source, "m", "outputs/model")
        assert [(r.name, r.version) for r in data_of_model(ws, model._record)] == [("raw", 1)]
        for reader in (run.id, train.id):
            reads = ws.store.list_data_lineage(run_id=reader)
            assert [(r.name, r.version, r.direction) for r in reads] == [("raw", 1, "read")]
    assert {m.version for m in uses_of(ws, "raw", 1).models} == {1, 2}


def test_a_parallel_step_scores_another_steps_files_in_mini_batches(ws, project):
    (project / "src" / "split.py").write_text(
        "import pathlib, sys\n"
        "for i in range(7):\n"
        "    (pathlib.Path(sys.argv[1]) / f'f{i}.txt').write_text('x' * i)\n"
    )
    (project / "src" / "score.py").write_text(
        "import os\n\ndef init():\n    pass\n\ndef run(mini_batch):\n"
        "    return [f'{os.path.basename(p)},{os.path.getsize(p)}' for p in mini_batch]\n"
    )
    text = """
    type: pipeline
    jobs:
      split:
        code: src
        command: python split.py ${{outputs.files}}
        outputs: {files: {type: uri_folder}}
      score:
        type: parallel
        inputs: {files: "${{parent.jobs.split.outputs.files}}"}
        outputs: {scores: {type: uri_folder}}
        input_data: ${{inputs.files}}
        mini_batch_size: 3
        max_concurrency_per_instance: 2
        task:
          type: run_function
          code: ./src
          entry_script: score.py
          append_row_to: ${{outputs.scores}}
      show:
        code: src
        command: python ls.py ${{inputs.s}}
        inputs: {s: "${{parent.jobs.score.outputs.scores}}"}
    """
    run = run_pipeline(ws, project, text)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    kids = steps(ws, run)
    scored = ws.artifacts.get_bytes(run_key(kids["score"].id, "outputs/scores/parallel_run_step.txt"))
    assert scored.decode().split() == [f"f{i}.txt,{i}" for i in range(7)]
    assert kids["score"].metrics["mini_batches_completed"] == 3
    assert "['parallel_run_step.txt']" in ty.Run(ws, kids["show"].id).log_text()[0]
    bad = text.replace("input_data: ${{inputs.files}}", "input_data: ${{inputs.nope}}")
    (project / "bad.yml").write_text(textwrap.dedent(bad))
    with pytest.raises(InvalidInputError, match="step 'score': input_data names input 'nope'"):
        load_pipeline(project / "bad.yml")


def test_execute_python_script_runs_the_users_function_as_a_step_and_its_mistake_fails_the_step(ws, project):
    text = """
    type: pipeline
    inputs:
      raw: {type: uri_file, path: ./data.csv}
    jobs:
      load:
        component: import-data
        inputs: {path: "${{parent.inputs.raw}}"}
      script:
        component: azureml:execute-python-script
        inputs:
          dataframe1: "${{parent.jobs.load.outputs.dataset}}"
          script: |
            def azureml_main(dataframe1 = None, dataframe2 = None):
                print("rows in:", len(dataframe1))
                dataframe1["z"] = dataframe1["x"] + dataframe1["y"]
                return dataframe1, dataframe1.tail(1)
    """
    run = run_pipeline(ws, project, text)
    assert run.refresh().status is RunStatus.COMPLETED, run.log_text()
    kid = steps(ws, run)["script"]
    table = get_component_output(ws, kid.id, "result_dataset")
    assert table.to_dict("list") == {"x": [1, 3, 5], "y": [2, 4, 6], "z": [3, 7, 11]}
    assert len(get_component_output(ws, kid.id, "python_device")) == 1
    assert "rows in: 3" in ty.Run(ws, kid.id).log_text()[0]  # what the script prints is in the log

    broken = text.replace('dataframe1["x"] + dataframe1["y"]', "1 / 0")
    failed = run_pipeline(ws, project, broken)
    assert failed.refresh().status is RunStatus.FAILED
    kid = steps(ws, failed)["script"]
    assert "azureml_main raised ZeroDivisionError: division by zero at script line 3" in kid.error
    log = ty.Run(ws, kid.id).log_text()[0]
    assert 'File "<script>", line 3, in azureml_main' in log and "python_script.py" not in log


def get_component_output(ws, run_id: str, port: str) -> pd.DataFrame:
    return pd.read_parquet(
        io.BytesIO(ws.artifacts.get_bytes(run_key(run_id, f"outputs/{port}/data.parquet")))
    )
