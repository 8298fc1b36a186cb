"""``trainyard many-models train|show|retry|score``: one model per partition of a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from trainyard.cli.output import Format, console, fmt_number, print_json, status_text, table

app = typer.Typer(
    help="Many models: one model per partition (store, region, user...), with AutoML or your script.",
    no_args_is_help=True,
)


@app.command("train")
def train(
    file: Path = typer.Option(..., "--file", "-f", help="Many-models YAML (Azure's many-models keys)."),
    experiment: str = typer.Option(None, "--experiment", "-e", help="Experiment name (overrides the spec)."),
    stream: bool = typer.Option(False, "--stream", help="Follow the parent's log and wait for the end."),
) -> None:
    """Queue the parent run; it trains and registers one model per partition."""
    from trainyard.cli.jobs import queued
    from trainyard.sdk.many_models import ManyModelsConfig, submit_many_models
    from trainyard.workspace import Workspace

    config = ManyModelsConfig.from_yaml(file)
    if experiment:
        config.settings = config.settings.model_copy(update={"experiment_name": experiment})
    ws = Workspace.from_config()
    run = submit_many_models(ws, config)
    said = (
        f"many-models run [bold]{run.id}[/] queued in experiment [bold]{config.settings.experiment_name}[/]"
    )
    queued(ws, run.id, said, stream, "many-models", lambda run_id: show(run_id, output=Format.table))


def _run(run_id: str):  # noqa: ANN202
    from trainyard.cli.runs import resolve_run_id
    from trainyard.sdk.many_models import ManyModelsRun
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    return ManyModelsRun(ws, resolve_run_id(ws, run_id))


@app.command("show")
def show(run_id: str, output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """The leaderboard: one row per partition, with its status, metric and model version."""
    run = _run(run_id)
    board = run.get_leaderboard()
    if output == Format.json:
        print_json({"run": run.id, "status": run.get_status(), "leaderboard": board})
        return
    _print_board(f"Many models {run.id[:12]} ({run.get_status()})", board)


def _print_board(title: str, board: dict[str, list[Any]]) -> None:
    fixed = {"rows", "status", "attempts", "model", "run_id", "error"}
    columns = [c for c in board if c not in fixed and c != "partition"]
    rows = []
    for i, partition in enumerate(board.get("partition", [])):
        values = [board[c][i] for c in columns]
        rows.append(
            [
                partition,
                board["rows"][i],
                status_text(board["status"][i]),
                board["attempts"][i],
                *[fmt_number(v) if isinstance(v, float) else ("-" if v is None else v) for v in values],
                board["model"][i] or "-",
                (board["error"][i] or "")[:80],
            ]
        )
    console.print(table(title, ["partition", "rows", "status", "attempts", *columns, "model", "error"], rows))


@app.command("retry")
def retry(
    run_id: str,
    partition: list[str] = typer.Option(..., "--partition", "-p", help="A partition: store=3 (repeat)."),
    file: Path = typer.Option(
        None, "--file", "-f", help="The fixed spec: its code is snapshotted anew (default: as recorded)."
    ),
) -> None:
    """Train failed partitions of an ended run again, wait for them, and update its leaderboard."""
    from trainyard.sdk.many_models import ManyModelsConfig

    run = _run(run_id)
    config = None if file is None else ManyModelsConfig.from_yaml(file)
    ended = run.retry(*partition, config=config)
    for child in ended:
        console.print(f"{child.tags.get('many_models.partition')}: {status_text(child.get_status())}")
    _print_board(f"Many models {run.id[:12]}", run.get_leaderboard())


@app.command("score")
def score(
    file: Path = typer.Option(..., "--file", "-f", help="The many-models YAML the group was trained with."),
    data: Path = typer.Option(..., "--data", help="The table to score (.csv or .parquet)."),
    output: Path = typer.Option(..., "--output", help="Where to write it with a prediction column."),
) -> None:
    """Score a table, each row with its partition's model (the newest registered version)."""
    from trainyard.manymodels.score import score_file
    from trainyard.sdk.many_models import ManyModelsConfig
    from trainyard.workspace import Workspace

    settings = ManyModelsConfig.from_yaml(file).settings
    ws = Workspace.from_config()
    rows = score_file(
        ws,
        settings.group_model_name,
        settings.partition_column_names,
        data,
        output,
        settings.label_column_name,
    )
    console.print(f"scored {rows} row(s) with {settings.group_model_name} into {output}")
