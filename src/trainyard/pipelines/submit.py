"""Submitting a pipeline: check it whole, snapshot every step's code, queue the parent run.

Nothing is queued until every step is checked (the DAG by ``graph.py``; each command step as a
command job: its code folder, script, compute and environment; each component's parameters).
The parent is a job whose command is the pipeline driver: it takes no local slot, and it is
retried if its worker is lost, so a killed driver comes back and carries on.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from trainyard.automl.record import DRIVER as AUTOML_DRIVER
from trainyard.compute import get_compute
from trainyard.data.assets import Data
from trainyard.data.content import local_files, of_local
from trainyard.environments import Environment
from trainyard.errors import InvalidInputError
from trainyard.jobs.data_inputs import resolve_data_inputs
from trainyard.jobs.snapshot import store_files
from trainyard.jobs.spec import CommandJob, InputValue, OutputSpec, PathInput, make_job
from trainyard.jobs.submit import PreparedJob, prepare_job, start_run
from trainyard.jobs.uploads import upload_inputs
from trainyard.pipelines.automl_step import check_known_tables
from trainyard.pipelines.components import expand_component_steps
from trainyard.pipelines.driver import finish_if_all_reused
from trainyard.pipelines.graph import Graph, Node, build_graph
from trainyard.pipelines.record import PipelineRecord, StepRecord, WireRecord
from trainyard.pipelines.spec import PipelineJob, given_path
from trainyard.store import RunInfo

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

DRIVER = ["python", "-m", "trainyard.pipelines.driver"]
DRIVER_RETRIES = 3


def _pin_inputs(ws: Workspace, inputs: dict[str, InputValue]) -> tuple[dict[str, Any], dict[str, str]]:
    """The pipeline inputs as every step will read them (data assets pinned to a version, local
    files stored on a server workspace), and each file or folder input's content hash."""
    carrier = resolve_data_inputs(ws, make_job(command="pipeline", inputs=inputs))
    hashes = {}
    for name, value in carrier.inputs.items():
        if isinstance(value, PathInput):
            hashes[name] = _content_hash(ws, value)
    if ws.is_server:  # an agent on another machine runs the steps: local data goes with them
        carrier = upload_inputs(carrier, ws.artifacts)
    return {k: _json(v) for k, v in carrier.inputs.items()}, hashes


def _json(value: InputValue) -> Any:
    return value.model_dump(mode="json") if isinstance(value, PathInput) else value


def _content_hash(ws: Workspace, value: PathInput) -> str:
    """A data asset's recorded hash, a local file's or folder's digest; a URL is its own key."""
    if value.asset is not None:
        return Data(ws, value.asset).record.content_hash
    path = Path(value.path)
    if "://" not in value.path and path.exists():
        return of_local(local_files(path)).digest
    return value.path


def _wires(node: Node) -> dict[str, WireRecord]:
    wires = {}
    for port, wire in node.wires.items():
        if wire.kind == "literal":
            wires[port] = WireRecord(kind="literal", value=_json(node.step.inputs[port]))
        else:
            wires[port] = WireRecord.model_validate({"kind": wire.kind, "step": wire.step, "name": wire.name})
    return wires


def _output_specs(node: Node, graph: Graph) -> dict[str, Any]:
    """A command step's outputs; one bound to a pipeline output takes that output's spec."""
    bound = {where: output for output, where in graph.bound_outputs.items()}
    specs: dict[str, Any] = {}
    for out, spec in node.step.outputs.items():
        if isinstance(spec, str):  # ${{parent.outputs.x}}
            spec = graph.job.outputs.get(bound[(node.name, out)])
        specs[out] = (spec or OutputSpec()).model_dump(mode="json", exclude_none=True)
    return specs


def _step_record(
    ws: Workspace, node: Node, graph: Graph, experiment_id: str, inputs: dict[str, Any], empty: str
) -> StepRecord:
    step, job = node.step, graph.job
    common: dict[str, Any] = {
        "wires": _wires(node),
        "outputs": node.outputs,
        "needs": sorted(node.needs),
        "compute": step.compute or job.settings.default_compute,
        "timeout": step.timeout,
        "max_retries": step.max_retries,
        "tags": step.tags,
        "display_name": step.display_name,
        "deterministic": step.is_deterministic,
        "force_rerun": step.force_rerun or job.settings.force_rerun,
    }
    if node.component is not None:
        comp = node.component
        names = {p.name for p in comp.params}
        wires = common["wires"]
        params = {p: w.value for p, w in wires.items() if w.kind == "literal" and p in names}
        given = {p: inputs[w.name or ""] for p, w in wires.items() if w.kind == "parent" and p in names}
        try:
            comp.validate_params(
                {**params, **{p: v["path"] if isinstance(v, dict) else v for p, v in given.items()}}
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"step {node.name!r}: {exc}") from None
        common["wires"] = {p: w for p, w in wires.items() if p not in params}
        get_compute(common["compute"], ws)  # an unknown compute target fails now
        return StepRecord(
            component=f"{comp.name}@{comp.version}",
            params=params,
            param_wires=sorted(given),
            snapshot_id=empty,
            **common,
        )
    if step.automl is not None:
        get_compute(common["compute"], ws)  # an unknown compute target fails now
        known = {  # the tables known before any step runs: a pipeline input, a literal path
            port: inputs[wire.name or ""] if wire.kind == "parent" else _json(step.inputs[port])
            for port, wire in node.wires.items()
            if wire.kind != "step"
        }
        check_known_tables(ws, node.name, step.automl, known)
        return StepRecord(automl=step.automl, command=AUTOML_DRIVER, snapshot_id=empty, **common)
    placeholders = {port: f"<{port}>" for port in node.wires}
    outputs = _output_specs(node, graph)
    check = make_job(
        experiment_name=job.experiment_name,
        code=step.code,
        command=step.command,
        inputs=placeholders,
        outputs=outputs,
        environment=step.environment,
        compute=common["compute"],
    )
    sweep = step.sweep_fields()
    try:
        space = None if sweep is None else {n: 0 for n in _sweep_space(check, sweep)}
        prepared = prepare_job(ws, check, experiment_id, search_space=space)
    except InvalidInputError as exc:
        raise InvalidInputError(f"step {node.name!r}: {exc}") from None
    return StepRecord(
        sweep=sweep,
        command=step.command,
        output_specs=outputs,
        snapshot_id=prepared.snapshot_id,
        environment=prepared.environment,
        **common,
    )


