"""Deployment YAML in the shape of Azure ML's v2 online deployment (the keys trainyard uses)::

    name: blue
    endpoint_name: diabetes
    model: diabetes:3                 # or diabetes@production; azureml: before it is allowed
    code_configuration:
      code: ./score                   # relative to this file
      scoring_script: score.py
    environment: sklearn:2            # a registered NAME[:VERSION], or a spec written here
    workers: 2
    request_settings:
      request_timeout_ms: 60000

or, instead of ``model:``, a many-models group (every partition's model, routed by row)::

    many_models:
      model_name: sales-many          # the group's registered name
      max_models_in_memory: 16        # per scoring worker, least recently used evicted first

Every key is optional here; what is missing comes from the command line.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import problems
from trainyard.numbers import Count
from trainyard.yamlfile import read_yaml_mapping


class CodeConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = "."
    scoring_script: str


class RequestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_timeout_ms: Count = Field(gt=0)


class ManyModelsServing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_name: str = Field(min_length=1)
    max_models_in_memory: Count | None = Field(default=None, ge=1)


class DeploymentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    endpoint_name: str | None = None
    model: str | None = None
    many_models: ManyModelsServing | None = None
    code_configuration: CodeConfiguration | None = None
    environment: Environment | str | None = None
    workers: Count | None = Field(default=None, ge=1)
    request_settings: RequestSettings | None = None

    @property
    def entry_script(self) -> Path | None:
        code = self.code_configuration
        return None if code is None else Path(code.code) / code.scoring_script

    @property
    def request_timeout(self) -> float | None:
        settings = self.request_settings
        return None if settings is None else settings.request_timeout_ms / 1000


def load_deployment(path: str | Path) -> DeploymentSpec:
    """Read a deployment YAML; the code folder is relative to the file, and must hold the script."""
    path = Path(path)
    raw = read_yaml_mapping(path, "deployment")
    if isinstance(raw.get("environment"), dict):
        raw["environment"] = Environment.from_mapping(raw["environment"], path)
    try:
        spec = DeploymentSpec.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"{path} is not a valid deployment: {problems(exc, 'deployment')}") from None
    if spec.model is not None and spec.many_models is not None:
        raise InvalidInputError(f"{path}: give model: (one version) or many_models: (a group), not both")
    if spec.many_models is not None and spec.code_configuration is not None:
        raise InvalidInputError(
            f"{path}: a many_models: deployment routes to its partitions' models; drop code_configuration:"
        )
    if spec.model is not None:
        spec.model = spec.model.removeprefix("azureml:")
    code = spec.code_configuration
    if code is not None:
        code.code = str((path.parent / code.code).resolve())
        if not Path(code.code, code.scoring_script).is_file():
            raise InvalidInputError(f"{path}: the scoring script {spec.entry_script} does not exist")
    return spec
