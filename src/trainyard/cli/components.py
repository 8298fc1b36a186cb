"""``trainyard component list|show|run|register|archive``: the module catalogue and the workspace's
registered command components from the command line.

``register -f comp.yml`` versions a command component (Azure's component YAML) with a snapshot of
its code; ``list`` shows them beside the Studio modules (``source``), ``show NAME[:VERSION]`` one.

Inputs are ``--input PORT=REF`` where REF is a file (CSV, Parquet, JSON lines), a model folder,
``runs:<run id>/<output port>`` (the 12-character run id prefix is enough, and the port may
be left out when that run has one output), or ``last:<component>/<output port>``: the newest
completed run of that component (its exact run id is recorded on the new run). Parameters are
``--param NAME=VALUE``; lists are comma-separated (``columns=a,b``) or JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from trainyard.cli.output import Format, console, err_console, fmt_number, fmt_time, print_json, table
from trainyard.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from trainyard.components.command import CommandComponent
    from trainyard.store.records import ComponentVersion
    from trainyard.workspace import Workspace

app = typer.Typer(help="Components: the Studio-style module catalogue.", no_args_is_help=True)
OutputOpt = typer.Option(Format.table, "--output", "-o", help="table or json.")


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--{what} {item!r}: write it as NAME=VALUE")
        out[key.strip()] = value
    return out


def optional_workspace() -> Workspace | None:
    """The workspace registered components are read from; ``None`` outside one (the catalogue
    needs none)."""
    from trainyard.errors import WorkspaceError
    from trainyard.workspace import Workspace

    try:
        return Workspace.from_config()
    except WorkspaceError:
        return None


def _registered(ws: Workspace | None) -> list[tuple[ComponentVersion, CommandComponent]]:
    from trainyard.components.command import registered_component

    records = ws.store.list_component_versions() if ws is not None else []
    return [(r, registered_component(r)) for r in records]


@app.command("list")
def list_components(
    category: str = typer.Option(None, "--category", "-c", help="Only this category (Data, Train, …)."),
    output: Format = OutputOpt,
) -> None:
    """Every Studio module and registered command component; ``-o json`` prints each one's full
    interface (the designer's schema)."""
    from trainyard.components import catalogue

    def wanted(cat: str) -> bool:
        return category is None or cat.lower() == category.lower()

    registered = [(r, c) for r, c in _registered(optional_workspace()) if wanted(c.schema()["category"])]
    comps = [c for c in catalogue().values() if wanted(c.category)]
    if category is not None and not comps and not registered:
        cats = sorted({c.category for c in catalogue().values()})
        raise InvalidInputError(f"no category {category!r}; categories: {', '.join(cats)}")
    if output == Format.json:
        studio = [{**c.schema(), "source": "studio"} for c in comps]
        print_json(studio + [{**c.schema(), "source": "registered"} for _, c in registered])
        return
    rows = [
        ["studio", c.category, c.name, c.version, c.display_name, ", ".join(p.name for p in c.inputs) or "-",
         ", ".join(p.name for p in c.outputs)]
        for c in sorted(comps, key=lambda c: (c.category, c.name))
    ]  # fmt: skip
    for record, comp in registered:
        schema = comp.schema()
        rows.append(
            ["registered", schema["category"], comp.name, record.version, schema["display_name"],
             ", ".join(comp.inputs) or "-", ", ".join(comp.outputs) or "-"]
        )  # fmt: skip
    columns = ["source", "category", "name", "version", "display name", "inputs", "outputs"]
    console.print(table(None, columns, rows))


@app.command("show")
def show(
    name: str = typer.Argument(..., help="A Studio module, or a registered component: NAME[:VERSION]."),
    output: Format = OutputOpt,
) -> None:
    """A component's inputs, outputs and parameters (``-o json``: its JSON schema)."""
    from trainyard.components import catalogue, get_component

    if name not in catalogue():
        _show_registered(name, output)
        return
    comp = get_component(name)
    schema = comp.schema()
    if output == Format.json:
        print_json(schema)
        return
    console.print(f"[bold]{comp.display_name}[/] ({comp.name}, {comp.category}, version {comp.version})")
    console.print(comp.description)
    ports = [["input", p.name, p.kind, p.description] for p in comp.inputs]
    ports += [["output", p.name, p.kind, p.description] for p in comp.outputs]
    console.print(table(None, ["", "port", "kind", "description"], ports))
    _print_params(schema, [(p.name, p.type) for p in comp.params])


def _print_params(schema: dict[str, Any], params: list[tuple[str, str]]) -> None:
    rows = []
    for param, kind in params:
        spec = schema["params"]["properties"][param]
        required = param in schema["params"]["required"]
        allowed = ", ".join(map(str, spec["enum"])) if "enum" in spec else _range(spec)
        default = "(required)" if required else repr(spec.get("default"))
        rows.append([param, kind, default, allowed, spec.get("description", "")])
    if rows:
        console.print(table(None, ["param", "type", "default", "allowed", "description"], rows))


def _show_registered(ref: str, output: Format) -> None:
    from trainyard.components import get_component
    from trainyard.components.command import registered_component
    from trainyard.pipelines.components import parse_component_ref

    name, version = parse_component_ref(ref)
    ws = optional_workspace()
    if ws is None:
        get_component(name)  # outside a workspace only the catalogue is known: its error
    try:
        record = ws.store.get_component_version(name, version)  # type: ignore[union-attr]
    except NotFoundError:
        if version is not None:
            raise
        get_component(name)  # not registered either: the catalogue's error, with close names
        raise
    comp = registered_component(record)
    schema = comp.schema()
    if output == Format.json:
        print_json(
            {**schema, "source": "registered", "command": comp.command, "snapshot_id": record.snapshot_id,
             "created_at": record.created_at, "archived": record.archived}
        )  # fmt: skip
        return
    archived = ", archived" if record.archived else ""
    console.print(
        f"[bold]{schema['display_name']}[/] ({comp.name}:{record.version}, command component, "
        f"registered {fmt_time(record.created_at)}{archived})"
    )
    if comp.description:
        console.print(comp.description)
    ports = [["input", n, i.type, i.description] for n, i in comp.inputs.items() if not i.is_scalar]
    ports += [["output", n, o.type, o.description] for n, o in comp.outputs.items()]
    if ports:
        console.print(table(None, ["", "port", "type", "description"], ports))
    _print_params(schema, [(n, i.type) for n, i in comp.inputs.items() if i.is_scalar])
    console.print(f"command: {comp.command}", soft_wrap=True, markup=False)
    env = comp.environment if isinstance(comp.environment, str) else comp.environment.name
    console.print(f"environment: {env}; code snapshot: {record.snapshot_id or '-'}", markup=False)


@app.command("register")
def register(
    file: Path = typer.Option(..., "--file", "-f", help="The component YAML (type: command)."),
    output: Format = OutputOpt,
) -> None:
    """Version a command component in the workspace with a snapshot of its code; registering the
    same content again gives the version that has it."""
    from trainyard.components.command import register_command_component
    from trainyard.workspace import Workspace

    record = register_command_component(Workspace.from_config(), file)
    if output == Format.json:
        print_json({"name": record.name, "version": record.version, "snapshot_id": record.snapshot_id})
        return
    console.print(
        f"component [bold]{record.name}:{record.version}[/] registered "
        f"(code snapshot {(record.snapshot_id or '-')[:12]})"
    )


@app.command("archive")
def archive(
    ref: str = typer.Argument(..., help="NAME:VERSION of a registered component."),
    restore: bool = typer.Option(False, "--restore", help="Restore an archived version."),
) -> None:
    """Archive a registered version (``@latest`` and ``list`` skip it; ``NAME:VERSION`` still runs it)."""
    from trainyard.pipelines.components import parse_component_ref
    from trainyard.workspace import Workspace

    name, version = parse_component_ref(ref)
    if version is None:
        raise InvalidInputError(f"{ref!r}: name the version to archive, NAME:VERSION")
    record = Workspace.from_config().store.set_component_version_archived(name, version, not restore)
    state = "archived" if record.archived else "restored"
    console.print(f"component {record.name}:{record.version} {state}")


def _range(spec: dict) -> str:
    low = spec.get("minimum", spec.get("exclusiveMinimum"))
    high = spec.get("maximum", spec.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    left = "(" if "exclusiveMinimum" in spec else "["
    right = ")" if "exclusiveMaximum" in spec else "]"
    return f"{left}{'' if low is None else low}, {'' if high is None else high}{right}"


@app.command("run")
def run(
    name: str,
    inputs: list[str] = typer.Option(
        [], "--input", "-i", help="PORT=file, folder, runs:<run id>/<port> or last:<component>/<port>."
    ),
    params: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE, repeatable."),
    experiment: str = typer.Option("components", "--experiment", "-e", help="Experiment of the run."),
    output: Format = OutputOpt,
) -> None:
    """Run a component as a tracked run; prints the run id, its metrics and where each output is."""
    from trainyard.components import get_component
    from trainyard.components.runner import run_component
    from trainyard.workspace import Workspace

    comp = get_component(name)
    values = {key: comp.param(key).parse(text) for key, text in _pairs(params, "param").items()}
    ws = Workspace.from_config()
    with err_console.status(f"running {comp.name}…"):  # shown on a terminal only
        result = run_component(ws, comp, _pairs(inputs, "input"), values, experiment=experiment)
    if output == Format.json:
        print_json(
            {"run_id": result.run_id, "component": result.component, "reuse_key": result.reuse_key,
             "metrics": result.metrics, "outputs": result.locations}
        )  # fmt: skip
        return
    console.print(f"run [bold]{result.run_id}[/] completed ({comp.name})")
    for key, value in result.metrics.items():
        console.print(f"  {key} = {fmt_number(value)}")
    for port, ref in result.locations.items():
        console.print(f"  output {port}: {ref}", soft_wrap=True)
