"""The many-models spec: Azure's flat keys, one-line errors, partition keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.errors import InvalidInputError
from trainyard.manymodels.keys import key_text, parse_key
from trainyard.manymodels.spec import load_spec, make_many_settings


def test_flat_automl_settings_are_gathered_and_checked_by_automl(tmp_path: Path):
    spec = tmp_path / "many.yml"
    spec.write_text(
        "experiment_name: sales\ntraining_data: data/sales.csv\npartition_column_names: [store]\n"
        "label_column_name: y\ntask: regression\niterations: 2\nallowed_models: [ElasticNet]\n"
        "primary_metric: r2_score\nexperiment_timeout_minutes: 1\n"
    )
    settings, data = load_spec(spec)
    assert data == str((tmp_path / "data" / "sales.csv").resolve())
    assert settings.automl_settings == {"iterations": 2, "allowed_models": ["ElasticNet"]}
    automl = settings.automl({"partition.store": "3"})
    assert (automl.iterations, automl.metric, automl.model_name) == (2, "r2_score", "sales-many")
    assert automl.model_tags == {"partition.store": "3"} and automl.experiment_timeout_minutes == 1
    assert settings.metric_name == "r2_score"
    spec.write_text(spec.read_text().replace("data/sales.csv", "data:sales@latest"))
    assert load_spec(spec)[1] == "data:sales@latest"  # a data asset is left for submit to resolve


def test_a_ray_task_runs_one_trial_per_cpu_at_most():
    def concurrency(cpus: int, **fields: object) -> int:
        settings = make_many_settings(
            partition_column_names=["store"], task="regression", label_column_name="y", **fields
        )
        return settings.automl({}, cpus).max_concurrent_iterations

    assert concurrency(2) == 2  # all of the task's CPUs by default
    assert concurrency(2, max_concurrent_iterations=8) == 2
    assert concurrency(4, max_concurrent_iterations=3) == 3


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"task": "regression"}, "task: needs label_column_name:"),
        ({}, "give either task:"),
        ({"task": "regression", "label_column_name": "y", "command": "python t.py"}, "not both"),
        ({"command": "python t.py", "iterations": 3}, "iterations need task:"),
        ({"task": "regression", "label_column_name": "y", "allowed_models": ["Nope"]}, "Nope"),
        ({"command": "python t.py", "max_concurrent_partitions": 0}, "max_concurrent_partitions"),
        ({"command": "python t.py", "colour": "red"}, "colour"),
    ],
)
def test_spec_mistakes_are_one_line(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        make_many_settings(partition_column_names=["store"], **fields)


def test_the_script_job_must_read_the_partition_rows():
    settings = make_many_settings(
        partition_column_names=["store"], command="python t.py --x ${{inputs.other}}"
    )
    with pytest.raises(InvalidInputError, match=r"\$\{\{inputs.data\}\}"):
        settings.script_job("snapshot://" + "0" * 64 + "/data.csv")


def test_partition_keys_name_every_column():
    assert key_text({"store": "3", "brand": "a"}) == "store=3,brand=a"
    assert parse_key("brand=a, store=3", ["store", "brand"]) == {"store": "3", "brand": "a"}
    with pytest.raises(InvalidInputError, match="lacks brand"):
        parse_key("store=3", ["store", "brand"])
    with pytest.raises(InvalidInputError, match="store=VALUE,brand=VALUE"):
        parse_key("3", ["store", "brand"])
