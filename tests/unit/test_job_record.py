"""The typed job record: records as start_run has written them still parse, and a record that
does not parse says what is wrong with it."""

from __future__ import annotations

from typing import Any

import pytest

from trainyard.automl.record import AutoMLRecord
from trainyard.compute.job import JobKind, JobRecord, JobRecordError, recorded_job, takes_slot
from trainyard.environments import Environment
from trainyard.status import RunStatus
from trainyard.store import RunInfo
from trainyard.sweep.record import SweepRecord

# Exactly what start_run wrote before the record was typed (trainyard a7e2f90), for a command job
# with an input, a registered environment, a timeout and retries; a sweep's parent; an AutoML parent.
COMMAND = {
    "type": "command",
    "experiment_name": "exp",
    "display_name": None,
    "description": None,
    "code": "/home/me/project",
    "command": "python train.py --alpha ${{inputs.alpha}} --data ${{inputs.data}}",
    "inputs": {"alpha": 0.5, "data": {"type": "uri_file", "path": "/home/me/project/data.csv"}},
    "environment": {"name": "sk", "python": None, "requirements": ["scikit-learn"], "env_vars": {"A": "1"}},
    "compute": "local",
    "timeout": 60.0,
    "max_retries": 1,
    "tags": {"team": "a"},
    "argv": ["python", "train.py", "--alpha", "0.5", "--data", "/home/me/project/data.csv"],
}

SWEEP_PARENT = {
    "type": "sweep",
    "experiment_name": "exp",
    "display_name": None,
    "description": None,
    "code": "/home/me/project",
    "command": ["python", "-m", "trainyard.sweep.driver"],
    "inputs": {},
    "environment": {"name": "default", "python": None, "requirements": [], "env_vars": {}},
    "compute": "local",
    "timeout": None,
    "max_retries": 3,
    "tags": {},
    "argv": ["python", "-m", "trainyard.sweep.driver"],
    "uses_slot": False,
    "sweep": {
        "trial": {
            "type": "command",
            "experiment_name": "exp",
            "display_name": None,
            "description": None,
            "code": "/home/me/project",
            "command": "python train.py --lr ${{search_space.lr}}",
            "inputs": {},
            "environment": "default",
            "compute": "local",
            "timeout": None,
            "max_retries": 0,
            "tags": {},
        },
        "search_space": {"lr": {"type": "uniform", "min_value": 0.01, "max_value": 0.1}},
        "sampling": "random",
        "objective": {"primary_metric": "acc", "goal": "maximize"},
        "early_termination": {
            "type": "bandit",
            "slack_factor": 0.2,
            "evaluation_interval": 1,
            "delay_evaluation": 0,
        },
        "limits": {"max_total_trials": 4, "max_concurrent_trials": 2, "timeout": None},
        "seed": None,
        "warm_start": [],
    },
    "trial_environment": {"name": "default", "python": None, "requirements": [], "env_vars": {}},
}

AUTOML_PARENT = {
    "type": "automl",
    "experiment_name": "exp",
    "display_name": "automl_classification",
    "description": None,
    "code": ".",
    "command": ["python", "-m", "trainyard.automl.driver"],
    "inputs": {},
    "environment": {"name": "default", "python": None, "requirements": [], "env_vars": {}},
    "compute": "local",
    "timeout": None,
    "max_retries": 0,
    "tags": {},
    "argv": ["python", "-m", "trainyard.automl.driver"],
    "uses_slot": False,
    "automl": {
        "task": "classification",
        "label_column_name": "y",
        "primary_metric": None,
        "n_cross_validations": None,
        "validation_size": None,
        "experiment_timeout_minutes": 1.0,
        "iterations": 1000,
        "max_concurrent_iterations": 1,
        "experiment_exit_score": None,
        "enable_early_stopping": True,
        "early_stopping_iterations": 40,
        "allowed_models": None,
        "blocked_models": None,
        "featurization": "auto",
        "enable_ensembling": True,
        "model_explainability": True,
        "model_name": None,
        "seed": 0,
        "time_column_name": None,
        "forecast_horizon": None,
        "time_series_id_column_names": [],
        "lags": None,
        "rolling_windows": None,
        "seasonality": None,
    },
    "automl_data": {"training_data": "automl/e99c99e8/training_data.pkl"},
}


NO_RESOURCES = {
    "resources": {"instance_count": 1, "cpu": None, "gpu": None, "memory": None},
    "distribution": None,
}


