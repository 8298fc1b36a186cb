"""Pipelines in Python, as Azure ML's ``dsl.pipeline``: a function that calls steps.

::

    prep = ty.command(code="src", command="python prep.py ${{inputs.raw}} ${{outputs.train}}",
                      inputs={"raw": ty.Input(type="uri_file")}, outputs={"train": ty.Output()})
    train = ty.load_component("train-model")

    @ty.pipeline(experiment_name="retrain")
    def retrain(raw, label="y"):
        p = prep(raw=raw)
        t = train(untrained_model=..., dataset=p.outputs.train, label_column=label)
        return {"model": t.outputs.trained_model}

    run = ty.Experiment(ws, "retrain").submit(retrain(raw=ty.Input(type="uri_file", path="d.csv")))

Calling the decorated function builds a :class:`PipelineJob`, the same one the YAML reads into:
each step call adds a step (named after its component or command, ``train``, ``train_2``…) and
its arguments become the ``${{parent.…}}`` references the YAML would hold, so the DAG is
checked by the same code before anything runs.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainyard.errors import InvalidInputError
from trainyard.jobs.spec import DATA_REF, REFERENCE, OutputSpec, PathInput
from trainyard.pipelines.automl_step import OUTPUT, automl_step_fields
from trainyard.pipelines.spec import PipelineJob, Settings, Step, given_path

_building = threading.local()


@dataclass(frozen=True)
class Declared:
    """A step's declared input: its type, given its value when the step is called."""

    type: str


def Input(type: str = "uri_folder", path: str | None = None, mode: str | None = None) -> PathInput | Declared:  # noqa: N802
    """A file or folder (``path`` relative to the working folder, or a data asset such as
    ``azureml:churn:3``); without a path, a step's declared input."""
    if path is None:
        return Declared(type)
    return PathInput(type=type, path=given_path(path), mode=mode)


def Output(type: str = "uri_folder", name: str | None = None, version: str | None = None) -> OutputSpec:  # noqa: N802
    """A step's (or the pipeline's) output folder; ``name`` registers it as a data asset."""
    return OutputSpec(type=type, name=name, version=version)


@dataclass(frozen=True)
class Ref:
    """A value known when the pipeline runs: a pipeline input or a step's output."""

    text: str

    def __str__(self) -> str:
        return f"${{{{{self.text}}}}}"


class _Outputs:
    def __init__(self, step: str, names: list[str] | None) -> None:
        self._step, self._names = step, names

    def __getattr__(self, name: str) -> Ref:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._names is not None and name not in self._names:
            raise InvalidInputError(f"step {self._step!r} has no output {name!r} ({', '.join(self._names)})")
        return Ref(f"parent.jobs.{self._step}.outputs.{name}")


@dataclass
class StepCall:
    """What a step call returns: its name and ``.outputs.NAME`` references."""

    name: str
    outputs: _Outputs

    def sweep(
        self,
        primary_metric: str,
        goal: str = "maximize",
        sampling_algorithm: str = "random",
        max_total_trials: int | None = None,
        max_concurrent_trials: int | None = None,
        timeout: float | None = None,
        early_termination_policy: Any = None,
        seed: int | None = None,
    ) -> StepCall:
        """This command step as a sweep over the inputs it was given as search-space expressions
        (``alpha=ty.loguniform(1e-3, 1)``), as Azure's ``command(...)(...).sweep(...)``; the steps
        after it read its best trial's outputs. ``timeout`` is in seconds."""
        builder = _builder(f"step {self.name!r}.sweep()")
        step = builder.steps.get(self.name)
        if step is None or step.type != "sweep":
            raise InvalidInputError(
                f"step {self.name!r} has nothing to sweep: give an input a search-space expression, "
                "such as alpha=ty.choice(0.1, 1.0), when you call it"
            )
        limits: dict[str, float | None] = {
            "max_total_trials": max_total_trials,
            "max_concurrent_trials": max_concurrent_trials,
            "timeout": timeout,
        }
        policy = None
        if early_termination_policy is not None:
            from trainyard.sweep.policy import parse_policy, policy_to_dict  # Optuna: for sweeps only

            policy = policy_to_dict(parse_policy(early_termination_policy))  # type: ignore[arg-type]
        builder.steps[self.name] = step.model_copy(
            update={
                "objective": {"primary_metric": primary_metric, "goal": goal},
                "sampling_algorithm": sampling_algorithm,
                "limits": {k: v for k, v in limits.items() if v is not None},
                "early_termination": policy,
                "seed": seed,
            }
        )
        return self


