"""The pipeline DAG, checked whole before anything runs.

Every wiring mistake is one ``InvalidInputError`` naming the step and the port: a reference to a
missing step, output or pipeline input, an output wired into a port of another kind, a required
component port left unwired, an unknown component or version, and a cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trainyard.components.base import Component, get_component
from trainyard.components.command import SCALAR_TYPES
from trainyard.errors import InvalidInputError, NotFoundError
from trainyard.jobs.spec import REFERENCE, PathInput
from trainyard.pipelines.automl_step import DATA_PORTS
from trainyard.pipelines.spec import OUTPUT_TYPES, OutputSpec, PipelineJob, Step

PARENT_INPUT = re.compile(r"^parent\.inputs\.(\w[\w-]*)$")
STEP_OUTPUT = re.compile(r"^parent\.jobs\.(\w[\w-]*)\.outputs\.(\w[\w-]*)$")
# a plain file or folder goes into any port (the component checks what it reads); typed ones must match
UNTYPED = ("uri_file", "uri_folder")
PARENT_OUTPUT = re.compile(r"^parent\.outputs\.(\w[\w-]*)$")
NOUNS = {"inputs": "input", "outputs": "output", "search_space": "search space parameter"}


@dataclass(frozen=True)
class Wire:
    """Where a step's input comes from: a pipeline input, another step's output, or a literal."""

    kind: str  # "parent", "step" or "literal"
    step: str | None = None
    name: str | None = None


@dataclass
class Node:
    name: str
    step: Step
    component: Component | None
    wires: dict[str, Wire]
    outputs: dict[str, str]  # output name -> kind
    needs: set[str] = field(default_factory=set)


@dataclass
class Graph:
    """The checked DAG: nodes, and ``layers`` (each layer needs only the layers before it)."""

    job: PipelineJob
    nodes: dict[str, Node]
    layers: list[list[str]]
    bound_outputs: dict[str, tuple[str, str]]  # pipeline output -> (step, output)


def _catalogue_component(ref: str, where: str) -> Component:
    name, _, version = ref.removeprefix("azureml:").replace(":", "@").partition("@")
    try:
        comp = get_component(name)
    except NotFoundError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    if version and version != comp.version:
        raise InvalidInputError(
            f"{where}: component {name!r} has no version {version!r} (it has {comp.version})"
        )
    return comp


def _wire(value: object, where: str, job: PipelineJob) -> Wire:
    if not isinstance(value, str) or not REFERENCE.fullmatch(value.strip()):
        return Wire("literal")
    ref = REFERENCE.fullmatch(value.strip()).group(1)  # type: ignore[union-attr]
    if m := PARENT_INPUT.match(ref):
        if m.group(1) not in job.inputs:
            known = ", ".join(sorted(job.inputs)) or "none"
            raise InvalidInputError(f"{where}: no pipeline input {m.group(1)!r} (inputs: {known})")
        return Wire("parent", name=m.group(1))
    if m := STEP_OUTPUT.match(ref):
        return Wire("step", step=m.group(1), name=m.group(2))
    raise InvalidInputError(
        f"{where}: unknown reference ${{{{{ref}}}}}; use ${{{{parent.inputs.NAME}}}} "
        "or ${{parent.jobs.STEP.outputs.NAME}}"
    )


def _is_value(wire: Wire, job: PipelineJob) -> bool:
    """A literal, or a pipeline input that is a value (not a file or folder)."""
    if wire.kind == "parent":
        return not isinstance(job.inputs[wire.name or ""], PathInput)
    return wire.kind == "literal"


def _is_path(comp: Component, param: str, wire: Wire) -> bool:
    """A file or folder pipeline input given to a ``path`` parameter (Import Data's ``path``)."""
    return wire.kind == "parent" and comp.param(param).type == "path"


def _automl_node(name: str, step: Step, job: PipelineJob) -> Node:
    """An AutoML step: its tables as its inputs, its best model as its output (its keys were
    checked when it was read, by ``automl_step.py``)."""
    wires = {port: _wire(value, f"step {name!r} input {port!r}", job) for port, value in step.inputs.items()}
    outputs = {o: spec.kind if isinstance(spec, OutputSpec) else "model" for o, spec in step.outputs.items()}
    return Node(name, step, None, wires, outputs, {w.step for w in wires.values() if w.step})


def _node(name: str, step: Step, job: PipelineJob) -> Node:
    if (step.type == "automl") != (step.automl is not None):
        raise InvalidInputError(f"step {name!r}: AutoML settings belong to a `type: automl` step")
    if step.type == "automl":
        return _automl_node(name, step, job)
    if (step.component is None) == (step.command is None):
        raise InvalidInputError(f"step {name!r}: give either `command:` or `component:`")
    comp = _catalogue_component(step.component, f"step {name!r}") if step.component else None
    wires = {port: _wire(value, f"step {name!r} input {port!r}", job) for port, value in step.inputs.items()}
    outputs: dict[str, str] = {}
    if comp is not None:
        declared = {p.name: p for p in comp.inputs}
        params = {p.name for p in comp.params}
        for port, wire in wires.items():
            if port not in declared and port not in params:
                known = ", ".join([*declared, *sorted(params)])
                raise InvalidInputError(
                    f"step {name!r}: component {comp.name} has no input {port!r} ({known})"
                )
            if port in params and not (_is_value(wire, job) or _is_path(comp, port, wire)):
                raise InvalidInputError(
                    f"step {name!r} input {port!r} is a parameter: give a value or a pipeline input "
                    "that is a value (a file or folder only for a path parameter), not a step's output"
                )
        for declared_port in declared.values():
            if not declared_port.optional and declared_port.name not in wires:
                raise InvalidInputError(
                    f"step {name!r}: required input {declared_port.name!r} ({declared_port.kind}) "
                    "is not wired"
                )
        outputs = {p.name: p.kind for p in comp.outputs}
        for out in step.outputs:
            if out not in outputs:
                raise InvalidInputError(
                    f"step {name!r}: component {comp.name} has no output {out!r} ({', '.join(outputs)})"
                )
    else:
        declared_kinds = step.ports.outputs if step.ports else {}
        outputs = {
            out: spec.kind if isinstance(spec, OutputSpec) else declared_kinds.get(out, "uri_folder")
            for out, spec in step.outputs.items()
        }
        if step.type == "sweep" and not (step.search_space and step.objective):
            raise InvalidInputError(f"step {name!r} is a sweep: give its search_space and objective")
        text = step.command if isinstance(step.command, str) else " ".join(step.command or [])
        pools = {"inputs": set(step.inputs), "outputs": set(step.outputs)}
        if step.type == "sweep":
            pools["search_space"] = set(step.search_space or ())
        for ref in REFERENCE.findall(text):
            kind, _, port = ref.partition(".")
            pool: set[str] | None = pools.get(kind)
            if pool is None or port not in pool:
                raise InvalidInputError(
                    f"step {name!r}: the command uses ${{{{{ref}}}}} but the step declares no such "
                    f"{NOUNS.get(kind, 'input or output')}"
                )
    return Node(name, step, comp, wires, outputs, {w.step for w in wires.values() if w.step})


def _check_wires(nodes: dict[str, Node], job: PipelineJob) -> None:
    for node in nodes.values():
        if node.component is not None:
            expected = {p.name: p.kind for p in node.component.inputs}
        elif node.step.type == "automl":
            expected = dict.fromkeys(DATA_PORTS, "table")
        else:  # a command step: typed when it was made from a command component
            expected = node.step.ports.inputs if node.step.ports else {}
        for port, wire in node.wires.items():
            where = f"step {node.name!r} input {port!r}"
            if wire.kind == "step":
                source = nodes.get(wire.step or "")
                if source is None:
                    raise InvalidInputError(f"{where}: no step {wire.step!r} (steps: {', '.join(nodes)})")
                if wire.name not in source.outputs:
                    known = ", ".join(source.outputs) or "none"
                    raise InvalidInputError(
                        f"{where}: step {wire.step!r} has no output {wire.name!r} ({known})"
                    )
                got = source.outputs[wire.name or ""]
            elif wire.kind == "parent":
                value = job.inputs[wire.name or ""]
                got = getattr(value, "type", "literal value")
            else:
                continue
            want = expected.get(port)
            if want in SCALAR_TYPES:  # a value, which only a pipeline's literal input gives
                if got != "literal value":
                    raise InvalidInputError(f"{where} takes a {want} value but is wired to a {got}")
            elif want is not None and got != want and got not in UNTYPED:
                raise InvalidInputError(f"{where} takes a {want} but is wired to a {got}")


def _bound_outputs(nodes: dict[str, Node], job: PipelineJob) -> dict[str, tuple[str, str]]:
    bound: dict[str, tuple[str, str]] = {}
    for node in nodes.values():
        for out, spec in node.step.outputs.items():
            if not isinstance(spec, str):
                continue
            ref = REFERENCE.fullmatch(spec.strip())
            m = PARENT_OUTPUT.match(ref.group(1)) if ref else None
            if m is None or m.group(1) not in job.outputs:
                known = ", ".join(job.outputs) or "none"
                raise InvalidInputError(
                    f"step {node.name!r} output {out!r}: {spec!r} is not ${{{{parent.outputs.NAME}}}} "
                    f"of a declared pipeline output ({known})"
                )
            bound[m.group(1)] = (node.name, out)
    return bound


def _layers(nodes: dict[str, Node]) -> list[list[str]]:
    """Kahn's topological sort in layers; what is left over is a cycle, named step by step."""
    left = {name: set(node.needs) for name, node in nodes.items()}
    layers: list[list[str]] = []
    while left:
        ready = sorted(name for name, needs in left.items() if not needs)
        if not ready:
            start = min(left)
            path = [start]
            while (nxt := min(left[path[-1]])) not in path:
                path.append(nxt)
            cycle = path[path.index(nxt) :] + [nxt]
            raise InvalidInputError(
                f"the steps form a cycle: {' -> '.join(reversed(cycle))}; a step cannot need itself"
            )
        layers.append(ready)
        for name in ready:
            del left[name]
        for needs in left.values():
            needs.difference_update(ready)
    return layers


def build_graph(job: PipelineJob) -> Graph:
    """Check the whole pipeline and order its steps; the first mistake found is the error."""
    nodes = {name: _node(name, step, job) for name, step in job.jobs.items()}
    _check_wires(nodes, job)
    bound = _bound_outputs(nodes, job)
    for out in job.outputs:
        if out not in bound:
            raise InvalidInputError(
                f"pipeline output {out!r} is not bound: give a step output ${{{{parent.outputs.{out}}}}}"
            )
    return Graph(job, nodes, _layers(nodes), bound)


__all__ = ["OUTPUT_TYPES", "Graph", "Node", "Wire", "build_graph"]
