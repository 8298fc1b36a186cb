"""``trainyard pipeline validate|publish|trigger`` and ``pipeline published list|show|set-default``."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.models import OutputOpt, _ws
from trainyard.cli.output import Format, console, fmt_time, print_json, table

app = typer.Typer(help="Pipelines: DAGs of command steps and components.", no_args_is_help=True)
published_app = typer.Typer(
    help="Published pipelines: versions under one endpoint name, with a default.", no_args_is_help=True
)
app.add_typer(published_app, name="published")
SetOpt = typer.Option([], "--set", help="inputs.NAME=VALUE, a pipeline input (repeatable).")


def input_overrides(items: list[str]) -> dict[str, str]:
    """``--set inputs.x=v`` pairs as ``{"inputs.x": "v"}``; one line for a malformed one."""
    from trainyard.errors import InvalidInputError

    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--set {item!r}: write it as inputs.NAME=VALUE")
        pairs[key.strip()] = value
    return pairs


def input_values(items: list[str]) -> dict[str, str]:
    """``--set inputs.x=v`` pairs as the input values a published pipeline's run takes: ``{"x": "v"}``."""
    from trainyard.errors import InvalidInputError

    values = {}
    for key, value in input_overrides(items).items():
        kind, _, name = key.partition(".")
        if kind != "inputs" or not name:
            raise InvalidInputError(
                f"--set {key}={value}: only pipeline inputs can be set (inputs.NAME=VALUE)"
            )
        values[name] = value
    return values


@app.command("validate")
def validate(
    file: Path = typer.Option(..., "--file", "-f", help="The pipeline YAML (type: pipeline)."),
    overrides: list[str] = SetOpt,
) -> None:
    """Check every step, reference, port kind and the absence of cycles; print the layers."""
    from trainyard.pipelines import build_graph, load_pipeline

    graph = build_graph(load_pipeline(file, input_overrides(overrides)))
    rows = []
    for depth, layer in enumerate(graph.layers):
        for name in layer:
            node = graph.nodes[name]
            what = node.component.name if node.component else "command"
            rows.append([str(depth), name, what, ", ".join(sorted(node.needs)) or "-"])
    console.print(table(None, ["layer", "step", "runs", "needs"], rows))
    console.print(f"{file}: {len(graph.nodes)} steps in {len(graph.layers)} layers, valid")


@app.command("publish")
def publish(
    file: Path = typer.Option(..., "--file", "-f", help="The pipeline YAML (type: pipeline)."),
    name: str = typer.Option(
        ..., "--name", "-n", help="The endpoint name; each publish is its next version."
    ),
    description: str = typer.Option(None, help="A line about this version."),
    make_default: bool = typer.Option(
        False, "--make-default", help="Make this version the endpoint's default (the first one always is)."
    ),
    overrides: list[str] = SetOpt,
) -> None:
    """Check the pipeline, snapshot every step's code, and store it as a version of NAME."""
    from trainyard.pipelines.published import publish as publish_pipeline

    ws = _ws()
    with console.status(f"checking and snapshotting {file}"):
        made = publish_pipeline(
            ws,
            file,
            name,
            overrides=input_overrides(overrides),
            description=description,
            make_default=make_default,
        )
    endpoint = ws.store.get_pipeline_endpoint(name)
    console.print(
        f"published pipeline [bold]{name}[/] version {made.version} "
        f"(default: version {endpoint.default_version})"
    )
    if ws.is_server:
        console.print(f"REST: POST {ws.config.store.rstrip('/')}/api/v1/pipelines/{name}/runs")


@app.command("trigger")
def trigger(
    name: str = typer.Argument(..., help="A published pipeline's endpoint name."),
    version: int = typer.Option(None, "--version", "-v", help="A version (default: the endpoint's default)."),
    overrides: list[str] = SetOpt,
    experiment_name: str = typer.Option(None, "--experiment-name", help="Run in this experiment."),
) -> None:
    """Queue a run of a published pipeline, as its REST endpoint does; prints the run id."""
    from trainyard.pipelines.published import trigger as trigger_pipeline

    run_id = trigger_pipeline(
        _ws(), name, version=version, inputs=input_values(overrides), experiment_name=experiment_name
    )
    console.print(f"queued run [bold]{run_id}[/] of pipeline {name}")


@published_app.command("list")
def published_list(
    name: str = typer.Argument(None, help="Show every version of this endpoint."), output: Format = OutputOpt
) -> None:
    """Pipeline endpoints (name, default and latest version), or every version of one."""
    from dataclasses import asdict

    ws = _ws()
    if name is None:
        endpoints = ws.store.list_pipeline_endpoints()
        if output == Format.json:
            print_json([asdict(e) for e in endpoints])
            return
        rows = [
            [e.name, e.default_version, e.latest_version, e.description or "-", fmt_time(e.updated_at)]
            for e in endpoints
        ]
        console.print(table(None, ["name", "default", "latest", "description", "updated"], rows))
        return
    versions = ws.store.list_published_pipelines(name)
    default = ws.store.get_pipeline_endpoint(name).default_version
    if output == Format.json:
        print_json([{k: v for k, v in asdict(p).items() if k != "pipeline"} for p in versions])
        return
    rows = [
        [p.version, "default" if p.version == default else "-", p.description or "-", fmt_time(p.created_at)]
        for p in versions
    ]
    console.print(table(name, ["version", "", "description", "published"], rows))


@published_app.command("show")
def published_show(
    name: str = typer.Argument(..., help="A published pipeline's endpoint name."),
    version: int = typer.Option(None, "--version", "-v", help="A version (default: the endpoint's default)."),
    output: Format = OutputOpt,
) -> None:
    """One version: its steps and inputs, as published."""
    from dataclasses import asdict

    got = _ws().store.get_published_pipeline(name, version)
    if output == Format.json:
        print_json(asdict(got))
        return
    job = got.pipeline.get("job", {})
    console.print(f"[bold]{name}[/] version {got.version}, published {fmt_time(got.created_at)}")
    if got.description:
        console.print(got.description)
    inputs = job.get("inputs") or {}
    console.print("inputs: " + (", ".join(f"{k}={v}" for k, v in inputs.items()) or "none"))
    console.print("steps: " + (", ".join(job.get("jobs") or {}) or "none"))


@published_app.command("set-default")
def set_default(
    name: str = typer.Argument(..., help="A published pipeline's endpoint name."),
    version: int = typer.Argument(..., help="The version its endpoint runs from now on."),
) -> None:
    """Make VERSION the one the endpoint (REST, trigger, schedules) runs."""
    endpoint = _ws().store.set_pipeline_default(name, version)
    console.print(
        f"pipeline {name}: default version {endpoint.default_version} (latest {endpoint.latest_version})"
    )