def _sweep_space(trial: CommandJob, sweep: dict[str, Any]) -> list[str]:
    """A sweep step's parameter names, its spec checked whole (Optuna imported only for sweeps)."""
    from trainyard.sweep.spec import build_spec

    return list(build_spec(trial=trial, **sweep).space)


def prepare_pipeline(ws: Workspace, job: PipelineJob) -> PipelineRecord:
    """Check the whole pipeline and snapshot what its steps run; nothing is queued yet."""
    graph: Graph = build_graph(expand_component_steps(job, ws, Path.cwd()))
    inputs, hashes = _pin_inputs(ws, job.inputs)
    experiment_id = ws.store.get_or_create_experiment(job.experiment_name).id
    empty = store_files({}, ws.artifacts).id
    steps = {
        name: _step_record(ws, node, graph, experiment_id, inputs, empty)
        for name, node in graph.nodes.items()
    }
    return PipelineRecord(
        experiment_name=job.experiment_name,
        display_name=job.display_name,
        description=job.description,
        command=DRIVER,
        argv=DRIVER,
        inputs=inputs,
        compute=job.settings.default_compute,
        max_retries=DRIVER_RETRIES,
        tags=job.tags,
        environment=Environment(),
        settings=job.settings,
        input_hashes=hashes,
        steps=steps,
        layers=graph.layers,
        bound_outputs=graph.bound_outputs,
    )


def with_inputs(ws: Workspace, record: PipelineRecord, given: dict[str, str]) -> PipelineRecord:
    """``record`` with pipeline inputs set by name (``--set inputs.x=v``, a REST trigger's values):
    a file or folder input takes the path or data asset given, a value input the YAML value."""
    inputs: dict[str, InputValue] = {}
    for name, text in given.items():
        if name not in record.inputs:
            known = ", ".join(sorted(record.inputs)) or "none"
            raise InvalidInputError(f"the pipeline has no input {name!r} (inputs: {known})")
        current = record.inputs[name]
        if isinstance(current, dict):
            path = given_path(text)
            if path.startswith("/") and not Path(path).exists():
                raise InvalidInputError(f"input {name!r}: {text} does not exist")
            inputs[name] = PathInput(type=str(current.get("type", "uri_folder")), path=path)
        else:
            inputs[name] = yaml.safe_load(text) if text else text
    pinned, hashes = _pin_inputs(ws, inputs)
    return record.model_copy(
        update={"inputs": {**record.inputs, **pinned}, "input_hashes": {**record.input_hashes, **hashes}}
    )


def start_pipeline(
    ws: Workspace,
    record: PipelineRecord,
    *,
    inputs: dict[str, str] | None = None,
    experiment_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> RunInfo:
    """Queue the parent run of ``record`` (its inputs overridden by ``inputs``); its driver runs the steps."""
    if inputs:
        record = with_inputs(ws, record, inputs)
    if experiment_name:
        record = record.model_copy(update={"experiment_name": experiment_name})
    carrier = make_job(
        experiment_name=record.experiment_name,
        display_name=record.display_name,
        command=DRIVER,
        inputs=record.inputs,
        compute=record.compute,
        max_retries=record.max_retries,
        tags=record.tags,
    )
    experiment_id = ws.store.get_or_create_experiment(record.experiment_name).id
    parent = PreparedJob(carrier, Environment(), store_files({}, ws.artifacts).id, experiment_id)
    return start_run(ws, parent, record=record, tags=tags, finish_here=partial(finish_if_all_reused, ws))


def submit_pipeline(ws: Workspace, job: PipelineJob, tags: dict[str, str] | None = None) -> RunInfo:
    return start_pipeline(ws, prepare_pipeline(ws, job), tags=tags)


def rerun_record(old: RunInfo, from_step: str | None = None) -> PipelineRecord:
    """The record of pipeline run ``old`` to run again; ``from_step`` and every step after it
    are run, not reused."""
    record = PipelineRecord.of_run(old)
    if from_step is None:
        return record
    if from_step not in record.steps:
        raise InvalidInputError(
            f"--from {from_step}: the pipeline has no such step ({', '.join(record.steps)})"
        )
    forced = record.downstream(from_step)
    steps = {
        name: step.model_copy(update={"force_rerun": True}) if name in forced else step
        for name, step in record.steps.items()
    }
    return record.model_copy(update={"steps": steps})
