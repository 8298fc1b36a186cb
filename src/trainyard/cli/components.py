"""``trainyard component list|show|run``: the module catalogue from the command line.

Inputs are ``--input PORT=REF`` where REF is a file (CSV, Parquet, JSON lines), a model folder,
``runs:<run id>/<output port>`` (the 12-character run id prefix is enough, and the port may
be left out when that run has one output), or ``last:<component>/<output port>``: the newest
completed run of that component (its exact run id is recorded on the new run). Parameters are
``--param NAME=VALUE``; lists are comma-separated (``columns=a,b``) or JSON.
"""

from __future__ import annotations

import typer

from trainyard.cli.output import Format, console, err_console, fmt_number, print_json, table
from trainyard.errors import InvalidInputError

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


@app.command("list")
def list_components(
    category: str = typer.Option(None, "--category", "-c", help="Only this category (Data, Train, …)."),
    output: Format = OutputOpt,
) -> None:
    """Every component; ``-o json`` prints each one's full interface (the designer's schema)."""
    from trainyard.components import catalogue

    comps = [c for c in catalogue().values() if category is None or c.category.lower() == category.lower()]
    if category is not None and not comps:
        cats = sorted({c.category for c in catalogue().values()})
        raise InvalidInputError(f"no category {category!r}; categories: {', '.join(cats)}")
    if output == Format.json:
        print_json([c.schema() for c in comps])
        return
    rows = [
        [c.category, c.name, c.display_name, ", ".join(p.name for p in c.inputs) or "-",
         ", ".join(p.name for p in c.outputs)]
        for c in sorted(comps, key=lambda c: (c.category, c.name))
    ]  # fmt: skip
    console.print(table(None, ["category", "name", "display name", "inputs", "outputs"], rows))


@app.command("show")
def show(name: str, output: Format = OutputOpt) -> None:
    """A component's inputs, outputs and parameters (``-o json``: its JSON schema)."""
    from trainyard.components import get_component

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
    rows = []
    for p in comp.params:
        spec = schema["params"]["properties"][p.name]
        allowed = ", ".join(map(str, p.choices)) if p.choices else _range(spec)
        rows.append([p.name, p.type, "(required)" if p.required else repr(p.default), allowed, p.description])
    if rows:
        console.print(table(None, ["param", "type", "default", "allowed", "description"], rows))


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