@dataclass
class AutoMLStepCall(StepCall):
    """An AutoML step in a pipeline function (``ty.automl.classification(...)``, as Azure's
    ``automl.classification``), set up further with Azure's ``set_*`` methods; its output is
    ``.outputs.best_model``."""

    keys: dict[str, Any] = field(default_factory=dict)  # the step's Azure keys, as the YAML would hold

    def _set(self, section: str, values: dict[str, Any]) -> None:
        self.keys[section] = {**self.keys.get(section, {}), **values}
        builder = _builder(f"step {self.name!r}.set_{section}()")
        builder.steps[self.name] = Step.model_validate(automl_step_fields(self.name, self.keys))

    def set_limits(self, **limits: Any) -> None:
        """``timeout_minutes``, ``max_trials``, ``max_concurrent_trials``, ``enable_early_termination``,
        ``exit_score``."""
        self._set("limits", limits)

    def set_training(self, **training: Any) -> None:
        """``allowed_training_algorithms``, ``blocked_training_algorithms``, ``enable_vote_ensemble``,
        ``enable_stack_ensemble``, ``enable_model_explainability``."""
        self._set("training", training)

    def set_featurization(self, **featurization: Any) -> None:
        """``mode``: ``auto`` or ``off``."""
        self._set("featurization", featurization)

    def set_forecast_settings(self, **forecasting: Any) -> None:
        """``time_column_name``, ``forecast_horizon``, ``time_series_id_column_names``, ``target_lags``,
        ``target_rolling_window_size``, ``seasonality``."""
        self._set("forecasting", forecasting)


def automl_step(task: str, name: str | None = None, **keys: Any) -> AutoMLStepCall:
    """An AutoML step of ``task``; ``keys`` are the YAML's (``training_data``, ``target_column_name``,
    ``primary_metric``, ``outputs``…), each checked as the YAML's are."""
    builder = _builder(f"automl {task}")
    step = builder.unique(name or task)
    raw = {"type": "automl", "task": task, **{k: _value(v) for k, v in keys.items()}}
    builder.steps[step] = Step.model_validate(automl_step_fields(step, raw))
    return AutoMLStepCall(step, _Outputs(step, [OUTPUT]), raw)


@dataclass
class _Builder:
    steps: dict[str, Step] = field(default_factory=dict)

    def unique(self, base: str) -> str:
        """A step name from ``base`` that no step has yet: ``train``, ``train_2``…"""
        base = re.sub(r"[^\w]", "_", base)
        name, n = base, 1
        while name in self.steps:
            n += 1
            name = f"{base}_{n}"
        return name

    def add(self, base: str, fields: dict[str, Any]) -> str:
        name = self.unique(base)
        self.steps[name] = Step.model_validate(fields)
        return name


def _builder(what: str) -> _Builder:
    builder = getattr(_building, "current", None)
    if builder is None:
        raise InvalidInputError(f"{what} is a pipeline step: call it inside a @ty.pipeline function")
    return builder


def _value(value: Any) -> Any:
    return str(value) if isinstance(value, Ref) else value


class CommandStep:
    """A command step to call inside a pipeline function (Azure's ``command(...)``)."""

    def __init__(
        self,
        command: str,
        code: str = ".",
        inputs: dict[str, PathInput | Declared | Any] | None = None,
        outputs: dict[str, OutputSpec] | None = None,
        environment: Any = "default",
        compute: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> None:
        self.name = name or Path(command.split()[1] if len(command.split()) > 1 else command).stem
        self.fields = {
            "command": command,
            "code": str(Path(code).resolve()),
            "environment": environment,
            "compute": compute,
            **options,
        }
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})

    def __call__(self, **given: Any) -> StepCall:
        """The step, with its inputs given; an input given a search-space expression makes it a
        sweep (finish it with ``.sweep(...)``), its command reading ``${{search_space.x}}``."""
        builder = _builder(f"command {self.name!r}")
        unknown = sorted(set(given) - set(self.inputs)) if self.inputs else []
        if unknown:
            raise InvalidInputError(
                f"step {self.name!r} has no input {unknown[0]!r} ({', '.join(self.inputs)})"
            )
        space = {k: v.to_dict() for k, v in given.items() if _is_parameter(v)}
        inputs = {k: _value(v) for k, v in given.items() if k not in space}
        outputs = {k: v for k, v in self.outputs.items()}
        fields = {**self.fields, "inputs": inputs, "outputs": outputs}
        if space:
            fields.update(type="sweep", search_space=space, command=_swept(str(fields["command"]), space))
        name = builder.add(self.name, fields)
        return StepCall(name, _Outputs(name, list(outputs)))


