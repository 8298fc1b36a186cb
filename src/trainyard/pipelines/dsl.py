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
from trainyard.jobs.spec import DATA_REF, OutputSpec, PathInput
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


@dataclass
class _Builder:
    steps: dict[str, Step] = field(default_factory=dict)

    def add(self, base: str, fields: dict[str, Any]) -> str:
        base = re.sub(r"[^\w]", "_", base)
        name, n = base, 1
        while name in self.steps:
            n += 1
            name = f"{base}_{n}"
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
        builder = _builder(f"command {self.name!r}")
        unknown = sorted(set(given) - set(self.inputs)) if self.inputs else []
        if unknown:
            raise InvalidInputError(
                f"step {self.name!r} has no input {unknown[0]!r} ({', '.join(self.inputs)})"
            )
        inputs = {k: _value(v) for k, v in given.items()}
        outputs = {k: v for k, v in self.outputs.items()}
        name = builder.add(self.name, {**self.fields, "inputs": inputs, "outputs": outputs})
        return StepCall(name, _Outputs(name, list(outputs)))


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
