"""``trainyard pipeline validate|submit|show|rerun|create-inference|publish|trigger`` and ``pipeline published
list|show|set-default``: pipeline jobs and published pipelines from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.components import optional_workspace
from trainyard.cli.models import OutputOpt, _ws
from trainyard.cli.output import Format, console, fmt_duration, fmt_time, print_json, status_text, table

app = typer.Typer(help="Pipelines: DAGs of command steps and components.", no_args_is_help=True)
published_app = typer.Typer(
    help="Published pipelines: versions under one endpoint name, with a default.", no_args_is_help=True
)
app.add_typer(published_app, name="published")
SetOpt = typer.Option([], "--set", help="inputs.NAME=VALUE, a pipeline input.")


def _overrides(values: list[str]) -> dict[str, str]:
    from trainyard.errors import InvalidInputError

    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--set {item!r}: write it as inputs.NAME=VALUE")
        pairs[key.strip()] = value
    return pairs


@app.command("validate")
def validate(
    file: Path = typer.Option(..., "--file", "-f", help="The pipeline YAML (type: pipeline)."),
    overrides: list[str] = SetOpt,
) -> None:
    """Check every step, reference, port kind and the absence of cycles; print the layers."""
    from trainyard.pipelines import build_graph, load_pipeline
    from trainyard.pipelines.components import expand_component_steps

    job = expand_component_steps(
        load_pipeline(file, _overrides(overrides)), optional_workspace(), file.parent.resolve()
    )
    graph = build_graph(job)
    rows = []
    for depth, layer in enumerate(graph.layers):
        for name in layer:
            node = graph.nodes[name]
            ports = node.step.ports
            what = node.component.name if node.component else ports.component if ports else node.step.type
            rows.append([str(depth), name, what, ", ".join(sorted(node.needs)) or "-"])
    console.print(table(None, ["layer", "step", "runs", "needs"], rows))
    console.print(f"{file}: {len(graph.nodes)} steps in {len(graph.layers)} layers, valid")


def _started(ws, info, stream: bool) -> None:  # noqa: ANN001
    from trainyard.cli.jobs import follow

    console.print(f"pipeline run [bold]{info.id}[/] queued ({len(info.job['steps'])} steps)")
    if not stream:
        console.print(f"follow it with: trainyard run logs {info.id} --follow")
        console.print(f"see its steps: trainyard pipeline show {info.id[:12]}")
        return
    follow(ws, info.id, summary=False)
    show_dag(ws, info.id)


@app.command("submit")
def submit(
    file: Path = typer.Option(..., "--file", "-f", help="The pipeline YAML (type: pipeline)."),
    overrides: list[str] = SetOpt,
    stream: bool = typer.Option(False, "--stream", help="Follow the driver's log, then draw the DAG."),
) -> None:
    """Run a pipeline: each step a child run, started when the steps it needs have finished."""
    from trainyard.pipelines import load_pipeline
    from trainyard.pipelines.submit import submit_pipeline
    from trainyard.workspace import Workspace

    job = load_pipeline(file, _overrides(overrides))
    ws = Workspace.from_config()
    _started(ws, submit_pipeline(ws, job), stream)


@app.command("samples")
def samples(output: Format = OutputOpt) -> None:
    """The designer's samples (regression, classification, churn, flight delays), ready to run."""
    from trainyard.samples import SAMPLES

    listed = [s.summary() for s in SAMPLES.values()]
    if output is Format.json:
        print_json(listed)
        return
    console.print(table("Samples", ["name", "title", "description"], [list(s.values()) for s in listed]))
    console.print("open one with: trainyard pipeline sample NAME --out NAME.yml")


@app.command("sample")
def sample(
    name: str = typer.Argument(..., help="A sample (`trainyard pipeline samples` lists them)."),
    out: Path = typer.Option(None, "--out", help="Write the YAML here (default: print it)."),
) -> None:
    """A sample's pipeline YAML; its table becomes the data asset sample-NAME that the YAML reads."""
    from trainyard.samples import open_sample
    from trainyard.workspace import Workspace

    text = open_sample(Workspace.from_config(), name)
    if out is None:
        print(text, end="")
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}; run it with: trainyard pipeline submit -f {out} --stream")