def _is_parameter(value: Any) -> bool:
    """A search-space expression (``ty.choice(...)``, ``ty.uniform(...)``…)."""
    if value is None or isinstance(value, str | int | float | bool | PathInput | Ref | Declared):
        return False
    from trainyard.sweep.space import Parameter  # Optuna: imported for sweeps only

    return isinstance(value, Parameter)


def _swept(command: str, space: dict[str, Any]) -> str:
    """``command`` with ``${{inputs.x}}`` as ``${{search_space.x}}`` for each swept ``x``."""

    def swap(match: re.Match[str]) -> str:
        kind, _, name = match.group(1).partition(".")
        return f"${{{{search_space.{name}}}}}" if kind == "inputs" and name in space else match.group(0)

    return REFERENCE.sub(swap, command)


class ComponentStep:
    """A catalogue component to call inside a pipeline function (``ty.load_component(name)``)."""

    def __init__(self, name: str) -> None:
        from trainyard.components.base import get_component

        self.component = get_component(name)

    def __call__(self, compute: str | None = None, **given: Any) -> StepCall:
        comp = self.component
        builder = _builder(f"component {comp.name!r}")
        fields = {"component": f"{comp.name}@{comp.version}", "compute": compute}
        name = builder.add(comp.name, {**fields, "inputs": {k: _value(v) for k, v in given.items()}})
        return StepCall(name, _Outputs(name, [p.name for p in comp.outputs]))


def load_component(name: str) -> ComponentStep:
    """A catalogue component (``train-model``, ``azureml:split-data``) as a pipeline step."""
    return ComponentStep(name.removeprefix("azureml:"))


def command(command: str, **fields: Any) -> CommandStep:
    return CommandStep(command, **fields)


def pipeline(
    experiment_name: str | None = None,
    display_name: str | None = None,
    default_compute: str = "local",
    continue_on_step_failure: bool = False,
    force_rerun: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., PipelineJob]]:
    """Make a function that calls steps into one that returns the :class:`PipelineJob` they form."""
    settings = Settings(
        default_compute=default_compute,
        continue_on_step_failure=continue_on_step_failure,
        force_rerun=force_rerun,
    )

    def decorate(fn: Callable[..., Any]) -> Callable[..., PipelineJob]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def build(*args: Any, **kwargs: Any) -> PipelineJob:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise InvalidInputError(f"pipeline {fn.__name__}: {exc}") from None
            bound.apply_defaults()
            inputs = {
                name: PathInput(path=value) if isinstance(value, str) and DATA_REF.match(value) else value
                for name, value in bound.arguments.items()
                if value is not None
            }
            refs = {
                name: Ref(f"parent.inputs.{name}") if name in inputs else None for name in bound.arguments
            }
            builder = _Builder()
            _building.current = builder
            try:
                returned = fn(**refs)
            finally:
                _building.current = None
            outputs, bound_steps = _outputs(returned, builder)
            return PipelineJob.model_validate(
                {
                    "type": "pipeline",
                    "experiment_name": experiment_name or fn.__name__,
                    "display_name": display_name or fn.__name__,
                    "description": inspect.getdoc(fn),
                    "inputs": inputs,
                    "outputs": outputs,
                    "settings": settings,
                    "jobs": {k: bound_steps.get(k, step) for k, step in builder.steps.items()},
                }
            )

        return build

    return decorate


def _outputs(returned: Any, builder: _Builder) -> tuple[dict[str, OutputSpec], dict[str, Step]]:
    """The pipeline's outputs from what the function returned: ``{name: step.outputs.x}``."""
    if returned is None:
        return {}, {}
    if not isinstance(returned, dict) or not all(
        isinstance(v, Ref) and v.text.startswith("parent.jobs.") for v in returned.values()
    ):
        raise InvalidInputError("a pipeline function returns None or {output name: step.outputs.NAME}")
    outputs: dict[str, OutputSpec] = {}
    steps: dict[str, Step] = {}
    for out, ref in returned.items():
        _, _, step_name, _, port = ref.text.split(".")
        step = steps.get(step_name) or builder.steps[step_name].model_copy(deep=True)
        declared = step.outputs.get(port)
        outputs[out] = declared if isinstance(declared, OutputSpec) else OutputSpec()
        step.outputs[port] = f"${{{{parent.outputs.{out}}}}}"
        steps[step_name] = step
    return outputs, steps
