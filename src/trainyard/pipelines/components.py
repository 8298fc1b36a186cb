"""Command components as pipeline steps: a step naming one becomes the command step it stands for.

A step's ``component:`` is a command component when it is a file (``./train.yml``,
``file:train.yml``) or a version registered in the workspace (``azureml:name:version``,
``azureml:name@latest``, ``name:version``, ``name``); anything else is left for the catalogue
(``train-model``), which ``graph.py`` checks. The command step made from a component has the
component's command with its optional blocks resolved by the inputs the step gives, its code
(the folder beside the file, or the snapshot a registered version was registered with, restored
once into the workspace's cache), environment, declared outputs and literal defaults, and its
typed interface as ``Step.ports`` so the graph checks the wires into it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.components.command import (
    CommandComponent,
    ComponentInput,
    load_command_component,
    registered_component,
)
from trainyard.components.params import ComponentInputError
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.jobs.snapshot import restore_snapshot
from trainyard.jobs.spec import REFERENCE, InputValue, OutputSpec, PathInput, resolve_paths
from trainyard.pipelines.graph import PARENT_INPUT
from trainyard.pipelines.spec import PipelineJob, Ports, Step, is_component_file

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

# the type of a literal path given to a component input (PathInput takes these three)
_PATH_INPUT_TYPE = {"uri_file": "uri_file", "mltable": "table"}


def expand_component_steps(job: PipelineJob, ws: Workspace | None, base: Path) -> PipelineJob:
    """``job`` with every step naming a command component replaced by its command step.

    ``base`` is the pipeline file's folder (component files are relative to it). ``ws`` finds
    registered components; without one (no workspace) only files and catalogue modules are known.
    Every mistake is one ``InvalidInputError`` naming the step (and the port).
    """
    jobs: dict[str, Step] = {}
    for name, step in job.jobs.items():
        found = _find(step.component, ws, base, f"step {name!r}") if step.component else None
        jobs[name] = step if found is None else _command_step(name, step, *found, job, base)
    return job.model_copy(update={"jobs": jobs})


def parse_component_ref(ref: str) -> tuple[str, str | None]:
    """``(name, version)`` of ``azureml:name:version``, ``name@latest``, ``name@version`` or ``name``
    (``None``: the newest)."""
    text = ref.strip().removeprefix("azureml:")
    name, sep, version = text.partition("@") if "@" in text else text.partition(":")
    return name, (version if sep and version != "latest" else None)


def _find(ref: str, ws: Workspace | None, base: Path, where: str) -> tuple[CommandComponent, str] | None:
    """The command component ``ref`` names and how to show it, or ``None`` for a catalogue module."""
    if is_component_file(ref):
        path = (base / ref.strip().removeprefix("file:")).resolve()
        try:
            return load_command_component(path), str(path)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
    if ws is None:
        return None
    name, version = parse_component_ref(ref)
    try:
        record = ws.store.get_component_version(name, version)
    except NotFoundError:
        try:
            versions = ws.store.list_component_versions(name)
        except NotFoundError:
            return None  # not registered: the catalogue's (graph.py names it if it is not there)
        known = ", ".join(v.version for v in versions)
        raise InvalidInputError(f"{where}: component {name!r} has no version {version!r} ({known})") from None
    comp = registered_component(record)
    if record.snapshot_id is not None:
        comp.code = str(restored_code(ws, record.snapshot_id))
    return comp, f"{record.name}:{record.version}"


def restored_code(ws: Workspace, snapshot_id: str) -> Path:
    """The folder holding a registered component's code snapshot, restored once into the cache
    (through a temporary folder renamed into place, so a folder there is complete)."""
    target = ws.root / "cache" / "components" / snapshot_id
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{snapshot_id[:12]}-"))
    try:
        restore_snapshot(snapshot_id, ws.artifacts, partial)
        os.rename(partial, target)
    except OSError:
        if not target.is_dir():  # not another process restoring it first
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _command_step(
    name: str, step: Step, comp: CommandComponent, shown: str, job: PipelineJob, base: Path
) -> Step:
    where = f"step {name!r}"
    unknown = sorted(set(step.inputs) - set(comp.inputs))
    if unknown:
        known = ", ".join(comp.inputs) or "none"
        raise InvalidInputError(f"{where}: component {comp.ref} has no input {unknown[0]!r} ({known})")
    inputs: dict[str, InputValue] = {}
    for port, spec in comp.inputs.items():
        if port in step.inputs:
            inputs[port] = _checked(step.inputs[port], spec, (where, port), job, base)
        elif spec.default is not None:
            inputs[port] = spec.default
        elif spec.required:
            raise InvalidInputError(f"{where}: required input {port!r} ({spec.type}) is not wired")
    unknown = sorted(set(step.outputs) - set(comp.outputs))
    if unknown:
        known = ", ".join(comp.outputs) or "none"
        raise InvalidInputError(f"{where}: component {comp.ref} has no output {unknown[0]!r} ({known})")
    outputs: dict[str, OutputSpec | str | None] = {}
    for out, declared in comp.outputs.items():
        given = step.outputs.get(out)
        if isinstance(given, OutputSpec) and given.type != declared.type:
            raise InvalidInputError(
                f"{where} output {out!r}: the component declares a {declared.type}, not a {given.type}"
            )
        outputs[out] = given if given is not None else OutputSpec(type=declared.type)
    explicit = step.model_fields_set
    update: dict[str, Any] = {
        "component": None,
        "command": comp.resolve_command(set(inputs)),
        "code": comp.code,
        "environment": step.environment if "environment" in explicit else comp.environment,
        "inputs": inputs,
        "outputs": outputs,
        "display_name": step.display_name or comp.display_name,
        "description": step.description or comp.description or None,
        "is_deterministic": step.is_deterministic and comp.is_deterministic,
        "tags": {**comp.tags, **step.tags},
        "ports": Ports(
            component=shown,
            inputs={port: spec.kind for port, spec in comp.inputs.items()},
            outputs={out: declared.kind for out, declared in comp.outputs.items()},
        ),
    }
    return step.model_copy(update=update)


def _checked(
    value: InputValue, spec: ComponentInput, at: tuple[str, str], job: PipelineJob, base: Path
) -> InputValue:
    """A step's value for a component input (``at``: the step and the port): a wire (a pipeline
    literal into a scalar is checked here; kinds are the graph's to check), a scalar within the
    input's type and bounds, or a path (relative to ``base``, which must exist)."""
    step, port = at
    where = f"{step} input {port!r}"
    ref = REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    if ref is not None:
        parent = PARENT_INPUT.match(ref.group(1))
        literal = job.inputs.get(parent.group(1)) if parent else None
        if spec.is_scalar and literal is not None and not isinstance(literal, PathInput):
            _scalar(literal, spec, where)
        return value
    if spec.is_scalar:
        if isinstance(value, PathInput):
            raise InvalidInputError(f"{where} takes a {spec.type} value, not a path")
        return _scalar(value, spec, where)
    if isinstance(value, bool | int | float):
        raise InvalidInputError(f"{where} takes a {spec.type} (a path or a wire), not {value!r}")
    if isinstance(value, PathInput):
        path = value
    else:
        path = PathInput(type=_PATH_INPUT_TYPE.get(spec.type, "uri_folder"), path=value)
    resolve_paths({port: path}, base, f"{step} input")
    return path


def _scalar(value: InputValue, spec: ComponentInput, where: str) -> InputValue:
    try:
        checked: InputValue = spec.param("value").validate(value)
    except ComponentInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    return checked


__all__ = ["expand_component_steps", "is_component_file", "parse_component_ref", "restored_code"]
