"""``trainyard pipeline validate``: check a pipeline YAML whole and show its steps in run order."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.components import optional_workspace
from trainyard.cli.output import console, table

app = typer.Typer(help="Pipelines: DAGs of command steps and components.", no_args_is_help=True)


@app.command("validate")
def validate(
    file: Path = typer.Option(..., "--file", "-f", help="The pipeline YAML (type: pipeline)."),
    overrides: list[str] = typer.Option([], "--set", help="inputs.NAME=VALUE, a pipeline input."),
) -> None:
    """Check every step, reference, port kind and the absence of cycles; print the layers."""
    from trainyard.errors import InvalidInputError
    from trainyard.pipelines import build_graph, load_pipeline
    from trainyard.pipelines.components import expand_component_steps

    pairs = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError(f"--set {item!r}: write it as inputs.NAME=VALUE")
        pairs[key.strip()] = value
    job = expand_component_steps(load_pipeline(file, pairs), optional_workspace(), file.parent.resolve())
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
