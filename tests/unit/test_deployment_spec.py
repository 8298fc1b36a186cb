"""Deployment YAML: Azure's online deployment keys, paths relative to the file, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.serving.deployment_spec import load_deployment


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "score").mkdir(exist_ok=True)
    (tmp_path / "score" / "score.py").write_text("def run(raw_data):\n    return raw_data\n")
    (tmp_path / "requirements.txt").write_text("six==1.16.0  # pinned\n")
    path = tmp_path / "deployment.yml"
    path.write_text(text)
    return path


def test_azure_keys_are_read_and_paths_are_relative_to_the_file(tmp_path):
    spec = load_deployment(
        write(
            tmp_path,
            "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
            "name: blue\nendpoint_name: ep\nmodel: azureml:iris:2\nworkers: 2\n"
            "code_configuration: {code: score, scoring_script: score.py}\n"
            "environment: {name: six, requirements_file: requirements.txt, env_vars: {A: 1}}\n"
            "request_settings: {request_timeout_ms: 2500}\n",
        )
    )
    assert (spec.name, spec.endpoint_name, spec.model, spec.workers) == ("blue", "ep", "iris:2", 2)
    assert spec.entry_script == (tmp_path / "score" / "score.py").resolve()
    assert spec.environment == Environment(name="six", requirements=["six==1.16.0"], env_vars={"A": "1"})
    assert spec.request_timeout == 2.5


def test_a_registered_environment_is_named(tmp_path):
    spec = load_deployment(write(tmp_path, "model: iris@production\nenvironment: azureml:six:3\n"))
    assert spec.environment == "azureml:six:3" and spec.entry_script is None and spec.workers is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("instance_type: Standard_DS3_v2\n", "instance_type: Extra inputs are not permitted"),
        ("code_configuration: {scoring_script: nope.py}\n", "the scoring script .*nope.py does not exist"),
        ("workers: 0\n", "workers: Input should be greater than or equal to 1"),
        ("environment: {python: 3.11}\n", 'write the version in quotes, e.g. python: "3.10"'),
        ("- a list\n", "must hold a mapping"),
    ],
)
def test_mistakes_name_what_to_fix(tmp_path, text, message):
    with pytest.raises(InvalidInputError, match=message):
        load_deployment(write(tmp_path, text))


def test_the_command_line_says_what_neither_it_nor_the_file_gave(tmp_path):
    from typer.testing import CliRunner

    from trainyard.cli.main import app

    path = write(tmp_path, "name: blue\nmodel: iris:1\n")
    result = CliRunner().invoke(app, ["deployment", "create", "-f", str(path)])
    assert isinstance(result.exception, InvalidInputError)
    assert "give the deployment's --endpoint (or write it in the --file YAML)" in str(result.exception)


def test_many_models_names_a_group_instead_of_a_model(tmp_path):
    spec = load_deployment(
        write(
            tmp_path,
            "name: stores\nendpoint_name: sales\n"
            "many_models: {model_name: sales-many, max_models_in_memory: 4}\n",
        )
    )
    assert spec.model is None and spec.many_models is not None
    assert (spec.many_models.model_name, spec.many_models.max_models_in_memory) == ("sales-many", 4)
    with pytest.raises(
        InvalidInputError, match="model: \\(one version\\) or many_models: \\(a group\\), not both"
    ):
        load_deployment(write(tmp_path, "model: iris:1\nmany_models: {model_name: sales-many}\n"))
    with pytest.raises(InvalidInputError, match="drop code_configuration"):
        load_deployment(
            write(
                tmp_path,
                "many_models: {model_name: sales-many}\n"
                "code_configuration: {code: score, scoring_script: score.py}\n",
            )
        )
    with pytest.raises(InvalidInputError, match="max_models_in_memory"):
        load_deployment(write(tmp_path, "many_models: {model_name: sales-many, max_models_in_memory: 0}\n"))
