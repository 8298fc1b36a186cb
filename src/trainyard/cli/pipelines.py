"""``trainyard pipeline validate|submit|show|rerun``: pipeline jobs from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.components import optional_workspace
from trainyard.cli.output import console, fmt_duration, status_text, table

app = typer.Typer(help="Pipelines: DAGs of command steps and components.", no_args_is_help=True)
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
            what = node.component.name if node.component else ports.component if ports else "command"
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
            branch.add(f"{view.symbol} [bold]{view.step}[/] {status_text(view.status)} {took} {where}{needs}")
    console.print(tree)
    if info.error:
        console.print(f"[red]{info.error}[/]")
