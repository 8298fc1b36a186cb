"""The sweep spec: a trial command job plus search space, sampling, objective, policy and limits.

It is what ``SweepConfig`` and ``trainyard sweep submit -f sweep.yml`` produce, is validated in
full before anything is queued, and is stored on the sweep's parent run, where the driver (and
a restarted driver) reads it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import CommandJob, load_job_dict
from trainyard.numbers import Count, Duration
from trainyard.sweep.policy import Policy, parse_policy, policy_to_dict
from trainyard.sweep.space import Parameter, grid_size, parse_space
from trainyard.yamlfile import read_yaml_mapping

SAMPLINGS = ("random", "bayesian", "grid", "sobol")


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_metric: str = Field(min_length=1, max_length=250)
    goal: Literal["maximize", "minimize"] = "maximize"


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_total_trials: Count = Field(default=20, ge=1, le=100_000)
    max_concurrent_trials: Count = Field(default=1, ge=1, le=1000)
    timeout: Duration | None = Field(default=None, description="seconds for the whole sweep")


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trial: CommandJob
    search_space: dict[str, dict[str, Any]]
    sampling: Literal["random", "bayesian", "grid", "sobol"] = "random"
    objective: Objective
    early_termination: dict[str, Any] | None = None
    limits: Limits = Field(default_factory=Limits)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1, description="None: drawn at submission")
    warm_start: list[str] = Field(default_factory=list)

    @property
    def space(self) -> dict[str, Parameter]:
        return parse_space(self.search_space)

    @property
    def policy(self) -> Policy | None:
        return parse_policy(self.early_termination)

    @property
    def appended_arguments(self) -> bool:
        """No ``${{search_space.x}}`` in the command: each value goes on as ``--name value``."""
        return not self.trial.references("search_space")

    def trial_argv(self, values: dict[str, Any]) -> list[str]:
        argv = self.trial.argv(values)
        if self.appended_arguments:
            for name, value in values.items():
                argv += [f"--{name}", str(value)]
        return argv

    def validate_all(self) -> None:
        """Everything that can be known wrong before a trial runs."""
        space = self.space
        self.policy  # noqa: B018 - parses and validates
        if self.sampling == "grid":
            size = grid_size(space)
            if size > 1_000_000:
                raise InvalidInputError(f"the grid has {size} points; narrow it or use random sampling")
        unknown = self.trial.references("search_space") - set(space)
        if unknown:
            raise InvalidInputError(
                f"the command uses ${{{{search_space.{sorted(unknown)[0]}}}}} but the search space has "
                f"no such parameter (it has: {', '.join(sorted(space))})"
            )
        unused = set(space) - self.trial.references("search_space")
        if not self.appended_arguments and unused:
            raise InvalidInputError(
                f"search space parameter(s) {', '.join(sorted(unused))} are not used in the command; "
                "add ${{search_space.NAME}} for each, or use none and they are passed as --NAME VALUE"
            )
        self.trial.argv({name: 0 for name in space})  # bad inputs references fail now


def build_spec(**fields: Any) -> SweepSpec:
    fields = dict(fields)
    space = fields.get("search_space")
    if isinstance(space, dict):
        fields["search_space"] = {name: p.to_dict() for name, p in parse_space(space).items()}
    policy = parse_policy(fields.get("early_termination"))
    fields["early_termination"] = policy_to_dict(policy) if policy else None
    try:
        spec = SweepSpec.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"the sweep is not valid: {problems}") from None
    spec.validate_all()
    return spec


SWEEP_KEYS = ("search_space", "sampling", "objective", "early_termination", "limits", "seed", "warm_start")


def load_sweep(path: str | Path) -> SweepSpec:
    """YAML: the job spec's keys (code, command, inputs, environment, compute…) plus the sweep's."""
    path = Path(path)
    raw = read_yaml_mapping(path, "sweep")
    raw.pop("type", None)
    sweep = {k: raw.pop(k) for k in SWEEP_KEYS if k in raw}
    if "objective" not in sweep:
        raise InvalidInputError(
            f"{path}: missing objective: {{primary_metric: NAME, goal: maximize|minimize}}"
        )
    trial = load_job_dict(raw, path, allow_search_space=True)
    return build_spec(trial=trial, **sweep)