def run_with(job: dict[str, Any] | None) -> RunInfo:
    return RunInfo(id="r1", experiment_id="e1", name="r", status=RunStatus.QUEUED, created_at=0.0, job=job)


def test_a_command_job_written_before_parses_with_its_types():
    job = JobRecord.of_run(run_with(COMMAND))
    assert job.type is JobKind.COMMAND and job.uses_slot is True
    assert job.argv == ["python", "train.py", "--alpha", "0.5", "--data", "/home/me/project/data.csv"]
    assert job.environment == Environment(name="sk", requirements=["scikit-learn"], env_vars={"A": "1"})
    assert (job.timeout, job.max_retries, job.tags) == (60.0, 1, {"team": "a"})
    assert job.inputs["data"] == {"type": "uri_file", "path": "/home/me/project/data.csv"}
    # a record written before outputs, resources and distribution existed reads with none
    before = {**COMMAND, "uses_slot": True, "outputs": {}, **NO_RESOURCES}
    assert {**job.to_json(), "uses_slot": True} == before


def test_a_sweep_parent_written_before_parses_with_its_spec():
    record = SweepRecord.of_run(run_with(SWEEP_PARENT))
    assert record.type is JobKind.SWEEP and record.uses_slot is False and record.max_retries == 3
    assert record.sweep.objective.primary_metric == "acc" and record.sweep.limits.max_total_trials == 4
    assert record.sweep.policy is not None and set(record.sweep.space) == {"lr"}
    assert record.trial_environment == Environment()
    trial = {**SWEEP_PARENT["sweep"]["trial"], "outputs": {}, **NO_RESOURCES}  # written before both existed
    assert record.to_json() == {
        **SWEEP_PARENT,
        "outputs": {},
        **NO_RESOURCES,
        "sweep": {**SWEEP_PARENT["sweep"], "trial": trial},
    }
    common = JobRecord.of_run(run_with(SWEEP_PARENT))  # what compute reads: the common part
    assert common.type is JobKind.SWEEP and common.uses_slot is False and not hasattr(common, "sweep")


def test_an_automl_parent_written_before_parses_with_its_settings():
    record = AutoMLRecord.of_run(run_with(AUTOML_PARENT))
    assert record.type is JobKind.AUTOML and record.uses_slot is False
    assert record.automl.task == "classification" and record.automl.metric == "accuracy"
    assert record.automl_data.training_data == "automl/e99c99e8/training_data.pkl"
    assert record.automl_data.validation_data is None
    assert JobRecord.of_run(run_with(AUTOML_PARENT)).argv == ["python", "-m", "trainyard.automl.driver"]


def test_a_run_without_a_job_has_no_record():
    assert recorded_job(run_with(None)) is None and takes_slot(run_with(None))
    with pytest.raises(JobRecordError, match="run r1 has no job record: it was not submitted as a job"):
        JobRecord.of_run(run_with(None))


def test_a_record_of_another_kind_is_refused_by_name():
    with pytest.raises(JobRecordError, match="run r1 is a command job, not a sweep job"):
        SweepRecord.of_run(run_with(COMMAND))
    with pytest.raises(JobRecordError, match="run r1 is a sweep job, not a automl job"):
        AutoMLRecord.of_run(run_with(SWEEP_PARENT))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"argv": []}, "argv: List should have at least 1 item"),
        ({"argv": None}, "argv: Input should be a valid list"),
        ({"max_retries": "often"}, "max_retries: Input should be a valid integer"),
        (
            {"environment": {"requirements": ["not a requirement!"]}},
            "'not a requirement!' is not a valid requirement",
        ),
        ({"type": "notebook"}, "type: Input should be 'command', 'sweep', 'automl' or 'pipeline'"),
    ],
)
def test_a_malformed_record_says_what_is_wrong(change, problem):
    with pytest.raises(JobRecordError, match="run r1 has a malformed job record") as caught:
        JobRecord.of_run(run_with({**COMMAND, **change}))
    assert problem in str(caught.value)
    assert takes_slot(run_with({**COMMAND, **change}))  # its worker fails it, saying the same


def test_a_malformed_sweep_part_names_its_field():
    broken = {**SWEEP_PARENT, "sweep": {**SWEEP_PARENT["sweep"], "objective": {}}}
    with pytest.raises(JobRecordError, match=r"sweep\.objective\.primary_metric: Field required"):
        SweepRecord.of_run(run_with(broken))
    missing = {k: v for k, v in SWEEP_PARENT.items() if k != "trial_environment"}
    with pytest.raises(JobRecordError, match="trial_environment: Field required"):
        SweepRecord.of_run(run_with(missing))