@app.command("rerun")
def rerun(
    run_id: str = typer.Argument(..., help="The pipeline run to run again."),
    from_step: str = typer.Option(None, "--from", help="Run this step and every step after it again."),
    overrides: list[str] = SetOpt,
    stream: bool = typer.Option(False, "--stream", help="Follow the driver's log, then draw the DAG."),
) -> None:
    """Run a pipeline again with its code as it was submitted, reusing every step it can."""
    from trainyard.cli.runs import resolve_run_id
    from trainyard.pipelines.submit import rerun_record, start_pipeline
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    old = ws.store.get_run(resolve_run_id(ws, run_id))
    record = rerun_record(old, from_step)
    inputs = {}
    for key, value in _overrides(overrides).items():
        inputs[_input_name(key)] = value
    _started(ws, start_pipeline(ws, record, inputs=inputs), stream)


def _input_name(key: str) -> str:
    from trainyard.errors import InvalidInputError

    kind, _, name = key.partition(".")
    if kind != "inputs" or not name:
        raise InvalidInputError(f"--set {key}=…: only pipeline inputs can be set (inputs.NAME=VALUE)")
    return name


@app.command("show")
def show(run_id: str = typer.Argument(..., help="A pipeline run (the 12-character prefix will do).")) -> None:
    """The DAG, layer by layer, with each step's status, duration and run (or the run it reused)."""
    from trainyard.cli.runs import resolve_run_id
    from trainyard.compute.reaper import reap
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    reap(ws)
    show_dag(ws, resolve_run_id(ws, run_id))


@app.command("create-inference")
def create_inference(
    run_id: str = typer.Argument(..., help="A completed training pipeline run."),
    name: str = typer.Option(..., "--name", help="The model to register it as (its next version)."),
) -> None:
    """Register the run's real-time inference pipeline: its row-wise steps before Train Model,
    with the same parameters, then Score Model with the trained model."""
    from trainyard.cli.runs import resolve_run_id
    from trainyard.pipelines.inference import make_inference_model
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    version = make_inference_model(ws, resolve_run_id(ws, run_id), name)
    console.print(f"registered [bold]{version.name}:{version.version}[/]; deploy it with:")
    console.print(f"  trainyard endpoint create {name}-ep")
    console.print(f"  trainyard deployment create blue -e {name}-ep -m {version.name}:{version.version}")


def show_dag(ws, run_id: str) -> None:  # noqa: ANN001
    from rich.tree import Tree

    from trainyard.pipelines.view import step_views

    info = ws.store.get_run(run_id)
    views = step_views(ws, info)
    tree = Tree(f"pipeline [bold]{info.name}[/] {run_id}  {status_text(info.status.value)}")
    for depth, layer in enumerate(views.layers):
        branch = tree.add(f"[dim]layer {depth}[/]")
        for view in layer:
            needs = f"  [dim]← {', '.join(view.needs)}[/]" if view.needs else ""
            where = f"reused {view.reused_from[:12]}" if view.reused_from else (view.run_id or "")[:12]
            took = fmt_duration(view.duration) if view.duration is not None else ""
            head = f"{view.symbol} [bold]{view.step}[/] {status_text(view.status)}"
            branch.add(f"{head} {took} {where}  [dim]{view.what}[/]{needs}")
    console.print(tree)
    if info.error:
        console.print(f"[red]{info.error}[/]")


def input_values(items: list[str]) -> dict[str, str]:
    """``--set inputs.x=v`` pairs as the input values a published pipeline's run takes: ``{"x": "v"}``."""
    return {_input_name(key): value for key, value in _overrides(items).items()}


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
            overrides=_overrides(overrides),
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
    record = got.pipeline
    console.print(f"[bold]{name}[/] version {got.version}, published {fmt_time(got.created_at)}")
    if got.description:
        console.print(got.description)
    inputs = record.get("inputs") or {}
    console.print("inputs: " + (", ".join(f"{k}={v}" for k, v in inputs.items()) or "none"))
    layers = record.get("layers") or []
    console.print("steps: " + (" -> ".join(", ".join(layer) for layer in layers) or "none"))
    console.print(f"experiment: {record.get('experiment_name')}, compute: {record.get('compute')}")


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
