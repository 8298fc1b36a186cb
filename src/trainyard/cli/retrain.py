"""``trainyard retrain``: train a model again, as it was trained, on new data; promote it if better."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import console, fmt_number, table


def retrain(
    model: str = typer.Option(..., "--model", "-m", help="The model in production, e.g. diabetes@production"),
    data: Path = typer.Option(..., "--data", help="New training data (goes in as the job's input)."),
    holdout: Path = typer.Option(..., "--holdout", help="Labelled data both models are scored on."),
    label: str = typer.Option(..., "--label", help="The holdout's label column."),
    metric: str = typer.Option("r2", help="r2, rmse, mae, accuracy or f1_weighted"),
    endpoint: str = typer.Option(
        None, "--endpoint", "-e", help="Deploy a promoted model here, traffic 100%."
    ),
    input_name: str = typer.Option(
        "data",
        help="What the new data replaces: the command job's input of this name; for component runs "
        "COMPONENT.PORT when the chain reads more than one table (AutoML: its training_data).",
    ),
    force: bool = typer.Option(False, "--force", help="Promote even if it is not better."),
    stream: bool = typer.Option(False, "--stream", help="Show the training job's log."),
) -> None:
    """Retrain a registered model the way it was trained (its command job, AutoML job or
    component runs), compare on the holdout, promote and swap if better."""
    from trainyard.sdk.retrain import retrain as run_retrain
    from trainyard.workspace import Workspace

    result = run_retrain(
        Workspace.from_config(),
        model,
        data,
        holdout,
        label,
        metric,
        endpoint,
        input_name,
        force,
        show_output=stream,
    )
    verdict = ("yes (forced)" if force else "yes") if result.promoted else "no: it is not better"
    rows = [
        ["run", result.run_id],
        [f"{metric} of {result.previous}", fmt_number(result.previous_score)],
        [f"{metric} of {result.candidate}", fmt_number(result.candidate_score)],
        ["promoted", verdict],
    ]
    if result.deployment:
        rows.append(
            [
                "deployment",
                f"{result.deployment} takes 100% of {endpoint}; undo: trainyard endpoint rollback {endpoint}",
            ]
        )
    console.print(table("Retrain", ["", ""], rows))
