"""``trainyard automl submit|show``: automated ML from a CSV or Parquet file."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from trainyard.cli.output import Format, console, fmt_number, print_json, status_text, table

app = typer.Typer(
    help="Automated ML: featurization, learner and hyperparameter search, ensembles, a registered model.",
    no_args_is_help=True,
)


def parse_minutes(text: str) -> float:
    """``10m``, ``90s``, ``1h`` or a plain number of minutes."""
    from trainyard.errors import InvalidInputError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise InvalidInputError(f"--timeout {text!r}: use minutes (10), or 90s, 10m, 1h")
    value, unit = float(match.group(1)), match.group(2) or "m"
    return value * {"s": 1 / 60, "m": 1.0, "h": 60.0}[unit]


@app.command("submit")
def submit(
    data: Path = typer.Option(..., "--data", help="Training data (.csv or .parquet)."),
    label: str = typer.Option(..., "--label", help="The column to predict."),
    task: str = typer.Option("classification", "--task", help="classification | regression | forecasting"),
    timeout: str = typer.Option("15m", "--timeout", help="Time budget: 10m, 90s, 1h."),
    metric: str = typer.Option(None, "--metric", help="Primary metric (Azure's names)."),
    validation: Path = typer.Option(
        None, "--validation", help="Validation data instead of cross-validation."
    ),
    cv: int = typer.Option(None, "--cv", help="Number of cross-validation folds."),
    concurrency: int = typer.Option(1, "--concurrency", help="Trials at a time (max_concurrent_iterations)."),
    model_name: str = typer.Option(None, "--model-name", help="Register the best model under this name."),
    experiment: str = typer.Option("automl", "--experiment", "-e"),
    time_column: str = typer.Option(None, "--time-column", help="Forecasting: the time column."),
    horizon: int = typer.Option(None, "--horizon", help="Forecasting: steps to forecast."),
    series_ids: list[str] = typer.Option([], "--series-id", help="Forecasting: a series ID column (repeat)."),
    test: Path = typer.Option(None, "--test", help="Score the best model on this file at the end (waits)."),
    stream: bool = typer.Option(False, "--stream", help="Follow the live leaderboard and wait for the end."),
) -> None:
    """Queue an AutoML run; with --stream or --test, follow it and end with the leaderboard."""
    from trainyard.automl.config import make_settings, read_table
    from trainyard.automl.submit import submit_automl
    from trainyard.cli.jobs import queued
    from trainyard.workspace import Workspace

    fields = {
        "task": task,
        "label_column_name": label,
        "experiment_timeout_minutes": parse_minutes(timeout),
        "primary_metric": metric,
        "n_cross_validations": cv,
        "max_concurrent_iterations": concurrency,
        "model_name": model_name,
    }
    if task == "forecasting":
        fields.update(
            time_column_name=time_column, forecast_horizon=horizon, time_series_id_column_names=series_ids
        )
    settings = make_settings(**fields)
    # every file is read (and the test file checked) before anything is queued
    train = read_table(data, "--data")
    valid = None if validation is None else read_table(validation, "--validation")
    test_frame = None if test is None else _read_test(test, settings.label_column_name)
    ws = Workspace.from_config()
    info = submit_automl(ws, settings, train, experiment, valid)
    said = f"automl run [bold]{info.id}[/] queued in experiment [bold]{experiment}[/]"
    queued(
        ws,
        info.id,
        said,
        stream or test is not None,
        "automl",
        lambda run_id: show(run_id, output=Format.table),
    )
    if test:
        _score_test(ws, info.id, test, test_frame, settings)


def _read_test(path: Path, label: str):  # noqa: ANN202
    from trainyard.automl.config import read_table
    from trainyard.errors import InvalidInputError

    frame = read_table(path, "--test")
    if label not in frame.columns:
        raise InvalidInputError(
            f"--test {path} has no label column {label!r}; the test set needs it to score"
        )
    return frame


def _score_test(ws, run_id: str, path: Path, frame, settings) -> None:  # noqa: ANN001
    import numpy as np

    from trainyard.automl.metrics import score_all
    from trainyard.sdk.automl import AutoMLRun

    _, model = AutoMLRun(ws, run_id).get_output()
    truth = frame[settings.label_column_name].to_numpy()
    rows = frame.drop(columns=[settings.label_column_name])
    if settings.task == "classification":
        classes = list(model.classes_)
        scores = score_all("classification", np.searchsorted(classes, truth), model.predict_proba(rows))
    else:
        scores = score_all("regression", truth.astype(float), np.asarray(model.predict(rows), dtype=float))
    console.print(
        table(
            f"Test set ({path.name}, {len(frame)} rows)",
            ["metric", "value"],
            [[k, fmt_number(v)] for k, v in scores.items()],
        )
    )


@app.command("show")
def show(run_id: str, output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """The leaderboard of an AutoML run, best first, and its data guardrails."""
    from trainyard.cli.runs import resolve_run_id
    from trainyard.compute.job import JobKind, recorded_job
    from trainyard.errors import InvalidInputError
    from trainyard.sdk.automl import AutoMLRun
    from trainyard.workspace import Workspace

    ws = Workspace.from_config()
    run = AutoMLRun(ws, resolve_run_id(ws, run_id))
    job = recorded_job(run.info)
    if job is None or job.type is not JobKind.AUTOML:
        raise InvalidInputError(f"run {run.id} is not an AutoML run; `trainyard run show {run.id}` shows it")
    board = run.get_leaderboard()
    info = run.refresh()  # one read for the tags and the status
    tags, status = info.tags, info.status.value
    metric = tags.get("automl.primary_metric", "")
    rails = run.get_metrics("data_guardrails").get("data_guardrails", {})
    if output == Format.json:
        print_json(
            {
                "run": run.id,
                "status": status,
                "primary_metric": metric,
                "best_run_id": tags.get("automl.best_run_id"),
                "model": tags.get("automl.model"),
                "leaderboard": board,
                "data_guardrails": rails,
            }
        )
        return
    for i, (name, state, detail) in enumerate(
        zip(*(rails.get(k, []) for k in ("guardrail", "status", "detail")), strict=True)
    ):
        if i == 0:
            console.print("[bold]Data guardrails[/]")
        console.print(f"  {name}: {state} - {detail}", highlight=False)
    rows = [
        [
            board["rank"][i] or "-",
            board["trial"][i],
            board["learner"][i],
            status_text(board["status"][i]),
            fmt_number(board[metric][i]) if board[metric][i] is not None else "-",
            f"{board['seconds'][i]:.2f}",
            board["run_id"][i][:12],
        ]
        for i in range(len(board["trial"]))
    ]
    console.print(
        table(
            f"AutoML {run.id[:12]} ({status}): {metric}",
            ["rank", "trial", "learner", "status", metric, "seconds", "run"],
            rows,
        )
    )
    if tags.get("automl.model"):
        console.print(f"best model: {tags['automl.model']} (saved under {run.id[:12]}/outputs/model)")
